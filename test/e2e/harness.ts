/**
 * The end-to-end sandbox for tests: both emulators in this process on free ports, `setup` run against them, and the
 * Worker under Wrangler's local dev server (local D1/R2/Durable Objects/Queues persisted to a temporary directory) with a generated
 * `--env-file`. Everything started here is stopped by `close()`.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { OpenPhoneEmulator } from "../../emulators/openphone/server.ts";
import { generateRoster, type RosterPerson, SANDBOX_ROSTER_SIZE, SANDBOX_SEED } from "../../emulators/shared/roster.ts";
import { retryAfterMs } from "../../src/retry/retry-after.ts";
import { ProcessGroup, waitForHttp } from "../../scripts/lib/processes.ts";
import { freePort } from "../../scripts/lib/sandbox-control.ts";
import { setUpSandboxSync, type SandboxSync, type SandboxWebhooks } from "../../scripts/lib/sandbox-sync.ts";

const root = path.resolve(import.meta.dirname, "..", "..");
export const E2E_OPENPHONE_KEY = "e2e-openphone-key";
export const E2E_NOTION_TOKEN = "e2e-notion-token";
export const E2E_ADMIN_TOKEN = "e2e-admin-token";

/** What the tests use of the emulators' in-process servers (`emulators/*\/server.ts`). */
interface RunningServer {
  url: string;
  close(): Promise<void>;
}
interface EmulatorModules {
  startOpenPhoneEmulator(options: { key: string; port?: number; config?: unknown }): Promise<RunningServer & { emulator: OpenPhoneEmulator }>;
  startNotionEmulator(options: { port?: number; token?: string; demoData?: boolean; config?: unknown }): Promise<RunningServer>;
}

async function loadEmulators(): Promise<EmulatorModules> {
  const openphone = path.join(root, "emulators", "openphone", "server.ts");
  const notion = path.join(root, "emulators", "notion", "server.ts");
  const [op, no] = await Promise.all([import(openphone), import(notion)]);
  return { startOpenPhoneEmulator: op.startOpenPhoneEmulator, startNotionEmulator: no.startNotionEmulator };
}

export interface E2EOptions {
  /** Extra Worker settings (override the defaults below). */
  workerSettings?: Record<string, string>;
  notionConfig?: unknown;
  openphoneConfig?: unknown;
  /** Which webhook systems `setup` registers (default `v1`). */
  webhooks?: SandboxWebhooks;
}

