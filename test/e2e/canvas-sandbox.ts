/**
 * What the Canvas end-to-end test runs on: the Notion emulator with its demo Canvas and Mail, and the product's
 * Canvas modules inside workerd (Miniflare: real D1 and Durable Objects), bundled from `test/fixtures/canvas-worker.ts`
 * with wrangler. Everything listens on 127.0.0.1, on free ports.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { Client, LogLevel } from "@notionhq/client";
import { Miniflare } from "miniflare";
import { demoWorkerSettings } from "../../emulators/notion/demo-data.ts";
import { startNotionEmulator, type NotionEmulator } from "../../emulators/notion/server.ts";

const root = path.resolve(import.meta.dirname, "..", "..");
export const NOTION_TOKEN = "canvas-e2e-notion-token";

export interface NotionRateLimit {
  perSecond: number;
  burst: number;
}

export interface CanvasSandbox {
  notion: NotionEmulator;
  /** The official SDK pointed at the emulator, for the test's own edits (a person typing in Notion). */
  sdk: Client;
  mf: Miniflare;
  db: Awaited<ReturnType<Miniflare["getD1Database"]>>;
  call<T>(route: string, body?: unknown): Promise<T>;
  /** Requests the emulator has answered so far (every operation, every status). */
  notionRequests(): Promise<number>;
  /** The emulator's rate limit per token; setting it refills the bucket. */
  notionRateLimit(): Promise<NotionRateLimit>;
  setNotionRateLimit(limit: NotionRateLimit): Promise<void>;
  close(): Promise<void>;
}

async function bundleWorker(): Promise<{ dir: string; script: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "canvas-e2e-"));
  await promisify(execFile)("npx", ["wrangler", "deploy", "--dry-run", "--outdir", dir, "test/fixtures/canvas-worker.ts"], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  return { dir, script: path.join(dir, "canvas-worker.js") };
}

export async function startCanvasSandbox(settings: Record<string, string> = {}): Promise<CanvasSandbox> {
  // The emulator's own limit sits above the product's gate (3/s), so 429s come only from a gate that fails.
  const notion = await startNotionEmulator({ port: 0, token: NOTION_TOKEN, demoData: true, config: { rateLimit: { perSecond: 10, burst: 20 } } });
  const bundle = await bundleWorker();
  const demo = notion.demo!;
  const mf = new Miniflare({
    modules: true,
    scriptPath: bundle.script,
    modulesRoot: bundle.dir,
    compatibilityDate: "2026-04-26",
    compatibilityFlags: ["nodejs_compat"],
    host: "127.0.0.1",
    port: 0,
    bindings: {
      NOTION_TOKEN,
      NOTION_API_BASE: notion.url,
      ...demoWorkerSettings(demo),
      DEFAULT_REGION: "US",
      NOTION_RATE_PER_SECOND: "3",
      NOTION_BURST: "3",
      LOG_LEVEL: "warn",
      ...settings,
    },
    d1Databases: { DB: "canvas-e2e" },
    kvNamespaces: ["FLAGS"],
    durableObjects: {
      GATE: { className: "GateDurableObject", useSQLite: true },
      CANVAS_INDEX: { className: "CanvasIndexDurableObject", useSQLite: true },
      LINE: { className: "LineDurableObject", useSQLite: true },
    },
  });
  await mf.ready;
  const db = await mf.getD1Database("DB");
  for (const migration of await readD1Migrations(path.join(root, "migrations"))) {
    for (const query of migration.queries) await db.prepare(query).run();
  }
  const sdk = new Client({ auth: NOTION_TOKEN, baseUrl: notion.url, logLevel: LogLevel.ERROR });
  return {
    notion,
    sdk,
    mf,
    db,
    async call<T>(route: string, body?: unknown): Promise<T> {
      const response = await mf.dispatchFetch(`http://canvas.test${route}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
      const text = await response.text();
      if (!response.ok) throw new Error(`${route} → ${response.status}: ${text.slice(0, 500)}`);
      return JSON.parse(text) as T;
    },
    async notionRequests() {
      const stats = (await (await fetch(`${notion.url}/_emulator/stats`)).json()) as { requests: { total: number } };
      return stats.requests.total;
    },
    async notionRateLimit() {
      const config = (await (await fetch(`${notion.url}/_emulator/config`)).json()) as { rateLimit: NotionRateLimit };
      return config.rateLimit;
    },
    async setNotionRateLimit(rateLimit) {
      const response = await fetch(`${notion.url}/_emulator/config`, { method: "PUT", body: JSON.stringify({ rateLimit }) });
      if (!response.ok) throw new Error(`PUT /_emulator/config → ${response.status}: ${await response.text()}`);
    },
    async close() {
      await mf.dispose();
      await notion.close();
      fs.rmSync(bundle.dir, { recursive: true, force: true });
    },
  };
}
