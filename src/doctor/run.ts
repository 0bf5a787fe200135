/**
 * The doctor inside the Worker: reads the settings, retrieves each configured Notion database (through the shared
 * Notion gate, like every other request), lists the OpenPhone lines and webhooks, and hands what it found to the pure
 * checks in `checks.ts`. About eight requests in all.
 *
 * Bounded: each request times out after REQUEST_TIMEOUT_MS, waits at most GATE_WAIT_MS for a permit, and the whole
 * run stops at RUN_DEADLINE_MS (a check still running then is reported as not finished). A check that could not reach
 * its API is a problem too, but an inconclusive one: it leaves the recorded schema problems alone. A conclusive
 * Calls or Messages check records what it found in `schema_problems` and resolves what it no longer finds.
 */
import { APIErrorCode, APIResponseError, Client, LogLevel, RequestTimeoutError } from "@notionhq/client";
import { type Config, getConfig } from "../config";
import { reconcileSchemaProblems, type SchemaFindings } from "../db/schema-problems";
import { reportFlags, type FlagReport } from "../flags/flags";
import { createGatedFetch, GateClosedError } from "../gates/gated-fetch";
import type { DatabaseKind } from "../notion/schema";
import { isOpenPhoneError, OpenPhoneClient } from "../openphone/client";
import { type CanvasTarget, canvasProblems, databaseProblems, mailProblems, type NotionProperties, settingsProblems, type QuoWebhookRegistration, type WebhookRegistration, webhookProblems } from "./checks";
import { type DoctorCheck, type DoctorCheckName, type DoctorProblem, doctorReport, type DoctorReport } from "./report";

export const REQUEST_TIMEOUT_MS = 8_000;
export const GATE_WAIT_MS = 5_000;
export const RUN_DEADLINE_MS = 25_000;

export interface DoctorOptions {
  /** The origin the doctor was asked on: this Worker's URL when PUBLIC_BASE_URL is not set. */
  origin?: string;
}

type DoctorEnv = Pick<Env, "GATE" | "DB" | "FLAGS">;

class DeadlineError extends Error {}

