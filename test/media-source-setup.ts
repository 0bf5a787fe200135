/** Vitest global setup for the workers project: starts the test media source and hands its URL to the tests. */
import type { TestProject } from "vitest/node";
import { startMediaSourceServer } from "./media-source-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    mediaSourceBase: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startMediaSourceServer();
  project.provide("mediaSourceBase", server.url);
  return () => server.close();
}
