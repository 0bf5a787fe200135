/**
 * A `fetch` that spends the shared budget of an external API. Every request first takes a permit from that API's
 * Gate Durable Object (waiting its turn), then reports how it went so the gate can pause everyone on a 429 or trip
 * its breaker on repeated failures.
 *
 * Only 429s are retried here: the server refused the request, so sending it again cannot duplicate anything. Other
 * failures go back to the caller, who knows whether its request is safe to repeat (a page create is not).
 */
import type { Config } from "../config";
import { getFlags, type FlagsEnv } from "../flags/flags";
import { withTimeout } from "../line/bounded";
import { backoffMs, type BackoffPolicy } from "../retry/backoff";
import { retryAfterMs } from "../retry/retry-after";
import type { GateSettings } from "./gate-durable-object";

export type GatedApi = "notion" | "openphone";

/** Requests spent, kept by whoever wants to report them (a flush, a backfill job). */
export interface RequestCounter {
  notion: number;
  openphone: number;
  rateLimited: number;
  /** Time spent waiting for the gates' permits (their pace, a 429's pause), in ms: not work of our own. */
  waitedMs?: number;
}

export function newRequestCounter(): RequestCounter {
  return { notion: 0, openphone: 0, rateLimited: 0, waitedMs: 0 };
}

/**
 * The gate refused (breaker open or the wait is too long): retry the work later. Recognise it with `instanceof`.
 * It is made in the isolate that asked for the permit (the refusal crosses the gate's RPC as a plain value), and every
 * check for it is in that isolate. Once it is thrown out of a Durable Object's RPC method (the Canvas index's
 * `createForUnknown` or `refreshContacts` can), the caller gets a plain `Error` with the message only: the class, the
 * `name` set below and `retryAfterMs` are lost, so no name check could recognise it there either. Those callers
 * treat it as any other failure.
 */
export class GateClosedError extends Error {
  constructor(
    readonly api: GatedApi,
    readonly retryAfterMs: number,
    readonly reason: string,
  ) {
    super(`${api} is paused: ${reason}; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
    this.name = "GateClosedError";
  }
}

export function gateSettings(config: Config, api: GatedApi): GateSettings {
  return api === "notion"
    ? { ratePerSecond: config.NOTION_RATE_PER_SECOND, burst: config.NOTION_BURST, breakerFailures: config.BREAKER_FAILURES, breakerCooldownMs: config.BREAKER_COOLDOWN_MS }
    : { ratePerSecond: config.OPENPHONE_RATE_PER_SECOND, burst: config.OPENPHONE_BURST, breakerFailures: config.BREAKER_FAILURES, breakerCooldownMs: config.BREAKER_COOLDOWN_MS };
}

export interface GatedFetchOptions {
  api: GatedApi;
  gate: DurableObjectNamespace<import("./gate-durable-object").GateDurableObject>;
  config: Config;
  counter?: RequestCounter;
  /** Longest the caller will wait for a permit or a Retry-After before giving the work back to the queue. */
  maxWaitMs?: number;
  /** 429s retried in place before the response is returned to the caller. */
  maxRateLimitRetries?: number;
  /** Timeout of one request. */
  timeoutMs?: number;
  /**
   * Where the `GATES_ENABLED` flag is read. Off: no permit is asked and nothing is reported, the request goes straight
   * out and its 429s are retried here with the same Retry-After or backoff (the rollback to a plain client). Without
   * it the gate is always used.
   */
  flags?: FlagsEnv;
}

/**
 * A 429 without a usable Retry-After pauses the gate within 1 s, 2 s, 4 s … of the retries in place, at most 8 s (the
 * fourth, the last the default allows).
 */
export const RATE_LIMIT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 8000 };

/** How much longer than its own wait a gate may take to answer (a loaded machine, the object starting up). */
const GATE_RPC_MARGIN_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createGatedFetch(options: GatedFetchOptions): typeof fetch {
  const { api, config, counter } = options;
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  const maxRetries = options.maxRateLimitRetries ?? 3;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const gate = options.gate.get(options.gate.idFromName(api));
  const settings = gateSettings(config, api);
  // A gate that does not take an outcome in time fails the request, as a gate that is down does.
  const report = (outcome: Parameters<typeof gate.report>[0]) => withTimeout(gate.report(outcome), GATE_RPC_MARGIN_MS, `the ${api} gate's report`);

  const ungated = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      if (counter) counter[api]++;
      const signal = init?.signal ?? AbortSignal.timeout(timeoutMs);
      const response = await fetch(input instanceof Request ? input.clone() : input, { ...init, signal });
      if (response.status !== 429) return response;
      if (counter) counter.rateLimited++;
      const wait = retryAfterMs(response.headers.get("Retry-After")) ?? backoffMs(RATE_LIMIT_BACKOFF, attempt + 1);
      if (attempt >= maxRetries || wait > maxWaitMs) return response;
      await response.body?.cancel();
      await sleep(wait);
    }
  };

  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    if (options.flags && !(await getFlags(options.flags)).GATES_ENABLED) return ungated(input, init);
    for (let attempt = 0; ; attempt++) {
      // The gate is a Durable Object: its answer is awaited no longer than the wait the caller allows, plus a margin.
      const asked = Date.now();
      const permit = await withTimeout<Awaited<ReturnType<typeof gate.acquire>>>(gate.acquire(1, maxWaitMs, settings), maxWaitMs + GATE_RPC_MARGIN_MS, `the ${api} gate's permit`);
      if (!permit.ok) throw new GateClosedError(api, permit.retryAfterMs, permit.reason);
      if (permit.waitMs > 0) await sleep(permit.waitMs);
      if (counter) counter.waitedMs = (counter.waitedMs ?? 0) + (Date.now() - asked);
      if (counter) counter[api]++;
      let response: Response;
      try {
        const signal = init?.signal ?? AbortSignal.timeout(timeoutMs);
        response = await fetch(input instanceof Request ? input.clone() : input, { ...init, signal });
      } catch (error) {
        await report({ outcome: "failure" });
        throw error;
      }
      if (response.status === 429) {
        if (counter) counter.rateLimited++;
        const wait = retryAfterMs(response.headers.get("Retry-After")) ?? backoffMs(RATE_LIMIT_BACKOFF, attempt + 1);
        await report({ outcome: "rate_limited", retryAfterMs: wait });
        if (attempt < maxRetries && wait <= maxWaitMs) {
          await response.body?.cancel();
          continue;
        }
        return response;
      }
      await report({ outcome: response.status >= 500 ? "failure" : "success" });
      return response;
    }
  };
}
