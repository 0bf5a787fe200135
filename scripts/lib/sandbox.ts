/**
 * What the sandbox starts besides the Worker, and the configuration it gives the Worker. Each part starts only when it
 * exists in this checkout, so `npm start` always runs whatever the product has.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ProcessGroup, waitForHttp } from "./processes.ts";
import { demoWorkerSettings } from "../../emulators/notion/demo-data.ts";
import { readNotionEmulatorWorkspace, setUpSandboxSync, startSandboxTraffic, type SandboxWebhooks } from "./sandbox-sync.ts";

export const SANDBOX_OPENPHONE_KEY = "sandbox-openphone-key";
export const SANDBOX_NOTION_TOKEN = "sandbox-notion-token";
export const SANDBOX_ADMIN_TOKEN = "sandbox-admin-token";

export interface SandboxOptions {
  root: string;
  stateDir: string;
  workerUrl: string;
  openphonePort: number;
  notionPort: number;
  group: ProcessGroup;
  env: NodeJS.ProcessEnv;
  /** Keep both emulators' state in `stateDir` (`--persist`), so their ids go on where they stopped. */
  persistEmulators?: boolean;
  /** Which webhook systems to register (`--webhooks`, default `v1`). */
  webhooks?: SandboxWebhooks;
}

/** Where `--persist` keeps each emulator's state, beside the Worker's. */
export function emulatorStateFile(stateDir: string, emulator: "openphone" | "notion"): string {
  return path.join(stateDir, `${emulator}-emulator.json`);
}

export interface SandboxPlan {
  /** Settings (vars and secrets) the Worker runs with. */
  workerSettings: Record<string, string>;
  /** Extra URLs to print. */
  urls: [string, string][];
  /** Steps to run once the Worker answers. */
  afterWorkerStarts: (() => Promise<void>)[];
  /** Steps that start simulated traffic (skipped with --no-traffic). */
  startTraffic: (() => Promise<void>)[];
}

export async function prepareSandbox(options: SandboxOptions): Promise<SandboxPlan> {
  const { root, group, env } = options;
  const tsx = path.join(root, "node_modules", ".bin", "tsx");
  const openphoneUrl = `http://127.0.0.1:${options.openphonePort}`;
  const notionUrl = `http://127.0.0.1:${options.notionPort}`;
  const plan: SandboxPlan = {
    workerSettings: {
      OPENPHONE_API_KEY: SANDBOX_OPENPHONE_KEY,
      NOTION_TOKEN: SANDBOX_NOTION_TOKEN,
      OPENPHONE_API_BASE: openphoneUrl,
      NOTION_API_BASE: notionUrl,
      // Replaced by the key the OpenPhone emulator returns when the webhook is registered.
      OPENPHONE_WEBHOOK_KEYS: randomBytes(32).toString("base64"),
    },
    urls: [],
    afterWorkerStarts: [],
    startTraffic: [],
  };

  const openphoneMain = path.join(root, "emulators", "openphone", "main.ts");
  if (fs.existsSync(openphoneMain)) {
    const state = options.persistEmulators ? ["--state", emulatorStateFile(options.stateDir, "openphone")] : [];
    group.spawn("openphone", tsx, [openphoneMain, "--port", String(options.openphonePort), "--key", SANDBOX_OPENPHONE_KEY, ...state], { cwd: root, env });
    await waitForHttp(`${openphoneUrl}/_emulator/stats`, 30_000, group);
    plan.urls.push(["OpenPhone emul.", openphoneUrl]);
  }

  const notionMain = path.join(root, "emulators", "notion", "main.ts");
  const notionRestored = fs.existsSync(emulatorStateFile(options.stateDir, "notion"));
  if (fs.existsSync(notionMain)) {
    const state = options.persistEmulators ? ["--state", emulatorStateFile(options.stateDir, "notion")] : [];
    group.spawn("notion", tsx, [notionMain, "--port", String(options.notionPort), "--token", SANDBOX_NOTION_TOKEN, "--demo-data", ...state], { cwd: root, env });
    await waitForHttp(`${notionUrl}/_emulator/stats`, 30_000, group);
    plan.urls.push(["Notion viewer", `${notionUrl}/`]);
    // The demo workspace's own Canvas (customers) and Mail databases, and where their phones and addresses are.
    Object.assign(plan.workerSettings, demoWorkerSettings(await readNotionEmulatorWorkspace(notionUrl)));
  }

  if (fs.existsSync(openphoneMain) && fs.existsSync(notionMain)) {
    // Notion databases from the schema, webhooks registered for the Worker, and the settings that go with them.
    // A persisted sandbox extends the databases of its earlier runs, so the pages it remembers stay where they are.
    const databasesFile = path.join(options.stateDir, "sandbox-databases.json");
    const earlier = options.persistEmulators && notionRestored && fs.existsSync(databasesFile) ? (JSON.parse(fs.readFileSync(databasesFile, "utf8")) as { callsDatabaseId: string; messagesDatabaseId: string }) : undefined;
    const sync = await setUpSandboxSync({ notionUrl, notionToken: SANDBOX_NOTION_TOKEN, openphoneUrl, openphoneKey: SANDBOX_OPENPHONE_KEY, workerUrl: options.workerUrl, webhooks: options.webhooks, ...earlier });
    if (options.persistEmulators) fs.writeFileSync(databasesFile, JSON.stringify({ callsDatabaseId: sync.notion.calls.databaseId, messagesDatabaseId: sync.notion.messages.databaseId }));
    for (const line of sync.report) console.log(`  setup: ${line}`);
    Object.assign(plan.workerSettings, sync.settings);
    plan.startTraffic.push(() => startSandboxTraffic(openphoneUrl));
  }

  return plan;
}
