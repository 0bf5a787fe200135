/**
 * Pure resolution of the runtime flags: the var gives the default, a KV override wins. And the check of a change
 * sent by an admin: every value is parsed before anything is applied, so a change with one malformed value is
 * refused as a whole.
 */
import type { FlagSpec } from "./kinds";
import { FLAG_NAMES, FLAG_REGISTRY, isFlagName, type FlagName, type Flags } from "./registry";

export type FlagSource = "default" | "var" | "kv";

/** One flag as `GET /admin/flags` and the dashboard show it. */
export interface FlagReport {
  name: FlagName;
  kind: FlagSpec<unknown>["kind"];
  about: string;
  /** The effective value, as canonical text. */
  value: string;
  source: FlagSource;
  default: string;
  /** The var's text when one is set (flags are not secrets). */
  var: string | null;
  /** The KV override's text when one is set. */
  kv: string | null;
  /** A var or KV value that is malformed and therefore ignored (the value falls back to the next source). */
  problem: string | null;
}

/** What the `FLAGS` namespace holds: names to text values. */
export type FlagOverrides = Partial<Record<FlagName, string>>;

export interface ResolvedFlags {
  flags: Flags;
  reports: FlagReport[];
}

function spec(name: FlagName): FlagSpec<unknown> {
  return FLAG_REGISTRY[name] as FlagSpec<unknown>;
}

function varText(vars: Record<string, unknown>, name: string): string | null {
  const raw = vars[name];
  if (raw === undefined || raw === null) return null;
  const text = typeof raw === "string" ? raw : typeof raw === "number" || typeof raw === "boolean" ? String(raw) : null;
  return text === null || text.trim() === "" ? null : text;
}

export function resolveFlags(vars: Record<string, unknown>, overrides: FlagOverrides): ResolvedFlags {
  const flags: Record<string, unknown> = {};
  const reports: FlagReport[] = [];
  for (const name of FLAG_NAMES) {
    const s = spec(name);
    const fromVar = varText(vars, name);
    const fromKv = overrides[name] ?? null;
    let value: unknown = s.default;
    let source: FlagSource = "default";
    const problems: string[] = [];
    if (fromVar !== null) {
      const parsed = s.parse(fromVar);
      if (parsed.ok) [value, source] = [parsed.value, "var"];
      else problems.push(`the var is malformed (${parsed.error}) and ignored`);
    }
    if (fromKv !== null) {
      const parsed = s.parse(fromKv);
      if (parsed.ok) [value, source] = [parsed.value, "kv"];
      else problems.push(`the KV override is malformed (${parsed.error}) and ignored`);
    }
    flags[name] = value;
    reports.push({ name, kind: s.kind, about: s.about, value: s.format(value), source, default: s.format(s.default), var: fromVar, kv: fromKv, problem: problems.length ? problems.join("; ") : null });
  }
  return { flags: flags as Flags, reports };
}

/** One flag's part of an admin's change: its new override, or `null` to remove the override. */
export interface FlagChange {
  name: FlagName;
  from: string | null;
  to: string | null;
}

export type FlagUpdate = { ok: true; overrides: FlagOverrides; changes: FlagChange[] } | { ok: false; errors: { name: string; error: string }[] };

/**
 * Applies `{NAME: value}` to the current overrides. A value is text, a number or a boolean; `null` removes the
 * override (the var or the default applies again). Values are stored in their canonical text. Any unknown name or
 * malformed value refuses the whole change.
 */
export function applyFlagUpdate(current: FlagOverrides, body: unknown): FlagUpdate {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return { ok: false, errors: [{ name: "", error: "expected a JSON object of flag names to values, e.g. {\"COALESCE_MS\": \"0\"}" }] };
  }
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length === 0) return { ok: false, errors: [{ name: "", error: "the object names no flag" }] };
  const errors: { name: string; error: string }[] = [];
  const next: FlagOverrides = { ...current };
  const changes: FlagChange[] = [];
  for (const [name, raw] of entries) {
    if (!isFlagName(name)) {
      errors.push({ name, error: `no flag is called ${name}; flags: ${FLAG_NAMES.join(", ")}` });
      continue;
    }
    const from = current[name] ?? null;
    if (raw === null) {
      delete next[name];
      if (from !== null) changes.push({ name, from, to: null });
      continue;
    }
    if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
      errors.push({ name, error: "expected a string, number or boolean (or null to remove the override)" });
      continue;
    }
    const s = spec(name);
    const parsed = s.parse(String(raw));
    if (!parsed.ok) {
      errors.push({ name, error: parsed.error });
      continue;
    }
    const to = s.format(parsed.value);
    next[name] = to;
    if (to !== from) changes.push({ name, from, to });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, overrides: next, changes };
}

/** Reads what KV holds, keeping only the names the registry knows (a flag removed from the code is ignored). */
export function readStoredOverrides(stored: unknown): FlagOverrides {
  const overrides: FlagOverrides = {};
  if (stored === null || typeof stored !== "object" || Array.isArray(stored)) return overrides;
  for (const [name, value] of Object.entries(stored as Record<string, unknown>)) {
    if (isFlagName(name) && typeof value === "string") overrides[name] = value;
  }
  return overrides;
}
