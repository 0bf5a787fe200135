/**
 * The runtime flags, read by the Worker, its queue consumer and its Durable Objects: `await getFlags(env)` gives
 * every flag of ./registry typed (`flags.COALESCE_MS` is a number, `flags.ALERTS_ENABLED` a boolean).
 *
 * Overrides live in the `FLAGS` KV namespace under one key, as one JSON object of names to text values, so a change
 * is applied whole or not at all. KV is eventually consistent, which is exactly right for settings: each isolate
 * keeps what it read for at most a minute (FLAGS_REREAD_MS) and then reads again, so every isolate sees a change
 * within about a minute of KV propagating it, with no deploy. KV is never used to decide whether a page exists or
 * for rate limits.
 *
 * A KV read is bounded (FLAGS_KV_WAIT_MS). When it fails the last values read stay in use and KV is asked again
 * after FLAGS_RETRY_MS; an isolate that never read them cannot tell what the operator set, and `getFlags` throws
 * `FlagsUnavailableError` (the intake answers 503, a queue message is retried) rather than guess.
 */
import { recordFlagChanges } from "../db/flag-changes";
import { withTimeout } from "../line/bounded";
import type { Flags } from "./registry";
import { applyFlagUpdate, readStoredOverrides, resolveFlags, type FlagChange, type FlagOverrides, type FlagReport, type ResolvedFlags } from "./resolve";

export type { FlagName, Flags } from "./registry";
export type { FlagReport, FlagSource } from "./resolve";

/** The key of the `FLAGS` namespace that holds every override. */
export const FLAGS_KV_KEY = "overrides";
export const FLAGS_REREAD_MS = 60_000;
export const FLAGS_KV_WAIT_MS = 5_000;
export const FLAGS_RETRY_MS = 10_000;

export type FlagsEnv = { FLAGS: KVNamespace };

export class FlagsUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the runtime flags could not be read from KV (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = "FlagsUnavailableError";
  }
}

interface CachedFlags {
  resolved?: ResolvedFlags;
  /** When KV is to be asked again. */
  rereadAt: number;
  reading?: Promise<ResolvedFlags>;
}

// Keyed by the env object: an isolate sees one for its lifetime, and a test that hands a Durable Object other vars
// gets flags resolved from those.
const cache = new WeakMap<object, CachedFlags>();

/** Every flag's value: cached, read again from KV at most once a minute. */
export async function getFlags(env: FlagsEnv, now = Date.now()): Promise<Flags> {
  return (await readCachedFlags(env, now)).flags;
}

async function readCachedFlags(env: FlagsEnv, now: number): Promise<ResolvedFlags> {
  let entry = cache.get(env);
  if (!entry) cache.set(env, (entry = { rereadAt: 0 }));
  if (entry.resolved && now < entry.rereadAt) return entry.resolved;
  // Concurrent callers (a burst of webhooks when the minute is up) share one KV read.
  if (entry.reading) return entry.reading;
  const current = entry;
  current.reading = readOverrides(env)
    .then((overrides) => {
      current.resolved = resolveFlags(env as unknown as Record<string, unknown>, overrides);
      current.rereadAt = now + FLAGS_REREAD_MS;
      return current.resolved;
    })
    .catch((error: unknown) => {
      current.rereadAt = now + FLAGS_RETRY_MS;
      if (current.resolved) return current.resolved;
      throw new FlagsUnavailableError(error);
    })
    .finally(() => {
      current.reading = undefined;
    });
  return current.reading;
}

async function readOverrides(env: FlagsEnv): Promise<FlagOverrides> {
  const stored = await withTimeout(env.FLAGS.get(FLAGS_KV_KEY, "json"), FLAGS_KV_WAIT_MS, "reading the runtime flags from KV");
  return readStoredOverrides(stored);
}

/** Every flag with its value and source, read from KV now (for `GET /admin/flags` and the dashboard). */
export async function reportFlags(env: FlagsEnv): Promise<FlagReport[]> {
  const resolved = resolveFlags(env as unknown as Record<string, unknown>, await readOverrides(env));
  remember(env, resolved);
  return resolved.reports;
}

export type FlagsUpdateResult =
  | { ok: true; changes: FlagChange[]; flags: FlagReport[] }
  | { ok: false; errors: { name: string; error: string }[] };

/**
 * Applies an admin's change (`{NAME: value | null}`): checks every value first, then writes the new overrides to KV
 * in one put and records each change in D1 (`flag_changes`). When D1 cannot take the record, the KV write is undone
 * and the error thrown, so no change goes unrecorded. This isolate uses the new values at once; others within a
 * minute.
 */
export async function updateFlags(env: FlagsEnv & { DB: D1Database }, body: unknown, changedBy: string, now = Date.now()): Promise<FlagsUpdateResult> {
  const current = await readOverrides(env);
  const update = applyFlagUpdate(current, body);
  if (!update.ok) return update;
  if (update.changes.length > 0) {
    await withTimeout(env.FLAGS.put(FLAGS_KV_KEY, JSON.stringify(update.overrides)), FLAGS_KV_WAIT_MS, "writing the runtime flags to KV");
    try {
      await recordFlagChanges(env.DB, update.changes, changedBy, now);
    } catch (error) {
      await withTimeout(env.FLAGS.put(FLAGS_KV_KEY, JSON.stringify(current)), FLAGS_KV_WAIT_MS, "undoing the runtime flag change in KV");
      throw error;
    }
  }
  const resolved = resolveFlags(env as unknown as Record<string, unknown>, update.overrides);
  remember(env, resolved);
  return { ok: true, changes: update.changes, flags: resolved.reports };
}

function remember(env: FlagsEnv, resolved: ResolvedFlags): void {
  cache.set(env, { resolved, rereadAt: Date.now() + FLAGS_REREAD_MS });
}

/** Drops this env's cached flags, so the next `getFlags` reads KV (tests that change KV directly). */
export function forgetCachedFlags(env: FlagsEnv): void {
  cache.delete(env);
}
