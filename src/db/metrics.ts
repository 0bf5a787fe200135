/** Hourly counters in D1 (`metrics`). Increments are batched: one statement per distinct counter, one round trip. */

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
