import { describe, expect, it } from "vitest";
import { backfillWindowMs, PRODUCTS_WAIT_MS } from "../../src/line/schedule";
import { emptyCall, emptyMessage } from "../../src/line/state";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe("the coalescing window of a backfilled call or text", () => {
  it("is zero for history: a call that ended before the products wait, a text older than the window", () => {
    expect(backfillWindowMs({ ...emptyCall("AC1"), status: "completed", completedAt: ago(PRODUCTS_WAIT_MS + 1000) }, NOW, 10_000)).toBe(0);
    expect(backfillWindowMs({ ...emptyMessage("AC2"), createdAt: ago(60_000) }, NOW, 10_000)).toBe(0);
  });

  it("is the live window for a recent call or text, whose webhooks may still be arriving", () => {
    expect(backfillWindowMs({ ...emptyCall("AC3"), status: "completed", completedAt: ago(60_000) }, NOW, 10_000)).toBe(10_000);
    expect(backfillWindowMs({ ...emptyCall("AC4"), status: "in-progress", completedAt: null }, NOW, 10_000)).toBe(10_000);
    expect(backfillWindowMs({ ...emptyMessage("AC5"), createdAt: ago(5_000) }, NOW, 10_000)).toBe(10_000);
    expect(backfillWindowMs(emptyMessage("AC6"), NOW, 10_000)).toBe(10_000);
  });
});
