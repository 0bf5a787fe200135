/**
 * The Notion emulator for the workers tests that need Notion's own behaviour (writes applied though answered 5xx,
 * queries that lag behind writes), served on loopback with the Messages and Calls databases set up. Its clock can be
 * pinned (`POST {"now": ms}` to the clock URL, `{"now": null}` to follow real time again), so a test of waits measured
 * in minutes moves time instead of sleeping.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { startNotionEmulator } from "../emulators/notion/server.ts";
import { setupNotionDatabases } from "../scripts/lib/setup.ts";
import type {} from "./notion-emulator-context.ts";

export const NOTION_EMULATOR_TOKEN = "workers-test-notion-token";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let pinned: number | null = null;
  const emulator = await startNotionEmulator({ port: 0, token: NOTION_EMULATOR_TOKEN, now: () => pinned ?? Date.now(), config: { rateLimit: { perSecond: 100_000, burst: 100_000 } } });
  const databases = await setupNotionDatabases({ token: NOTION_EMULATOR_TOKEN, baseUrl: emulator.url, parentPageId: emulator.rootPageId });
  const clock = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString() || "{}") as { now?: unknown };
    if (req.method !== "POST" || !(body.now === null || typeof body.now === "number")) {
      res.writeHead(400).end('expected POST {"now": ms | null}');
      return;
    }
    pinned = body.now;
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => clock.listen(0, "127.0.0.1", resolve));
  project.provide("notionEmulator", {
    url: emulator.url,
    token: NOTION_EMULATOR_TOKEN,
    clockUrl: `http://127.0.0.1:${(clock.address() as AddressInfo).port}`,
    messagesDataSourceId: databases.messages.dataSourceId,
    callsDataSourceId: databases.calls.dataSourceId,
  });
  return async () => {
    await new Promise<void>((resolve) => clock.close(() => resolve()));
    await emulator.close();
  };
}
