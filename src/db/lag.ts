/**
 * Lag and throughput figures from D1: the five-minute `lag_samples` each line leaves at every cron pass and stats
 * read, and what `sync_history` says about items written and how long a webhook took to become a page. Items are
 * counted as distinct calls and texts, since one item can be flushed several times (a recording arriving later).
 */

export const LAG_BUCKET_MS = 300_000;
/** Samples older than this are deleted when new ones are written, so the table stays small. */
const LAG_SAMPLE_RETENTION_MS = 7 * 86_400_000;

export function lagBucket(at: number): number {
  return Math.floor(at / LAG_BUCKET_MS) * LAG_BUCKET_MS;
}

export interface LagSample {
  lineId: string;
  pending: number;
  /** -1 when the line did not answer. */
  oldestPendingSeconds: number;
}

/** Keeps the worst sample of each line's bucket: a stall seen once in five minutes stays on the chart. */
export async function writeLagSamples(db: D1Database, samples: LagSample[], at: number): Promise<void> {
  const bucket = lagBucket(at);
  await db.batch([
    ...samples.map((s) =>
      db
        .prepare(
          `INSERT INTO lag_samples (line_id, bucket, pending, oldest_pending_seconds) VALUES (?1, ?2, ?3, ?4)
           ON CONFLICT (line_id, bucket) DO UPDATE SET pending = MAX(pending, excluded.pending),
             oldest_pending_seconds = CASE WHEN excluded.oldest_pending_seconds < 0 OR lag_samples.oldest_pending_seconds < 0 THEN -1
               ELSE MAX(lag_samples.oldest_pending_seconds, excluded.oldest_pending_seconds) END`,
        )
        .bind(s.lineId, bucket, s.pending, s.oldestPendingSeconds),
    ),
    db.prepare("DELETE FROM lag_samples WHERE bucket < ?1").bind(at - LAG_SAMPLE_RETENTION_MS),
  ]);
}

export interface LagPoint {
  at: number;
  lineId: string;
  pending: number;
  oldestPendingSeconds: number;
}

export async function readLagSeries(db: D1Database, since: number): Promise<LagPoint[]> {
  const { results } = await db
    .prepare("SELECT line_id, bucket, pending, oldest_pending_seconds FROM lag_samples WHERE bucket >= ?1 ORDER BY bucket, line_id")
    .bind(lagBucket(since))
    .all<{ line_id: string; bucket: number; pending: number; oldest_pending_seconds: number }>();
  return results.map((r) => ({ at: r.bucket, lineId: r.line_id, pending: r.pending, oldestPendingSeconds: r.oldest_pending_seconds }));
}

/** Calls and texts whose page was created or changed, per five-minute bucket. */
export async function readThroughputSeries(db: D1Database, since: number): Promise<{ at: number; items: number }[]> {
  const { results } = await db
    .prepare(
      `SELECT (at / ?2) * ?2 AS bucket, COUNT(DISTINCT resource_id) AS items FROM sync_history
       WHERE at >= ?1 AND outcome IN ('created', 'updated') GROUP BY bucket ORDER BY bucket`,
    )
    .bind(lagBucket(since), LAG_BUCKET_MS)
    .all<{ bucket: number; items: number }>();
  return results.map((r) => ({ at: r.bucket, items: r.items }));
}

export interface WorkspaceLag {
  /** Webhook received → page written, over the window, for items that came in by webhook. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencySamples: number;
  /** Distinct calls and texts written over the last hour, per minute. */
  itemsPerMinute: number;
}

const WRITTEN_BY_WEBHOOK = "at >= ?1 AND source = 'webhook' AND outcome IN ('created', 'updated') AND latency_ms IS NOT NULL";

export async function readWorkspaceLag(db: D1Database, since: number, now: number): Promise<WorkspaceLag> {
  const [count, lastHour] = await db.batch<{ n: number }>([
    db.prepare(`SELECT COUNT(*) AS n FROM sync_history WHERE ${WRITTEN_BY_WEBHOOK}`).bind(since),
    db.prepare("SELECT COUNT(DISTINCT resource_id) AS n FROM sync_history WHERE at >= ?1 AND outcome IN ('created', 'updated')").bind(now - 3_600_000),
  ]);
  const n = count?.results[0]?.n ?? 0;
  const itemsPerMinute = Math.round(((lastHour?.results[0]?.n ?? 0) / 60) * 100) / 100;
  if (n === 0) return { latencyP50Ms: null, latencyP95Ms: null, latencySamples: 0, itemsPerMinute };
  // Nearest-rank percentiles: the value at rank ceil(p·n), read with one indexed offset each.
  const rank = (p: number) => Math.max(0, Math.ceil(p * n) - 1);
  const at = (offset: number) => db.prepare(`SELECT latency_ms AS n FROM sync_history WHERE ${WRITTEN_BY_WEBHOOK} ORDER BY latency_ms LIMIT 1 OFFSET ?2`).bind(since, offset);
  const [p50, p95] = await db.batch<{ n: number }>([at(rank(0.5)), at(rank(0.95))]);
  return { latencyP50Ms: p50?.results[0]?.n ?? null, latencyP95Ms: p95?.results[0]?.n ?? null, latencySamples: n, itemsPerMinute };
}

/** Distinct calls and texts written today (UTC day), and how many of them got a new page. */
export async function readSyncedToday(db: D1Database, now: number): Promise<{ calls: number; texts: number; newPages: number }> {
  const dayStart = Math.floor(now / 86_400_000) * 86_400_000;
  const row = await db
    .prepare(
      `SELECT COUNT(DISTINCT CASE WHEN kind = 'call' THEN resource_id END) AS calls,
              COUNT(DISTINCT CASE WHEN kind = 'message' THEN resource_id END) AS texts,
              COUNT(DISTINCT CASE WHEN outcome = 'created' THEN resource_id END) AS new_pages
       FROM sync_history WHERE at >= ?1 AND outcome IN ('created', 'updated')`,
    )
    .bind(dayStart)
    .first<{ calls: number; texts: number; new_pages: number }>();
  return { calls: row?.calls ?? 0, texts: row?.texts ?? 0, newPages: row?.new_pages ?? 0 };
}
