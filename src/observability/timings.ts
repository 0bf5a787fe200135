/**
 * Timings the Worker records about its own work, kept as hourly counters beside the others in D1 `metrics`:
 *
 * - `flush.processing_ms` / `flush.processed`: the time a line spends on one call or text in a flush (enrichment,
 *   mapping, the Notion writes themselves), leaving out the waits for a permit of the Notion or OpenPhone gate and the
 *   coalescing window before it (the flush starts when the window has ended);
 * - `d1.batch_ms.le_<bound>`: the D1 write that records a flush, counted in the first bucket its time fits, and
 *   `d1.flush_round_trips` beside it: the round trips those writes took (one each while `D1_BATCHING_ENABLED` is on,
 *   one per statement while it is off);
 * - `media.upload_ms` beside `media.bytes`: the time of each recording, voicemail or MMS file from the request for its
 *   source to its last byte in R2.
 *
 * `timingFigures` turns those counters (a day of them on `/admin/stats`, or the difference of two readings) into the
 * figures the targets speak of: mean processing time, D1 write p95 and R2 upload speed.
 */

/**
 * Upper bounds (ms) of the D1 write buckets; a write slower than the last one is counted under `inf`. 40 sits below
 * the 50 ms target, so a p95 that meets it reads as a bound under 50 rather than 50 itself.
 */
export const D1_WRITE_BUCKETS_MS = [5, 10, 25, 40, 50, 100, 250, 500, 1000, 5000] as const;
const D1_WRITE_PREFIX = "d1.batch_ms.le_";

/** The counter a D1 write of `ms` is counted under. */
export function d1WriteBucket(ms: number): string {
  const bound = D1_WRITE_BUCKETS_MS.find((b) => ms <= b);
  return `${D1_WRITE_PREFIX}${bound ?? "inf"}`;
}

/**
 * The `p`th percentile (0–100) of the bucketed D1 writes, as the upper bound of the bucket it falls in (ms; Infinity
 * for the open bucket); null when no write was counted.
 */
export function bucketPercentile(metrics: Record<string, number>, p: number): number | null {
  const buckets = [...D1_WRITE_BUCKETS_MS.map((b) => ({ bound: b as number, n: metrics[`${D1_WRITE_PREFIX}${b}`] ?? 0 })), { bound: Infinity, n: metrics[`${D1_WRITE_PREFIX}inf`] ?? 0 }];
  const total = buckets.reduce((sum, b) => sum + b.n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * total));
  let seen = 0;
  for (const b of buckets) {
    seen += b.n;
    if (seen >= rank) return b.bound;
  }
  return Infinity;
}

export interface TimingFigures {
  /** Mean time per call or text flushed, without gate waits (ms); null when nothing was flushed. */
  processingMsPerItem: number | null;
  itemsProcessed: number;
  /** Upper bound of the bucket holding the 95th percentile of D1 flush writes (ms). */
  d1WriteP95Ms: number | null;
  d1Writes: number;
  /** Mean D1 round trips per flush write; null when no write was counted. */
  d1RoundTripsPerWrite: number | null;
  /** Bytes stored in R2 per second of upload, in MB (2^20 bytes) per second; null when nothing was stored. */
  r2UploadMBps: number | null;
  mediaBytes: number;
}

export function timingFigures(metrics: Record<string, number>): TimingFigures {
  const items = metrics["flush.processed"] ?? 0;
  const d1Writes = Object.entries(metrics).filter(([name]) => name.startsWith(D1_WRITE_PREFIX)).reduce((sum, [, n]) => sum + n, 0);
  const bytes = metrics["media.bytes"] ?? 0;
  const uploadMs = metrics["media.upload_ms"] ?? 0;
  return {
    processingMsPerItem: items > 0 ? (metrics["flush.processing_ms"] ?? 0) / items : null,
    itemsProcessed: items,
    d1WriteP95Ms: bucketPercentile(metrics, 95),
    d1Writes,
    d1RoundTripsPerWrite: d1Writes > 0 ? (metrics["d1.flush_round_trips"] ?? 0) / d1Writes : null,
    r2UploadMBps: bytes > 0 && uploadMs > 0 ? bytes / (1024 * 1024) / (uploadMs / 1000) : null,
    mediaBytes: bytes,
  };
}

/** What each counter grew by between two readings (counters only grow within a day). */
export function metricsDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    const grown = value - (before[name] ?? 0);
    if (grown !== 0) delta[name] = grown;
  }
  return delta;
}
