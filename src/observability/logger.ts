/**
 * Structured logging with redaction. Every log line is one JSON object; values of settings that are secrets, and
 * anything that looks like a bearer token or signing key, are masked before they are printed.
 */
const SECRET_KEYS = /(token|secret|key|authorization|signature|password)/i;
const SECRET_VALUES = [/\b(secret_|ntn_|whsec_)[A-Za-z0-9+/=_-]{8,}/g, /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi];

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return SECRET_VALUES.reduce((s, re) => s.replace(re, "[redacted]"), value);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.test(k) && typeof v === "string" ? "[redacted]" : redact(v, depth + 1);
  }
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
