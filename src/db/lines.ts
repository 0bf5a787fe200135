/** The workspace's lines as D1 knows them (`lines`, `line_objects`), for the line filter and the dashboard. */

export interface KnownLine {
  id: string;
  /** E.164, when known. */
  number: string | null;
  name: string | null;
}

export async function readLineNumber(db: D1Database, lineId: string): Promise<string | null> {
  const row = await db.prepare("SELECT number FROM lines WHERE phone_number_id = ?1").bind(lineId).first<{ number: string | null }>();
  return row?.number ?? null;
}

/** Every line in `lines` (from OpenPhone's list, the backfill, the intake) and every line that was handed work. */
export async function listKnownLines(db: D1Database): Promise<KnownLine[]> {
  const { results } = await db
    .prepare(
      `SELECT phone_number_id AS id, number, name FROM lines
       UNION SELECT name AS id, NULL, NULL FROM line_objects WHERE name LIKE 'PN%' AND name NOT IN (SELECT phone_number_id FROM lines)
       ORDER BY id`,
    )
    .all<KnownLine>();
  return results;
}

/** A line the intake saw (also when it is skipped), so the dashboard can list it; its number comes later. */
export async function rememberSeenLine(db: D1Database, lineId: string, now: number): Promise<void> {
  await db.prepare("INSERT INTO lines (phone_number_id, updated_at) VALUES (?1, ?2) ON CONFLICT (phone_number_id) DO NOTHING").bind(lineId, now).run();
}

/** Lists a Line Durable Object in `line_objects` (kept from its first sighting), so the watchdog and the stats ask it. */
export async function registerLineObject(db: D1Database, name: string, now: number): Promise<void> {
  await db.prepare("INSERT OR IGNORE INTO line_objects (name, first_seen_at) VALUES (?1, ?2)").bind(name, now).run();
}

/** Every Line Durable Object listed in `line_objects`, by name, with the line's display name when it is a known line. */
export async function listLineObjects(db: D1Database): Promise<{ object: string; name: string | null }[]> {
  const { results } = await db.prepare("SELECT o.name AS object, l.name AS name FROM line_objects o LEFT JOIN lines l ON l.phone_number_id = o.name ORDER BY o.name").all<{ object: string; name: string | null }>();
  return results;
}

/** A line as OpenPhone lists it (number normalised to E.164 where it could be), replacing what was known of it. */
export function upsertLineStatement(db: D1Database, line: KnownLine, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO lines (phone_number_id, number, name, updated_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (phone_number_id) DO UPDATE SET number = excluded.number, name = excluded.name, updated_at = excluded.updated_at`,
    )
    .bind(line.id, line.number, line.name, now);
}
