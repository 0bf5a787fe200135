/**
 * The sync's part of the sandbox: once both emulators answer, run `setup` against the Notion emulator (databases
 * under its root page, related to its demo Canvas) and register the webhooks with the OpenPhone emulator, then
 * hand the Worker the ids, signing keys and Canvas/Mail settings that go with them. The end-to-end tests use the
 * same function.
 */
import { demoWorkerSettings } from "../../emulators/notion/demo-data.ts";
import { registerQuoWebhook } from "./quo-webhooks.ts";
import { describeNotionSetup, type NotionSetupResult, registerOpenPhoneWebhooks, setupNotionDatabases } from "./setup.ts";

/** Which webhook systems the sandbox registers: legacy `/v1/webhooks`, the 2026-03-30 `/webhooks`, or both. */
export type SandboxWebhooks = "v1" | "quo" | "both";

export interface NotionEmulatorWorkspace {
  rootPageId: string;
  canvas?: { databaseId: string; dataSourceId: string };
  mail?: { databaseId: string; dataSourceId: string };
}

/** The ids the Notion emulator reports at `GET /_emulator/workspace` (root page, demo Canvas and Mail). */
export async function readNotionEmulatorWorkspace(notionUrl: string): Promise<NotionEmulatorWorkspace> {
  const response = await fetch(`${notionUrl}/_emulator/workspace`);
  if (!response.ok) throw new Error(`the Notion emulator's workspace answered ${response.status}`);
  return (await response.json()) as NotionEmulatorWorkspace;
}

export interface SandboxSyncOptions {
  notionUrl: string;
  notionToken: string;
  openphoneUrl: string;
  openphoneKey: string;
  workerUrl: string;
  /** The Calls and Messages databases of an earlier run (a persisted sandbox): extended, not created again. */
  callsDatabaseId?: string;
  messagesDatabaseId?: string;
  /** Default `v1`. */
  webhooks?: SandboxWebhooks;
}

export interface SandboxSync {
  settings: Record<string, string>;
  notion: NotionSetupResult;
  workspace: NotionEmulatorWorkspace;
  report: string[];
}

export async function setUpSandboxSync(options: SandboxSyncOptions): Promise<SandboxSync> {
  const workspace = await readNotionEmulatorWorkspace(options.notionUrl);
  const notion = await setupNotionDatabases({
    token: options.notionToken,
    baseUrl: options.notionUrl,
    parentPageId: workspace.rootPageId,
    canvasDatabaseId: workspace.canvas?.databaseId,
    callsDatabaseId: options.callsDatabaseId,
    messagesDatabaseId: options.messagesDatabaseId,
  });
  const systems = options.webhooks ?? "v1";
  const url = `${options.workerUrl}/webhooks/openphone`;
  const api = { apiKey: options.openphoneKey, baseUrl: options.openphoneUrl };
  const webhooks = systems === "quo" ? [] : await registerOpenPhoneWebhooks({ ...api, url, label: "sandbox" });
  const quo = systems === "v1" ? undefined : await registerQuoWebhook({ ...api, url, label: "sandbox" });
  const settings: Record<string, string> = {
    NOTION_CALLS_DATABASE_ID: notion.calls.databaseId,
    NOTION_MESSAGES_DATABASE_ID: notion.messages.databaseId,
  };
  if (webhooks.length > 0) settings.OPENPHONE_WEBHOOK_KEYS = webhooks.map((w) => w.key).join(",");
  if (quo) settings.QUO_WEBHOOK_SECRETS = quo.key;
  Object.assign(settings, demoWorkerSettings(workspace));
  const report = [
    ...describeNotionSetup(notion),
    ...webhooks.map((w) => `${w.reused ? "=" : "+"} webhook ${w.id} for ${w.events.join(", ")}`),
    ...(quo ? [`${quo.outcome === "created" ? "+" : "~"} 2026-03-30 webhook ${quo.id} for ${quo.events.length} event types`] : []),
  ];
  return { settings, notion, workspace, report };
}

/** Starts the OpenPhone emulator's simulated calls and texts. */
export async function startSandboxTraffic(openphoneUrl: string, rates = { callsPerMinute: 3, messagesPerMinute: 6 }): Promise<void> {
  const response = await fetch(`${openphoneUrl}/_emulator/traffic`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(rates) });
  if (!response.ok) throw new Error(`the OpenPhone emulator refused to start traffic: ${response.status} ${await response.text()}`);
}
