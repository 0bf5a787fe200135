/** Whether D1's schema is in place, for `/health`. */

/** True once the migrations have created the tables (`resources` stands for them all). */
export async function migrationsApplied(db: D1Database): Promise<boolean> {
  const row = await db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'resources'").first<{ n: number }>();
  return row?.n === 1;
}
