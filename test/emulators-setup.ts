/**
 * The Notion and OpenPhone emulators for the workers tests, served on loopback: the same fakes the sandbox and the
 * end-to-end tests use, so each API's behaviour is written once. The Notion emulator gets the Messages and Calls
 * databases set up. Its clock can be pinned (`POST {"now": ms}` to the clock URL, `{"now": null}` to follow real time
 * again), so a test of waits measured in minutes moves time instead of sleeping. vitest.config.ts hands their URLs,
 * key, token and database ids to the Worker as bindings; tests script failures through the emulators' control routes.
 * Each workers project runs this setup for itself, so each has emulators of its own.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { startNotionEmulator } from "../emulators/notion/server.ts";
import { startOpenPhoneEmulator } from "../emulators/openphone/server.ts";
import { setupNotionDatabases } from "../scripts/lib/setup.ts";
import type {} from "./emulators-context.ts";

export const NOTION_EMULATOR_TOKEN = "workers-test-notion-token";
export const OPENPHONE_EMULATOR_KEY = "workers-test-openphone-key";
export const OPENPHONE_EMULATOR_LINES = 40;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let pinned: number | null = null;
  const notion = await startNotionEmulator({ port: 0, token: NOTION_EMULATOR_TOKEN, now: () => pinned ?? Date.now(), config: { rateLimit: { perSecond: 100_000, burst: 100_000 } } });
  const databases = await setupNotionDatabases({ token: NOTION_EMULATOR_TOKEN, baseUrl: notion.url, parentPageId: notion.rootPageId });
  // Lines enough for each Line Durable Object test to have its own (test/integration/emulators.ts hands them out), no
  // rate limit, and a call's recording, transcript and summary ready as soon as it ends (a test holds one back).
  const openphone = await startOpenPhoneEmulator({ port: 0, key: OPENPHONE_EMULATOR_KEY, lines: OPENPHONE_EMULATOR_LINES, config: { rateLimitPerSecond: 0, eventGapsMs: { recording: 0, transcript: 0, summary: 0 } } });
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
    url: notion.url,
    token: NOTION_EMULATOR_TOKEN,
    clockUrl: `http://127.0.0.1:${(clock.address() as AddressInfo).port}`,
    callsDatabaseId: databases.calls.databaseId,
    messagesDatabaseId: databases.messages.databaseId,
    messagesDataSourceId: databases.messages.dataSourceId,
    callsDataSourceId: databases.calls.dataSourceId,
  });
  project.provide("openphoneEmulator", { url: openphone.url, key: OPENPHONE_EMULATOR_KEY });
  return async () => {
    await new Promise<void>((resolve) => clock.close(() => resolve()));
    await openphone.close();
    await notion.close();
  };
}
