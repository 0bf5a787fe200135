/**
 * Structured logging with redaction. Every log line is one JSON object. The values of the configured secrets (API
 * keys, tokens, signing keys, the alert webhook URL) are masked wherever they appear, under any field name and
 * inside any text; nothing else is, so ids and R2 object keys an operator needs stay readable.
 *
 * The secret values are learnt when the configuration is parsed (`rememberSecretValues`, called by `getConfig`):
 * an isolate serves one environment, so every logger in it masks the same values without each call site passing them.
 */
import type { Config } from "../config";

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const MASK = "[redacted]";

/** The settings whose values are secret. */
export const SECRET_SETTINGS = ["OPENPHONE_API_KEY", "NOTION_TOKEN", "ADMIN_TOKEN", "OPENPHONE_WEBHOOK_KEYS", "QUO_WEBHOOK_SECRETS", "MEDIA_SIGNING_KEYS", "ALERT_WEBHOOK_URL"] as const satisfies readonly (keyof Config)[];

const secretValues = new Set<string>();
/** Longest first, so a secret that contains another is masked whole. */
let ordered: string[] = [];

/** The secret values of a configuration, each as configured and, for `whsec_` secrets, their base64 part too. */
export function secretValuesOf(config: Pick<Config, (typeof SECRET_SETTINGS)[number]>): string[] {
  const values: string[] = [];
  for (const name of SECRET_SETTINGS) {
    const value = config[name];
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      values.push(v);
      if (v.startsWith("whsec_")) values.push(v.slice("whsec_".length));
    }
  }
  return values.filter((v) => v.length > 0);
}

export function rememberSecretValues(values: Iterable<string>): void {
  let added = false;
  for (const value of values) {
    if (value && !secretValues.has(value)) {
      secretValues.add(value);
      added = true;
    }
  }
  if (added) ordered = [...secretValues].sort((a, b) => b.length - a.length);
}

function maskText(text: string): string {
  let out = text;
  for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out;
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskText(value);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[maskText(k)] = redact(v, depth + 1);
  return out;
}

export function createLogger(level: LogLevel = "info", base: Record<string, unknown> = {}) {
  const log = (at: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    const line = JSON.stringify(redact({ level: at, msg, ...base, ...fields }));
    if (at === "error") console.error(line);
    else if (at === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (msg: string, fields?: Record<string, unknown>) => log("debug", msg, fields),
    info: (msg: string, fields?: Record<string, unknown>) => log("info", msg, fields),
    warn: (msg: string, fields?: Record<string, unknown>) => log("warn", msg, fields),
    error: (msg: string, fields?: Record<string, unknown>) => log("error", msg, fields),
  };
}

export type Logger = ReturnType<typeof createLogger>;
