import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunkForSendBatch } from "../../src/queue/dead-letter-replay";

describe("chunkForSendBatch", () => {
  it("splits by count", () => {
    const items = Array.from({ length: 250 }, (_, i) => i);
    expect(chunkForSendBatch(items, () => 10).map((c) => c.length)).toEqual([100, 100, 50]);
  });

  it("splits by bytes and sends an oversized item on its own", () => {
    expect(chunkForSendBatch([100, 100, 100, 500, 50], (n) => n, 100, 250)).toEqual([[100, 100], [100], [500], [50]]);
  });

  it("keeps every item once, in order, within both limits", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 400 }), fc.integer({ min: 1, max: 120 }), fc.integer({ min: 300, max: 5000 }), (sizes, maxCount, maxBytes) => {
        const chunks = chunkForSendBatch(sizes, (n) => n, maxCount, maxBytes);
        expect(chunks.flat()).toEqual(sizes);
        for (const chunk of chunks) {
          expect(chunk.length).toBeGreaterThan(0);
          expect(chunk.length).toBeLessThanOrEqual(maxCount);
          expect(chunk.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(maxBytes);
        }
      }),
    );
  });
});
