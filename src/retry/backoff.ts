/**
 * Exponential backoff with full jitter: the delay before retry `attempt` is drawn uniformly between zero and the
 * policy's ceiling for that attempt, `baseMs` doubled per attempt up to `capMs`. Spreading retries over the whole
 * range keeps many failed items (every line after an outage, a queue batch) from coming back at the same moment
 * and meeting the same limit again.
 *
 * Each caller names its own policy beside the code that retries, so its base and cap are read where they matter.
 */

/** Where a backoff starts (the first retry's ceiling) and the ceiling it never passes. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

/** A number in [0, 1), as `Math.random` gives; tests pass a fixed one. */
export type RandomSource = () => number;

/** The most retry `attempt` (1 = the first retry) can wait under `policy`; 0 before any failure. */
export function backoffCeilingMs(policy: BackoffPolicy, attempt: number): number {
  if (!(attempt >= 1)) return 0;
  // Past about 50 doublings any base is over any cap; the exponent is bounded so the power stays finite.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.floor(attempt) - 1, 52));
}

/** The delay before retry `attempt`, in whole milliseconds between 0 and the attempt's ceiling. */
export function backoffMs(policy: BackoffPolicy, attempt: number, random: RandomSource = Math.random): number {
  return Math.round(random() * backoffCeilingMs(policy, attempt));
}

/** The same delay in whole seconds, rounded up, for `message.retry({ delaySeconds })`. */
export function backoffSeconds(policy: BackoffPolicy, attempt: number, random: RandomSource = Math.random): number {
  return Math.ceil(backoffMs(policy, attempt, random) / 1000);
}
