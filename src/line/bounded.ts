/**
 * Bounded waits. A promise that never settles (a fetch whose peer stopped answering, a Durable Object RPC into a
 * stuck object, a D1 call on a loaded machine) must not hold an alarm forever: an alarm that never returns is never
 * retried, and every item of its line waits behind it in silence. Every await on the alarm and flush path goes
 * through `withTimeout`, so it fails loudly instead, and the caller's retry with backoff takes over.
 */

/** The wait ran out; `what` names the call that did not answer. */
export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} did not finish within ${Math.round(ms / 1000)} s`);
    this.name = "TimeoutError";
  }
}

/**
 * The promise's outcome, or a TimeoutError after `ms`. The abandoned work is not cancelled (a promise cannot be);
 * callers make it harmless to run twice (the flush's create claim, idempotent writes).
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Bounds of the alarm and flush path, in one place. */
export const BOUNDS = {
  /** One call's or text's flush: every Notion and OpenPhone request of it, each bounded itself. */
  flushMs: 120_000,
  /** One D1 statement or batch. */
  d1Ms: 15_000,
  /** A Durable Object RPC (handing events to another line, a gate permit). */
  rpcMs: 15_000,
  /** The Canvas lookup of a batch. */
  canvasMs: 60_000,
  /** A whole alarm: under the runtime's 15-minute limit, so the alarm itself records the failure and sets the next. */
  alarmMs: 13 * 60_000,
  /** A media copy run (a batch of files streamed into R2). */
  mediaRunMs: 8 * 60_000,
} as const;
