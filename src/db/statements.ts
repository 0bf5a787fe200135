/**
 * Runs a list of D1 statements: one batch (one round trip, all or nothing) while `D1_BATCHING_ENABLED` is on, else
 * one statement per round trip in order, for rollback. The rows written are the same either way; what differs is the
 * number of round trips (returned) and that a failure part-way leaves the earlier statements applied.
 */
export async function runStatements(db: D1Database, statements: D1PreparedStatement[], batched: boolean): Promise<number> {
  if (statements.length === 0) return 0;
  if (batched) {
    await db.batch(statements);
    return 1;
  }
  for (const statement of statements) await statement.run();
  return statements.length;
}
