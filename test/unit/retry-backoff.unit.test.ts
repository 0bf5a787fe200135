import { describe, expect, it } from "vitest";
import { CHAIN_BACKOFF } from "../../src/backfill/runner";
import { STEP_RETRY_BACKOFF } from "../../src/backfill/queue";
import { RATE_LIMIT_BACKOFF } from "../../src/gates/gated-fetch";
import { ALARM_BACKOFF } from "../../src/line/alarm-plan";
import { FLUSH_RETRY_BACKOFF } from "../../src/line/schedule";
import { QUEUE_RETRY_BACKOFF } from "../../src/queue/consumer";
import { backoffCeilingMs, backoffMs, backoffSeconds } from "../../src/retry/backoff";

const policy = { baseMs: 1000, capMs: 10_000 };
/** The largest value `Math.random` can give, near enough: the draw lands on the ceiling. */
const highest = () => 0.999_999_9;
const lowest = () => 0;

describe("a backoff", () => {
  it("doubles its ceiling per attempt from the base and stops at the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 40].map((attempt) => backoffCeilingMs(policy, attempt))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    expect(backoffCeilingMs(policy, 5000)).toBe(10_000);
  });

  it("waits nothing before any failure", () => {
    expect(backoffCeilingMs(policy, 0)).toBe(0);
    expect(backoffCeilingMs(policy, -3)).toBe(0);
    expect(backoffCeilingMs(policy, Number.NaN)).toBe(0);
    expect(backoffMs(policy, 0, highest)).toBe(0);
  });

  it("draws over the whole range from zero to the attempt's ceiling (full jitter)", () => {
    expect(backoffMs(policy, 3, lowest)).toBe(0);
    expect(backoffMs(policy, 3, () => 0.25)).toBe(1000);
    expect(backoffMs(policy, 3, () => 0.5)).toBe(2000);
    expect(backoffMs(policy, 3, highest)).toBe(4000);
    expect(backoffMs(policy, 30, () => 0.5)).toBe(5000);
    expect(backoffMs(policy, 30, highest)).toBe(10_000);
  });

  it("stays inside its bounds for every attempt and every draw", () => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      for (const draw of [0, 0.1, 0.37, 0.5, 0.81, 0.999_999]) {
        const ms = backoffMs(policy, attempt, () => draw);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThanOrEqual(Math.min(10_000, 1000 * 2 ** (attempt - 1)));
        expect(Number.isInteger(ms)).toBe(true);
      }
    }
  });

  it("in seconds rounds up, so only a zero draw asks for no delay", () => {
    expect(backoffSeconds(policy, 3, () => 0.5)).toBe(2);
    expect(backoffSeconds(policy, 1, () => 0.0011)).toBe(1);
    expect(backoffSeconds(policy, 3, highest)).toBe(4);
    expect(backoffSeconds(policy, 1, lowest)).toBe(0);
  });
});

describe("each retrying part of the sync", () => {
  const ceilings = (p: { baseMs: number; capMs: number }, attempts: number[]) => attempts.map((attempt) => backoffCeilingMs(p, attempt));

  it("queue messages: 5 s doubling to 15 minutes", () => {
    expect(ceilings(QUEUE_RETRY_BACKOFF, [1, 2, 3, 8, 9, 10])).toEqual([5000, 10_000, 20_000, 640_000, 900_000, 900_000]);
    expect(backoffSeconds(QUEUE_RETRY_BACKOFF, 1, highest)).toBe(5);
    expect(backoffSeconds(QUEUE_RETRY_BACKOFF, 10, highest)).toBe(900);
  });

  it("a call's or text's flush and a page's media note: 5 s doubling to 15 minutes", () => {
    expect(ceilings(FLUSH_RETRY_BACKOFF, [1, 2, 8, 9, 12])).toEqual([5000, 10_000, 640_000, 900_000, 900_000]);
  });

  it("a line's failed alarm: 5 s doubling to 5 minutes", () => {
    expect(ceilings(ALARM_BACKOFF, [1, 2, 6, 7, 30])).toEqual([5000, 10_000, 160_000, 300_000, 300_000]);
  });

  it("a backfill step that threw: 5 s doubling to 5 minutes", () => {
    expect(ceilings(STEP_RETRY_BACKOFF, [1, 2, 6, 7, 10])).toEqual([5000, 10_000, 160_000, 300_000, 300_000]);
    expect(backoffSeconds(STEP_RETRY_BACKOFF, 10, highest)).toBe(300);
  });

  it("a backfill chain that could not move: 2 s doubling to 5 minutes", () => {
    expect(ceilings(CHAIN_BACKOFF, [0, 1, 2, 3, 8, 9])).toEqual([0, 2000, 4000, 8000, 256_000, 300_000]);
    expect(backoffSeconds(CHAIN_BACKOFF, 0, highest)).toBe(0);
  });

  it("a 429 without Retry-After: 1 s doubling to 8 s", () => {
    expect(ceilings(RATE_LIMIT_BACKOFF, [1, 2, 3, 4, 5])).toEqual([1000, 2000, 4000, 8000, 8000]);
  });
});