/** Runs `fn`, giving up when the deadline passes (the promise is left to settle on its own). */
function beforeDeadline<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new DeadlineError());
  let timer: ReturnType<typeof setTimeout> | null = null;
  return Promise.race([
    fn(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError()), remaining);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** What a failed request means for the doctor, and whether it says anything about the configuration. */
interface Failure {
  problem: string;
  fix: string;
  /** True when the answer is about the configuration (401, 404, 403, 400); false when the API could not be asked. */
  conclusive: boolean;
}

function notionFailure(error: unknown, setting: string): Failure {
  if (error instanceof DeadlineError) return { problem: `the check did not finish within ${RUN_DEADLINE_MS / 1000} s`, fix: "Notion is slow or paused; run the doctor again", conclusive: false };
  if (error instanceof GateClosedError) return { problem: `the sync has paused its Notion requests (${error.reason})`, fix: "GET /admin/stats shows the Notion gate; run the doctor again when it has reopened", conclusive: false };
  if (error instanceof RequestTimeoutError || (error instanceof Error && error.name === "TimeoutError")) {
    return { problem: `Notion did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`, fix: "check https://status.notion.so and NOTION_API_BASE, then run the doctor again", conclusive: false };
  }
  if (error instanceof APIResponseError) {
    const said = `Notion ${error.status} ${error.code}: ${error.message}`;
    switch (error.code) {
      case APIErrorCode.Unauthorized:
        return { problem: `Notion refused NOTION_TOKEN (${said})`, fix: "copy the integration's secret again (notion.so/profile/integrations) and run `npx wrangler secret put NOTION_TOKEN`", conclusive: true };
      case APIErrorCode.ObjectNotFound:
        return { problem: `not found, or not shared with the integration (${said})`, fix: `open the database in Notion → ••• → Connections → add the integration; or correct ${setting}`, conclusive: true };
      case APIErrorCode.RestrictedResource:
        return { problem: `the integration may not read it (${said})`, fix: "give the integration the read, update and insert content capabilities (notion.so/profile/integrations)", conclusive: true };
      case APIErrorCode.ValidationError:
      case APIErrorCode.InvalidRequest:
      case APIErrorCode.InvalidRequestURL:
        return { problem: said, fix: `correct ${setting}`, conclusive: true };
      default:
        return { problem: said, fix: "a Notion outage or rate limit: run the doctor again shortly", conclusive: false };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { problem: `cannot reach Notion: ${message}`, fix: "check NOTION_API_BASE and the network; run the doctor again", conclusive: false };
}

function openPhoneFailure(error: unknown): Failure {
  if (error instanceof DeadlineError) return { problem: `the check did not finish within ${RUN_DEADLINE_MS / 1000} s`, fix: "OpenPhone is slow or paused; run the doctor again", conclusive: false };
  if (error instanceof GateClosedError) return { problem: `the sync has paused its OpenPhone requests (${error.reason})`, fix: "GET /admin/stats shows the OpenPhone gate; run the doctor again when it has reopened", conclusive: false };
  if (isOpenPhoneError(error) && (error.code === "unauthorized" || error.code === "forbidden")) {
    return { problem: `OpenPhone refused OPENPHONE_API_KEY (${error.message})`, fix: "create a key in OpenPhone (Settings → API) and run `npx wrangler secret put OPENPHONE_API_KEY`", conclusive: true };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (isOpenPhoneError(error) && error.code === "network_error") return { problem: `cannot reach OpenPhone: ${message}`, fix: "check OPENPHONE_API_BASE and the network; run the doctor again", conclusive: false };
  return { problem: message, fix: "an OpenPhone outage or rate limit: run the doctor again shortly", conclusive: false };
}

interface Retrieved {
  properties: NotionProperties;
  databaseId: string;
  dataSourceId?: string;
}

/**
 * A database's properties: on 2025-09-03 from its first data source (the one the sync writes to), on 2022-06-28
 * from the database. Canvas and Mail also accept a data source id where the database id was expected.
 */
async function retrieveProperties(client: Client, config: Config, databaseId: string, acceptDataSourceId: boolean): Promise<Retrieved> {
  if (config.NOTION_VERSION === "2022-06-28") {
    const database = (await client.databases.retrieve({ database_id: databaseId })) as unknown as { properties: NotionProperties };
    return { properties: database.properties, databaseId };
  }
  let dataSourceId: string | undefined;
  try {
    const database = (await client.databases.retrieve({ database_id: databaseId })) as { data_sources?: { id: string }[] };
    dataSourceId = database.data_sources?.[0]?.id;
    if (!dataSourceId) throw new Error(`Notion database ${databaseId} has no data source`);
  } catch (error) {
    if (!acceptDataSourceId || !(error instanceof APIResponseError) || error.code !== APIErrorCode.ObjectNotFound) throw error;
    dataSourceId = databaseId;
  }
  const source = (await client.dataSources.retrieve({ data_source_id: dataSourceId })) as unknown as { properties: NotionProperties; parent?: { database_id?: string } };
  return { properties: source.properties, databaseId: source.parent?.database_id ?? databaseId, dataSourceId };
}

function check(name: DoctorCheckName, startedAt: number, summary: string, problems: DoctorProblem[], status?: DoctorCheck["status"]): DoctorCheck {
  return { name, status: status ?? (problems.length > 0 ? "problem" : "ok"), summary, problems, durationMs: Date.now() - startedAt };
}

const skipped = (name: DoctorCheckName, summary: string): DoctorCheck => ({ name, status: "skipped", summary, problems: [], durationMs: 0 });

const DATABASE_SETTINGS: Record<DatabaseKind, "NOTION_CALLS_DATABASE_ID" | "NOTION_MESSAGES_DATABASE_ID"> = { calls: "NOTION_CALLS_DATABASE_ID", messages: "NOTION_MESSAGES_DATABASE_ID" };
const TITLES: Record<DatabaseKind, string> = { calls: "Calls", messages: "Messages" };

async function checkSyncDatabase(env: DoctorEnv, client: Client, config: Config, kind: DatabaseKind, canvas: CanvasTarget, deadline: number): Promise<DoctorCheck> {
  const startedAt = Date.now();
  const setting = DATABASE_SETTINGS[kind];
  const databaseId = config[setting];
  if (!databaseId) return skipped(kind, `${setting} is not set`);
  let findings: SchemaFindings;
  let result: DoctorCheck;
  try {
    const { properties } = await beforeDeadline(deadline, () => retrieveProperties(client, config, databaseId, false));
    const problems = databaseProblems(kind, properties, config, canvas);
    const count = Object.keys(properties).length;
    result = check(kind, startedAt, `reached; ${count} properties, compared with the ${kind} schema`, problems);
    findings = { database: kind, scope: "properties", problems: problems.map((p) => ({ database: kind, property: p.property ?? "", message: `${p.problem}. Fix: ${p.fix}` })) };
  } catch (error) {
    const failure = notionFailure(error, setting);
    result = check(kind, startedAt, failure.conclusive ? "refused" : "could not be checked", [{ check: kind, subject: `${TITLES[kind]} database (${setting})`, problem: failure.problem, fix: failure.fix }]);
    if (!failure.conclusive) return result;
    findings = { database: kind, scope: "access", problems: [{ database: kind, property: "", message: `${failure.problem}. Fix: ${failure.fix}` }] };
  }
  try {
    const resolved = await beforeDeadline(deadline, () => reconcileSchemaProblems(env.DB, findings));
    if (resolved > 0) result.summary += `; ${resolved} earlier problem(s) no longer found, cleared from /health`;
  } catch (error) {
    result.problems.push({ check: kind, subject: "D1 schema_problems", problem: `could not record what was found: ${error instanceof Error ? error.message : String(error)}`, fix: "check /health (d1) and the migrations" });
    result.status = "problem";
  }
  return result;
}

async function checkUserDatabase(
  client: Client,
  config: Config,
  name: "canvas" | "mail",
  deadline: number,
  judge: (properties: NotionProperties) => DoctorProblem[],
): Promise<{ check: DoctorCheck; retrieved?: Retrieved }> {
  const startedAt = Date.now();
  const setting = name === "canvas" ? "NOTION_CANVAS_DATABASE_ID" : "NOTION_MAIL_DATABASE_ID";
  const databaseId = config[setting];
  if (!databaseId) return { check: skipped(name, `${setting} is not set${name === "canvas" ? ": calls and texts are not matched to customers" : ": mail is not linked"}`) };
  try {
    const retrieved = await beforeDeadline(deadline, () => retrieveProperties(client, config, databaseId, true));
    const problems = judge(retrieved.properties);
    return { check: check(name, startedAt, `reached; ${Object.keys(retrieved.properties).length} properties, compared with its settings`, problems), retrieved };
  } catch (error) {
    const failure = notionFailure(error, setting);
    return { check: check(name, startedAt, "could not be checked", [{ check: name, subject: `${name === "canvas" ? "Canvas" : "Mail"} database (${setting})`, problem: failure.problem, fix: failure.fix }]) };
  }
}

async function checkNotion(env: DoctorEnv, config: Config, deadline: number): Promise<DoctorCheck[]> {
  if (!config.NOTION_TOKEN) return (["calls", "messages", "canvas", "mail"] as const).map((n) => skipped(n, "NOTION_TOKEN is not set"));
  const client = new Client({
    auth: config.NOTION_TOKEN,
    baseUrl: config.NOTION_API_BASE,
    notionVersion: config.NOTION_VERSION,
    fetch: createGatedFetch({ api: "notion", gate: env.GATE, config, maxWaitMs: GATE_WAIT_MS, maxRateLimitRetries: 1, timeoutMs: REQUEST_TIMEOUT_MS }),
    retry: false,
    logLevel: LogLevel.ERROR,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  // The Canvas first: the relations of the other databases must point at it.
  const canvas = await checkUserDatabase(client, config, "canvas", deadline, (p) => canvasProblems(p, config));
  const target: CanvasTarget = canvas.retrieved ? { databaseId: canvas.retrieved.databaseId, dataSourceId: canvas.retrieved.dataSourceId } : {};
  const [calls, messages, mail] = await Promise.all([
    checkSyncDatabase(env, client, config, "calls", target, deadline),
    checkSyncDatabase(env, client, config, "messages", target, deadline),
    checkUserDatabase(client, config, "mail", deadline, (p) => mailProblems(p, config, target)),
  ]);
  return [calls, messages, canvas.check, mail.check];
}

async function checkOpenPhone(env: DoctorEnv, config: Config, origin: string | undefined, deadline: number): Promise<DoctorCheck[]> {
  if (!config.OPENPHONE_API_KEY) return [skipped("openphone", "OPENPHONE_API_KEY is not set"), skipped("webhooks", "OPENPHONE_API_KEY is not set")];
  const client = new OpenPhoneClient({
    apiKey: config.OPENPHONE_API_KEY,
    baseUrl: config.OPENPHONE_API_BASE,
    fetch: createGatedFetch({ api: "openphone", gate: env.GATE, config, maxWaitMs: GATE_WAIT_MS, maxRateLimitRetries: 1, timeoutMs: REQUEST_TIMEOUT_MS }),
  });
  let startedAt = Date.now();
  let lineIds: string[];
  let keyCheck: DoctorCheck;
  try {
    const lines = await beforeDeadline(deadline, () => client.request("listPhoneNumbers_v1"));
    lineIds = lines.data.map((l) => l.id);
    keyCheck = check("openphone", startedAt, `accepted; ${lineIds.length} line(s)`, []);
  } catch (error) {
    const failure = openPhoneFailure(error);
    keyCheck = check("openphone", startedAt, failure.conclusive ? "refused" : "could not be checked", [{ check: "openphone", subject: "OPENPHONE_API_KEY", problem: failure.problem, fix: failure.fix }]);
    return [keyCheck, skipped("webhooks", "the OpenPhone key could not be checked")];
  }
  const baseUrl = config.PUBLIC_BASE_URL ?? origin;
  if (!baseUrl) return [keyCheck, skipped("webhooks", "PUBLIC_BASE_URL is not set, so this Worker's URL is unknown")];
  startedAt = Date.now();
  try {
    const listed = await beforeDeadline(deadline, () => client.request("listWebhooks_v1"));
    const webhooks = listed.data as unknown as WebhookRegistration[];
    const quo = await listQuoWebhooks(env, config, deadline);
    const problems = webhookProblems(webhooks, { baseUrl, keys: [...config.OPENPHONE_WEBHOOK_KEYS, ...config.QUO_WEBHOOK_SECRETS], quoSecrets: config.QUO_WEBHOOK_SECRETS.length, lineIds }, "webhooks" in quo ? quo.webhooks : []);
    if ("problem" in quo) problems.push(quo.problem);
    const source = config.PUBLIC_BASE_URL ? "PUBLIC_BASE_URL" : "the URL this check was asked on (PUBLIC_BASE_URL is not set)";
    const counted = "webhooks" in quo ? `${webhooks.length} legacy and ${quo.webhooks.length} 2026-03-30 registered` : `${webhooks.length} registered`;
    return [keyCheck, check("webhooks", startedAt, `${counted}; compared with ${baseUrl} (${source})`, problems)];
  } catch (error) {
    const failure = openPhoneFailure(error);
    return [keyCheck, check("webhooks", startedAt, "could not be checked", [{ check: "webhooks", subject: "GET /v1/webhooks", problem: failure.problem, fix: failure.fix }])];
  }
}

/**
 * The 2026-03-30 webhooks (`GET /webhooks` with `Quo-Api-Version`), from api.quo.com, or from OPENPHONE_API_BASE when
 * that is not OpenPhone's own host (an emulator serves both versions on one origin).
 */
async function listQuoWebhooks(env: DoctorEnv, config: Config, deadline: number): Promise<{ webhooks: QuoWebhookRegistration[] } | { problem: DoctorProblem }> {
  const v1Base = config.OPENPHONE_API_BASE ?? "https://api.openphone.com";
  const base = /^https:\/\/api\.openphone\.com\/?$/.test(v1Base) ? "https://api.quo.com" : v1Base.replace(/\/+$/, "");
  const gated = createGatedFetch({ api: "openphone", gate: env.GATE, config, maxWaitMs: GATE_WAIT_MS, maxRateLimitRetries: 1, timeoutMs: REQUEST_TIMEOUT_MS });
  try {
    const response = await beforeDeadline(deadline, () => gated(`${base}/webhooks`, { headers: { Authorization: config.OPENPHONE_API_KEY!, "Quo-Api-Version": "2026-03-30", Accept: "application/json" } }));
    if (!response.ok) {
      return { problem: { check: "webhooks", subject: "GET /webhooks (2026-03-30)", problem: `answered ${response.status}: the new system's webhooks could not be checked`, fix: "check OPENPHONE_API_KEY; the legacy webhooks above were checked" } };
    }
    return { webhooks: ((await response.json()) as { data: QuoWebhookRegistration[] }).data };
  } catch (error) {
    return { problem: { check: "webhooks", subject: "GET /webhooks (2026-03-30)", problem: `could not be listed: ${error instanceof Error ? error.message : String(error)}`, fix: "run the doctor again; the legacy webhooks above were checked" } };
  }
}

/** Every check, in a fixed order. Never throws: what could not be checked is itself a problem in the report. */
export async function runDoctor(env: DoctorEnv, options: DoctorOptions = {}): Promise<DoctorReport> {
  const startedAt = Date.now();
  const deadline = startedAt + RUN_DEADLINE_MS;
  const { config, problems } = getConfig(env);
  let flags: FlagReport[] = [];
  const flagProblems: DoctorProblem[] = [];
  try {
    flags = await reportFlags(env);
  } catch (error) {
    flagProblems.push({ check: "settings", subject: "FLAGS", problem: `the runtime flags could not be read from KV: ${error instanceof Error ? error.message : String(error)}`, fix: "check the FLAGS KV namespace binding in wrangler.jsonc" });
  }
  const settings = check("settings", startedAt, "every setting parsed", [...flagProblems, ...settingsProblems(config, problems, flags)]);
  if (settings.problems.length > 0) settings.summary = `${settings.problems.length} setting(s) to fix`;
  const [notion, openphone] = await Promise.all([checkNotion(env, config, deadline), checkOpenPhone(env, config, options.origin, deadline)]);
  return doctorReport([settings, ...notion, ...openphone], startedAt);
}
