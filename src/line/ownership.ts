/**
 * Which line's Durable Object writes a call's or text's page when OpenPhone reports the same id on two lines.
 *
 * One id is one page. The line whose object first comes to create the page claims the id in D1 (`resources`, one
 * row per id, strongly consistent across objects) in the same statement that reads who holds it; every other line
 * that sees the id hands its events to the holder, where they are deduplicated and merged into that one page, which
 * keeps showing the holder's line. A row left by an earlier sync already names its line, so a page written before
 * keeps its owner.
 */

/** Claims `resourceId` for `lineId` unless a line holds it already; returns the line that holds it. */
export async function claimOwnership(db: D1Database, resourceId: string, kind: "call" | "message", lineId: string, now: number): Promise<string> {
  const row = await db
    .prepare(
      `INSERT INTO resources (resource_id, kind, phone_number_id, updated_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (resource_id) DO UPDATE SET
         phone_number_id = CASE WHEN resources.phone_number_id LIKE 'PN%' THEN resources.phone_number_id ELSE excluded.phone_number_id END
       RETURNING phone_number_id`,
    )
    .bind(resourceId, kind, lineId, now)
    .first<{ phone_number_id: string }>();
  if (!row) throw new Error(`D1 did not say which line holds ${resourceId}`);
  return row.phone_number_id;
}
