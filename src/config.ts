/**
 * Configuration: every var and secret the Worker reads, parsed once into a typed `Config`.
 *
 * Values are trimmed before they are checked, so a key pasted with a trailing newline still works. Settings that
 * change how work is done (batch sizes, concurrency, rate limits) live here so an operator can change one with a
 * var instead of a code change. Settings an operator flips while the Worker runs (the coalescing window, optional
 * features, the line filter) are runtime flags instead: src/flags/registry.ts, read with `getFlags(env)`.
 *
 * `loadConfig` never throws: it returns the settings it could parse together with a list of problems that name
 * the setting and never its value. `/health` reports those problems; the sync refuses to run while any
 * required setting is missing or malformed.
 */
import { z } from "zod";
import { rememberSecretValues, secretValuesOf } from "./observability/logger";

const trimmed = z.preprocess((v) => (typeof v === "string" ? v.trim() : v), z.string());
const optionalText = z.preprocess(
  (v) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined),
  z.string().optional(),
);
const list = z.preprocess(
  (v) =>
    typeof v === "string"
      ? v
          .split(/[,\n]/)
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
  z.array(z.string()),
);
const int = (def: number, min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() !== "" ? Number(v.trim()) : v === undefined || v === "" ? def : v),
    z.number().int().min(min).max(max),
  );
const num = (def: number, min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() !== "" ? Number(v.trim()) : v === undefined || v === "" ? def : v),
    z.number().min(min).max(max),
  );
const bool = (def: boolean) =>
  z.preprocess((v) => {
    if (typeof v !== "string" || v.trim() === "") return def;
    const s = v.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(s)) return true;
    if (["0", "false", "no", "off"].includes(s)) return false;
    return v;
  }, z.boolean());
const url = (def?: string) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() !== "" ? v.trim().replace(/\/+$/, "") : def),
    def === undefined ? z.url().optional() : z.url(),
  );
/** Notion ids are 32 hex digits, with or without dashes; a pasted database URL is accepted too. */
const notionId = z.preprocess((v) => {
  if (typeof v !== "string" || v.trim() === "") return undefined;
  const match = v.trim().match(/([0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})(?:[?#].*)?$/i);
  return match ? match[1]!.replace(/-/g, "").toLowerCase() : v;
}, z.string().regex(/^[0-9a-f]{32}$/, "expected a Notion id (32 hex digits) or a Notion URL").optional());
const base64Key = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, "expected a base64 signing key");
const whsecKey = z.string().regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, "expected a whsec_ secret");
const jsonRecord = z.preprocess((v) => {
  if (typeof v !== "string" || v.trim() === "") return {};
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}, z.record(z.string(), z.string()));

/** Settings a running sync cannot do without. Their absence makes `/health` answer 503. */
export const REQUIRED_SETTINGS = [
  "OPENPHONE_API_KEY",
  "NOTION_TOKEN",
  "ADMIN_TOKEN",
  "NOTION_CALLS_DATABASE_ID",
  "NOTION_MESSAGES_DATABASE_ID",
] as const;

const schema = z.object({
  // Secrets
  OPENPHONE_API_KEY: optionalText,
  NOTION_TOKEN: optionalText,
  ADMIN_TOKEN: optionalText,
  OPENPHONE_WEBHOOK_KEYS: z.preprocess(
    (v) => list.parse(v),
    z.array(base64Key),
  ),
  QUO_WEBHOOK_SECRETS: z.preprocess((v) => list.parse(v), z.array(whsecKey)),
  MEDIA_SIGNING_KEYS: z.preprocess((v) => list.parse(v), z.array(z.string().min(16, "must be at least 16 characters"))),
  ALERT_WEBHOOK_URL: url(),

  // External APIs
  OPENPHONE_API_BASE: url("https://api.openphone.com"),
  NOTION_API_BASE: url("https://api.notion.com"),
  NOTION_VERSION: z.preprocess((v) => (typeof v === "string" && v.trim() ? v.trim() : "2025-09-03"), z.enum(["2025-09-03", "2022-06-28"])),
  PUBLIC_BASE_URL: url(),

  // Notion databases
  NOTION_CALLS_DATABASE_ID: notionId,
  NOTION_MESSAGES_DATABASE_ID: notionId,
  NOTION_CANVAS_DATABASE_ID: notionId,
  NOTION_MAIL_DATABASE_ID: notionId,
  NOTION_PROPERTY_MAP: jsonRecord,
  CANVAS_PHONE_PROPERTIES: list,
  CANVAS_EMAIL_PROPERTIES: list,
  CANVAS_TITLE_PROPERTY: optionalText,
  CANVAS_COMPANY_PROPERTY: optionalText,
  MAIL_ADDRESS_PROPERTIES: list,
  MAIL_CANVAS_RELATION_PROPERTY: z.preprocess((v) => (typeof v === "string" && v.trim() ? v.trim() : "Canvas"), z.string()),

  // Behaviour
  DEFAULT_REGION: z.preprocess((v) => (typeof v === "string" && v.trim() ? v.trim().toUpperCase() : "US"), z.string().regex(/^[A-Z]{2}$/, "expected a two-letter region code")),
  NOTION_RATE_PER_SECOND: num(3, 0.1, 100),
  NOTION_BURST: int(3, 1, 100),
  OPENPHONE_RATE_PER_SECOND: num(10, 0.1, 100),
  // OpenPhone counts in fixed one-second windows: a burst on top of the rate can put twice the limit in one window.
  OPENPHONE_BURST: int(1, 1, 100),
  BREAKER_FAILURES: int(5, 1, 1000),
  BREAKER_COOLDOWN_MS: int(30_000, 1000, 3_600_000),
  MEDIA_CONCURRENCY: int(3, 1, 16),
  MEDIA_LINK_TTL_SECONDS: int(0, 0, 10 * 365 * 86400),
  MEDIA_PUBLIC_BASE_URL: url(),
  MEDIA_RETRY_LIMIT: int(5, 0, 100),
  CANVAS_NEGATIVE_TTL_SECONDS: int(600, 0, 86400),
  CANVAS_REFRESH_OVERLAP_SECONDS: int(120, 0, 3600),
  CONTACTS_REFRESH_MINUTES: int(60, 5, 10_080),
  CONTACTS_GATE_MAX_WAIT_MS: int(2000, 0, 30_000),
  MAIL_LINK_BATCH: int(50, 0, 1000),
  BACKFILL_LOOKBACK_DAYS: int(90, 1, 3650),
  BACKFILL_SUBREQUEST_BUDGET: int(40, 5, 900),
  BACKFILL_GATE_MAX_WAIT_MS: int(2000, 0, 30_000),
  BACKFILL_IDLE_SECONDS: int(900, 5, 86_400),
  // Unset: each error rate has its own default threshold (src/alerts/conditions.ts); set: one threshold for all.
  ALERT_ERROR_RATE: z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v.trim()) : typeof v === "number" ? v : undefined), z.number().min(0).max(1).optional()),
  ALERT_LAG_SECONDS: int(300, 1, 86400),
  DOCTOR_AT_START: bool(true),
  LOG_LEVEL: z.preprocess((v) => (typeof v === "string" && v.trim() ? v.trim().toLowerCase() : "info"), z.enum(["debug", "info", "warn", "error"])),
});

