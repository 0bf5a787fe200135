import { describe, expect, it } from "vitest";
import { bucketPercentile, d1WriteBucket, metricsDelta, timingFigures } from "../../src/observability/timings";

describe("the Worker's timings", () => {
  it("counts a D1 write in the first bucket its time fits, and past the last one under inf", () => {
    expect(d1WriteBucket(0)).toBe("d1.batch_ms.le_5");
    expect(d1WriteBucket(5)).toBe("d1.batch_ms.le_5");
    expect(d1WriteBucket(5.1)).toBe("d1.batch_ms.le_10");
    expect(d1WriteBucket(40)).toBe("d1.batch_ms.le_40");
    expect(d1WriteBucket(49)).toBe("d1.batch_ms.le_50");
    expect(d1WriteBucket(60_000)).toBe("d1.batch_ms.le_inf");
  });

  it("reads a percentile as the upper bound of the bucket it falls in", () => {
    const metrics = { "d1.batch_ms.le_10": 90, "d1.batch_ms.le_50": 6, "d1.batch_ms.le_inf": 4 };
    expect(bucketPercentile(metrics, 50)).toBe(10);
    expect(bucketPercentile(metrics, 90)).toBe(10);
    expect(bucketPercentile(metrics, 95)).toBe(50);
    expect(bucketPercentile(metrics, 97)).toBe(Infinity);
    expect(bucketPercentile({}, 95)).toBeNull();
  });

  it("turns the counters into mean processing time, D1 write p95, D1 round trips per write and R2 upload speed", () => {
    const figures = timingFigures({ "flush.processing_ms": 1200, "flush.processed": 4, "d1.batch_ms.le_25": 3, "d1.flush_round_trips": 6, "media.bytes": 4 * 1024 * 1024, "media.upload_ms": 2000 });
    expect(figures).toEqual({ processingMsPerItem: 300, itemsProcessed: 4, d1WriteP95Ms: 25, d1Writes: 3, d1RoundTripsPerWrite: 2, r2UploadMBps: 2, mediaBytes: 4 * 1024 * 1024 });
    expect(timingFigures({})).toMatchObject({ processingMsPerItem: null, d1WriteP95Ms: null, d1RoundTripsPerWrite: null, r2UploadMBps: null });
  });

  it("takes what each counter grew by between two readings", () => {
    expect(metricsDelta({ a: 2, b: 5 }, { a: 7, b: 5, c: 1 })).toEqual({ a: 5, c: 1 });
  });
});
