/**
 * Hourly counters in D1 (`metrics`). Increments are batched: one statement per distinct counter, one round trip.
 * API requests are counted under `notion.requests` / `openphone.requests` (the lines' flushes and media copies) and
 * `<api>.requests.<source>` (backfill listings, routing, Canvas, admin calls): the names are disjoint, so a total is
 * their sum (`apiRequestTotals`).
 */
import type { CanvasHitRatioRow } from "../canvas/hit-ratio-types";
import { createLogger, type LogLevel } from "../observability/logger";

const HOUR = 3_600_000;

export function hourBucket(at: number): number {
  return Math.floor(at / HOUR) * HOUR;
}

export async function incrementMetrics(db: D1Database, counts: Record<string, number>, at = Date.now()): Promise<void> {
  const bucket = hourBucket(at);
  const statements = Object.entries(counts)
    .filter(([, n]) => n !== 0)
    .map(([name, n]) =>
      db
        .prepare(
          "INSERT INTO metrics (name, bucket, value) VALUES (?1, ?2, ?3) ON CONFLICT (name, bucket) DO UPDATE SET value = value + excluded.value",
        )
        .bind(name, bucket, n),
    );
  if (statements.length > 0) await db.batch(statements);
}

/** Sum of each counter since `since` (epoch ms). */
export async function readMetrics(db: D1Database, since: number): Promise<Record<string, number>> {
  const { results } = await db
    .prepare("SELECT name, SUM(value) AS value FROM metrics WHERE bucket >= ?1 GROUP BY name")
    .bind(hourBucket(since))
    .all<{ name: string; value: number }>();
  return Object.fromEntries(results.map((r) => [r.name, r.value]));
}

/** Every Notion and OpenPhone request counted in `metrics` (as read by `readMetrics`), whatever spent it. */
export function apiRequestTotals(metrics: Record<string, number>): { notion: number; openphone: number } {
  const total = (api: string) =>
    Object.entries(metrics)
      .filter(([name]) => name === `${api}.requests` || name.startsWith(`${api}.requests.`))
      .reduce((n, [, value]) => n + value, 0);
  return { notion: total("notion"), openphone: total("openphone") };
}

/** Counts requests spent outside a flush; a failure to count is logged, never thrown over the work that spent them. */
export async function countRequests(db: D1Database, name: string, n: number, logLevel: LogLevel): Promise<void> {
  if (n === 0) return;
  await incrementMetrics(db, { [name]: n }).catch((error) => createLogger(logLevel).warn("could not count API requests", { name, n, error }));
}

/** Canvas lookups counted since the hour of `since`, and how many of them failed. */
export async function readCanvasLookupCounts(db: D1Database, since: number): Promise<{ lookups: number; failed: number }> {
  const row = await db
    .prepare(
      // `canvas.lookups_failed` sits outside `canvas.lookup.*` so the hit-ratio view counts answered lookups only.
      `SELECT COALESCE(SUM(CASE WHEN name = 'canvas.lookups_failed' THEN value END), 0) AS failed, COALESCE(SUM(value), 0) AS lookups
       FROM metrics WHERE bucket >= ?1 AND (name LIKE 'canvas.lookup.%' OR name = 'canvas.lookups_failed')`,
    )
    .bind(hourBucket(since))
    .first<{ failed: number; lookups: number }>();
  return { lookups: row?.lookups ?? 0, failed: row?.failed ?? 0 };
}

export async function readCanvasHitRatio(db: D1Database): Promise<CanvasHitRatioRow | null> {
  return db.prepare("SELECT * FROM canvas_hit_ratio").first<CanvasHitRatioRow>();
}