export type Config = z.infer<typeof schema>;

export interface ConfigProblem {
  setting: string;
  problem: string;
}

export interface LoadedConfig {
  config: Config;
  problems: ConfigProblem[];
}

/** The names of every setting the Worker reads; a unit test checks the README has a table row for each. */
export const SETTING_NAMES = Object.keys(schema.shape) as (keyof Config)[];

/**
 * Parses the Worker's environment. A malformed optional setting falls back to its default and is reported;
 * a missing or malformed required one is reported. Messages never include the value.
 */
export function loadConfig(env: object): LoadedConfig {
  const raw = env as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.shape)) {
    const result = (field as z.ZodType).safeParse(raw[name]);
    if (result.success) {
      values[name] = result.data;
    } else {
      problems.push({ setting: name, problem: `malformed: ${describeIssue(result.error)}` });
      values[name] = (field as z.ZodType).safeParse(undefined).data;
    }
  }
  const config = values as Config;
  for (const name of REQUIRED_SETTINGS) {
    if (config[name] === undefined && !problems.some((p) => p.setting === name)) {
      problems.push({ setting: name, problem: "missing" });
    }
  }
  if (config.OPENPHONE_WEBHOOK_KEYS.length === 0 && config.QUO_WEBHOOK_SECRETS.length === 0) {
    problems.push({
      setting: "OPENPHONE_WEBHOOK_KEYS",
      problem: "missing: no webhook signing key is configured (OPENPHONE_WEBHOOK_KEYS or QUO_WEBHOOK_SECRETS), so every webhook is refused",
    });
  }
  if (config.MEDIA_SIGNING_KEYS.length === 0 && !config.MEDIA_PUBLIC_BASE_URL) {
    problems.push({
      setting: "MEDIA_SIGNING_KEYS",
      problem: "missing: recordings cannot be linked without a media signing key or MEDIA_PUBLIC_BASE_URL",
    });
  }
  return { config, problems };
}

function describeIssue(error: z.ZodError): string {
  // Zod messages quote the expected shape, not the input; keep only the first and never echo the value.
  const issue = error.issues[0];
  if (!issue) return "invalid";
  if (issue.code === "invalid_type") return `expected ${issue.expected}`;
  return issue.message.replace(/received .*/i, "").trim();
}

const cache = new WeakMap<object, LoadedConfig>();

/** Parses once per `env` object (an isolate sees the same object for its lifetime). */
export function getConfig(env: object): LoadedConfig {
  let loaded = cache.get(env);
  if (!loaded) {
    loaded = loadConfig(env);
    cache.set(env, loaded);
    // Logs mask these values wherever they appear (src/observability/logger.ts).
    rememberSecretValues(secretValuesOf(loaded.config));
  }
  return loaded;
}
