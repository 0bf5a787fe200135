/**
 * Call → line routes for the webhook intake (`webhook_routes`, with `resources` as a second source).
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
