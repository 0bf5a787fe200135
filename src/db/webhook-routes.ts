/**
 * Call → line routes (`webhook_routes`, with `resources` as a second source), and the claim that decides which line
 * owns an id OpenPhone reports on two lines. Routing itself is in queue/routing.ts.
 *
 * Summary and transcript webhooks name the call but not its line; the route recorded from the call's other events
 * sends them to the same Line Durable Object.
 */

/** Remembers the line of each call; the first route recorded wins (a call never changes lines). */
export async function recordWebhookRoutes(db: D1Database, routes: { resourceId: string; phoneNumberId: string }[], at = Date.now()): Promise<void> {
  if (routes.length === 0) return;
  await db.batch(
    routes.map((r) =>
      db
        .prepare("INSERT INTO webhook_routes (resource_id, phone_number_id, first_seen_at) VALUES (?1, ?2, ?3) ON CONFLICT (resource_id) DO NOTHING")
        .bind(r.resourceId, r.phoneNumberId, at),
    ),
  );
}

/** The line of a call or message, from the intake's routes or else the synced resources mirror. */
export async function findLineOfResource(db: D1Database, resourceId: string): Promise<string | undefined> {
  const row = await db
    .prepare(
      `SELECT phone_number_id FROM webhook_routes WHERE resource_id = ?1
       UNION ALL
       SELECT phone_number_id FROM resources WHERE resource_id = ?1
       LIMIT 1`,
    )
    .bind(resourceId)
    .first<{ phone_number_id: string }>();
  return row?.phone_number_id ?? undefined;
}

/** The line of each call or message among `resourceIds` that the intake's routes or the resources mirror know. */
export async function findLinesOfResources(db: D1Database, resourceIds: string[]): Promise<Map<string, string>> {
  if (resourceIds.length === 0) return new Map();
  const placeholders = resourceIds.map((_, i) => `?${i + 1}`).join(", ");
  const { results } = await db
    .prepare(
      `SELECT resource_id, phone_number_id FROM webhook_routes WHERE resource_id IN (${placeholders})
       UNION SELECT resource_id, phone_number_id FROM resources WHERE resource_id IN (${placeholders})`,
    )
    .bind(...resourceIds)
    .all<{ resource_id: string; phone_number_id: string }>();
  return new Map(results.map((r) => [r.resource_id, r.phone_number_id]));
}

/**
 * Claims `resourceId` for `lineId` unless a line holds it already; returns the line that holds it.
 *
 * One id is one page. The line whose object first comes to create the page claims the id here (`resources`, one
 * row per id, strongly consistent across objects) in the same statement that reads who holds it; every other line
 * that sees the id hands its events to the holder, where they are deduplicated and merged into that one page, which
 * keeps showing the holder's line. A row left by an earlier sync already names its line, so a page written before
 * keeps its owner.
 */
export async function claimLineOfResource(db: D1Database, resourceId: string, kind: "call" | "message", lineId: string, now: number): Promise<string> {
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
