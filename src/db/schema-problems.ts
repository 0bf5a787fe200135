/**
 * The doctor's side of `schema_problems`: after it has looked at a database it records what is wrong there now and
 * resolves every open row whose cause is gone (a property renamed back, a token replaced), so `/health` shows a
 * problem before a write fails on it and stops showing it once it is fixed. The flush's side is in `sync-history.ts`.
 */
import { schemaProblemUpsert, type SchemaProblem } from "./sync-history";

export interface SchemaFindings {
  database: "calls" | "messages";
  /** `properties`: every property was compared, so rows not found again are resolved. `access`: only the database
   * itself was reached (or refused), so only the database-level row ('' property) is decided. */
  scope: "properties" | "access";
  problems: SchemaProblem[];
}

/** Records the findings and resolves rows not found again; resolves to how many rows it resolved. */
export async function reconcileSchemaProblems(db: D1Database, findings: SchemaFindings, at = Date.now()): Promise<number> {
  const { database, scope, problems } = findings;
  const found = problems.map((p) => p.property);
  const statements: D1PreparedStatement[] = [];
  const keep = found.length > 0 ? ` AND property NOT IN (${found.map((_, i) => `?${i + 3}`).join(", ")})` : "";
  const where = scope === "properties" ? `database = ?2 AND resolved_at IS NULL${keep}` : `database = ?2 AND resolved_at IS NULL AND property = ''${keep}`;
  statements.push(db.prepare(`UPDATE schema_problems SET resolved_at = ?1 WHERE ${where}`).bind(at, database, ...found));
  for (const p of problems) statements.push(schemaProblemUpsert(db, p, at));
  const [resolved] = await db.batch(statements);
  return resolved?.meta.changes ?? 0;
}