export interface E2ESandbox {
  workerUrl: string;
  openphoneUrl: string;
  notionUrl: string;
  /** The OpenPhone emulator's state, for what no API shows yet (e.g. a call's media files before they are ready). */
  openphoneEmulator: OpenPhoneEmulator;
  sync: SandboxSync;
  /** JSON from a control or API route, failing loudly on an error status. */
  json<T = unknown>(url: string, init?: RequestInit): Promise<T>;
  admin<T = unknown>(pathname: string, init?: RequestInit): Promise<T>;
  /** Renames a property of a Notion data source, as a person editing the database would. */
  renameProperty(dataSourceId: string, from: string, to: string): Promise<void>;
  workerLogs(): string[];
  /** Kills the Worker's whole process group (SIGKILL: no clean shutdown) and starts it again on the same state. */
  restartWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function startE2ESandbox(options: E2EOptions = {}): Promise<E2ESandbox> {
  const { startOpenPhoneEmulator, startNotionEmulator } = await loadEmulators();
  const group = new ProcessGroup();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "sync-e2e-"));
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    await group.stopAll();
    for (const c of closers.reverse()) await c().catch(() => undefined);
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    const openphone = await startOpenPhoneEmulator({ key: E2E_OPENPHONE_KEY, port: 0, config: options.openphoneConfig });
    closers.push(() => openphone.close());
    const notion = await startNotionEmulator({ port: 0, token: E2E_NOTION_TOKEN, demoData: true, config: options.notionConfig });
    closers.push(() => notion.close());
    const port = await freePort();
    const workerUrl = `http://127.0.0.1:${port}`;
    const sync = await setUpSandboxSync({ notionUrl: notion.url, notionToken: E2E_NOTION_TOKEN, openphoneUrl: openphone.url, openphoneKey: E2E_OPENPHONE_KEY, workerUrl, webhooks: options.webhooks });

    const settings: Record<string, string> = {
      OPENPHONE_API_KEY: E2E_OPENPHONE_KEY,
      NOTION_TOKEN: E2E_NOTION_TOKEN,
      ADMIN_TOKEN: E2E_ADMIN_TOKEN,
      OPENPHONE_API_BASE: openphone.url,
      NOTION_API_BASE: notion.url,
      PUBLIC_BASE_URL: workerUrl,
      MEDIA_SIGNING_KEYS: randomBytes(32).toString("base64url"),
      COALESCE_MS: "2000",
      // Off so request counts start at zero; test/e2e/doctor.e2e.test.ts turns it on.
      DOCTOR_AT_START: "false",
      ...sync.settings,
      ...options.workerSettings,
    };
    const envFile = path.join(stateDir, "e2e.env");
    fs.writeFileSync(envFile, Object.entries(settings).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n") + "\n", { mode: 0o600 });
    const childEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" };
    const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
    await group.run("migrations", wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], { cwd: root, env: childEnv });
    const startWorker = async () => {
      // The Worker as `wrangler dev --local` runs it, without the devtools inspector (see scripts/dev-worker.ts).
      const started = group.spawn(
        "worker",
        path.join(root, "node_modules", ".bin", "tsx"),
        ["scripts/dev-worker.ts", "--port", String(port), "--persist-to", stateDir, "--env-file", envFile],
        // E2E_WORKER_LOG=<file> keeps the Worker's whole log, for looking into a failed run.
        { cwd: root, env: childEnv, quiet: true, logFile: process.env.E2E_WORKER_LOG },
      );
      await waitForHttp(`${workerUrl}/health`, 90_000, group);
      return started;
    };
    let worker = await startWorker();

    // The tests look at the emulators with the product's own tokens, so they share its rate limit: like any client,
    // they wait out a 429's Retry-After (a few times at most) instead of failing on the product's own traffic.
    const json = async <T>(url: string, init?: RequestInit): Promise<T> => {
      let response: Response;
      for (let attempt = 1; ; attempt++) {
        response = await fetch(url, { ...init, headers: { "Content-Type": "application/json", ...(init?.headers as Record<string, string>) } });
        const waitMs = retryAfterMs(response.headers.get("retry-after"));
        if (response.status !== 429 || attempt === 5 || !(waitMs !== undefined && waitMs > 0)) break;
        await response.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 10_000)));
      }
      const text = await response.text();
      if (!response.ok) throw new Error(`${init?.method ?? "GET"} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
      return (text ? JSON.parse(text) : undefined) as T;
    };
    return {
      workerUrl,
      openphoneUrl: openphone.url,
      notionUrl: notion.url,
      openphoneEmulator: openphone.emulator,
      sync,
      json,
      admin: (pathname, init) => json(`${workerUrl}${pathname}`, { ...init, headers: { Authorization: `Bearer ${E2E_ADMIN_TOKEN}`, ...(init?.headers as Record<string, string>) } }),
      renameProperty: async (dataSourceId, from, to) => {
        await json(`${notion.url}/v1/data_sources/${dataSourceId}`, {
          method: "PATCH",
          headers: { Authorization: `Bearer ${E2E_NOTION_TOKEN}`, "Notion-Version": "2025-09-03" },
          body: JSON.stringify({ properties: { [from]: { name: to } } }),
        });
      },
      workerLogs: () => worker.output,
      restartWorker: async () => {
        await group.kill(worker, "SIGKILL");
        worker = await startWorker();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A page as `GET /_emulator/dump` shows it. */
export interface DumpedPage {
  id: string;
  parent: { data_source_id?: string };
  properties: Record<string, Record<string, unknown> & { type: string }>;
  content: (Record<string, unknown> & { type: string })[];
  in_trash?: boolean;
  archived?: boolean;
}

export async function notionPages(sandbox: E2ESandbox, dataSourceId: string): Promise<DumpedPage[]> {
  const dump = await sandbox.json<{ pages: DumpedPage[] }>(`${sandbox.notionUrl}/_emulator/dump`);
  return dump.pages.filter((p) => p.parent.data_source_id === dataSourceId && !p.in_trash && !p.archived);
}

/** The plain text of a title or rich_text property. */
export function plainText(property: Record<string, unknown> | undefined): string {
  const items = (property?.title ?? property?.rich_text ?? []) as { plain_text?: string; text?: { content: string } }[];
  return items.map((i) => i.plain_text ?? i.text?.content ?? "").join("");
}

export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last instanceof Error ? last.message : String(last)})` : ""}`);
}

/**
 * The sandbox's people: the whole roster (every one an OpenPhone contact), the Canvas customers among them in the demo
 * Canvas's order, and those only OpenPhone knows.
 */
export async function sandboxPeople(sandbox: E2ESandbox): Promise<{ roster: RosterPerson[]; customers: RosterPerson[]; contactsOnly: RosterPerson[] }> {
  const workspace = await sandbox.json<{ canvasRosterIndexes: number[] }>(`${sandbox.notionUrl}/_emulator/workspace`);
  const roster = generateRoster(SANDBOX_SEED, SANDBOX_ROSTER_SIZE);
  const inCanvas = new Set(workspace.canvasRosterIndexes);
  return { roster, customers: workspace.canvasRosterIndexes.map((i) => roster[i]!), contactsOnly: roster.filter((p) => !inCanvas.has(p.index)) };
}
