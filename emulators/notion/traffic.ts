/**
 * How the emulator behaves as a service, apart from what it stores: the per-token rate limit (a token bucket),
 * latency, injected faults and the request counters `GET /_emulator/stats` reports. All of it is configurable at
 * run time through `PUT /_emulator/config`; random choices come from the seed so runs repeat.
 */
import { z } from "zod";
import { createRandom } from "../shared/roster.ts";

export const FAULT_STATUSES = [409, 500, 502, 503, 504, 529] as const;
/** Statuses that may be answered after a write went through (the client cannot tell whether it did). */
export const AFTER_WRITE_STATUSES = new Set([500, 502, 503, 504]);

/** Statuses a scripted fault may answer: the random ones and the rate limit. */
export const SCRIPTED_STATUSES = [...FAULT_STATUSES, 429] as const;

/**
 * One fault for the next request of an operation (`pages.create`, …), for a test that needs a given answer to a given
 * write: consumed by the first request it matches. `afterWrite` answers it after the write was applied (500, 502, 503
 * and 504 only); `hangMs` holds the answer that long first and writes nothing (a Notion that stopped answering);
 * `bodyContains` matches only a request whose JSON body contains that text (a test's own call or text id).
 */
export const scriptedFaultSchema = z
  .object({
    operation: z.string().min(1),
    status: z.number().int().refine((s) => (SCRIPTED_STATUSES as readonly number[]).includes(s), { message: `status must be one of ${SCRIPTED_STATUSES.join(", ")}` }),
    afterWrite: z.boolean().optional(),
    hangMs: z.number().int().min(1).max(600_000).optional(),
    bodyContains: z.string().min(1).optional(),
  })
  .strict()
  .refine((f) => !f.afterWrite || AFTER_WRITE_STATUSES.has(f.status), { message: `afterWrite needs one of ${[...AFTER_WRITE_STATUSES].join(", ")}` })
  .refine((f) => !(f.afterWrite && f.hangMs), { message: "a hanging answer writes nothing: afterWrite and hangMs do not go together" });

export type ScriptedFault = z.infer<typeof scriptedFaultSchema>;

export const configSchema = z.object({
  rateLimit: z.object({ perSecond: z.number().positive().max(100_000), burst: z.number().int().min(1).max(100_000) }).strict(),
  latencyMs: z.object({ p50: z.number().min(0).max(60_000), p95: z.number().min(0).max(60_000) }).strict(),
  faults: z
    .object({
      rate: z.number().min(0).max(1),
      statuses: z.array(z.number().int().refine((s) => (FAULT_STATUSES as readonly number[]).includes(s), { message: `each status must be one of ${FAULT_STATUSES.join(", ")}` })).min(1),
      /** Share of injected 500/502/503/504 on POST/PATCH/DELETE that are answered after the write was applied. */
      afterWriteRate: z.number().min(0).max(1),
      /** Faults for the next matching requests, first in first out (see `scriptedFaultSchema`); a PUT replaces the list. */
      script: z.array(scriptedFaultSchema).max(1000),
    })
    .strict(),
  queryLagMs: z.number().min(0).max(600_000),
}).strict();

export type EmulatorConfig = z.infer<typeof configSchema>;

export const DEFAULT_CONFIG: EmulatorConfig = {
  rateLimit: { perSecond: 3, burst: 10 },
  latencyMs: { p50: 0, p95: 0 },
  faults: { rate: 0, statuses: [409, 502, 503, 504, 529], afterWriteRate: 0, script: [] },
  queryLagMs: 0,
};

/** Merges a partial update (any subset, nested objects partial too) over `current`; throws a readable error. */
export function mergeConfig(current: EmulatorConfig, update: unknown): EmulatorConfig {
  if (typeof update !== "object" || update === null || Array.isArray(update)) throw new Error("config must be a JSON object");
  const patch = update as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    const base = (current as Record<string, unknown>)[key];
    merged[key] = typeof base === "object" && base !== null && !Array.isArray(base) && typeof value === "object" && value !== null && !Array.isArray(value) ? { ...base, ...value } : value;
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; "));
  return parsed.data;
}

/** One bucket per token: `burst` requests at once, refilled at `perSecond`. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** 0 when the request may go ahead, else the whole seconds to wait (the `Retry-After` value). */
  take(token: string, limit: EmulatorConfig["rateLimit"]): number {
    const now = this.now();
    const bucket = this.buckets.get(token) ?? { tokens: limit.burst, at: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
    bucket.at = now;
    this.buckets.set(token, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond));
  }

  reset(): void {
    this.buckets.clear();
  }
}

export interface FaultDecision {
  status: number;
  afterWrite: boolean;
  hangMs?: number;
}

/** Takes the first scripted fault this request matches out of `config.script`; null when none does. */
export function takeScriptedFault(config: EmulatorConfig["faults"], operation: string, body: string): FaultDecision | null {
  const index = config.script.findIndex((f) => f.operation === operation && (f.bodyContains === undefined || body.includes(f.bodyContains)));
  if (index < 0) return null;
  const [fault] = config.script.splice(index, 1);
  return { status: fault!.status, afterWrite: fault!.afterWrite ?? false, ...(fault!.hangMs !== undefined && { hangMs: fault!.hangMs }) };
}

/** Latency draws and fault choices, reproducible for a seed. */
export class Chaos {
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = createRandom(seed ^ 0xc4a05);
  }

  reset(): void {
    this.random = createRandom(this.seed ^ 0xc4a05);
  }

  /** Log-normal latency with the configured median and 95th percentile. */
  latency(config: EmulatorConfig["latencyMs"]): number {
    if (config.p50 <= 0 && config.p95 <= 0) return 0;
    const median = Math.max(config.p50, 1);
    const sigma = config.p95 > median ? Math.log(config.p95 / median) / 1.645 : 0;
    const u = Math.max(this.random(), 1e-12);
    const v = this.random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.min(60_000, median * Math.exp(sigma * normal));
  }

  fault(config: EmulatorConfig["faults"], isWrite: boolean): FaultDecision | null {
    if (config.rate <= 0 || this.random() >= config.rate) return null;
    const status = config.statuses[Math.floor(this.random() * config.statuses.length)]!;
    const afterWrite = isWrite && AFTER_WRITE_STATUSES.has(status) && this.random() < config.afterWriteRate;
    return { status, afterWrite };
  }
}

export class Stats {
  total = 0;
  rateLimited = 0;
  faultsInjected = 0;
  faultsAfterWrite = 0;
  byOperation: Record<string, number> = {};
  byStatus: Record<string, number> = {};
  byOperationStatus: Record<string, Record<string, number>> = {};

  record(operation: string, status: number): void {
    this.total++;
    this.byOperation[operation] = (this.byOperation[operation] ?? 0) + 1;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    const perOperation = (this.byOperationStatus[operation] ??= {});
    perOperation[status] = (perOperation[status] ?? 0) + 1;
    if (status === 429) this.rateLimited++;
  }

  toJSON(): Record<string, unknown> {
    return {
      requests: { total: this.total, byOperation: this.byOperation, byStatus: this.byStatus, byOperationAndStatus: this.byOperationStatus },
      rateLimited: this.rateLimited,
      faults: { injected: this.faultsInjected, afterWrite: this.faultsAfterWrite },
    };
  }
}
