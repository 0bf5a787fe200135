/** Dead letters in D1: work that failed permanently or exhausted its retries, kept whole so it can be replayed. */

export interface DeadLetterInput {
  messageId?: string;
  queue: string;
  resourceId?: string;
  body: unknown;
  reason: string;
  property?: string;
  attempts: number;
}

export interface DeadLetter extends DeadLetterInput {
  id: number;
  createdAt: number;
  replayedAt: number | null;
}

export async function recordDeadLetters(db: D1Database, letters: DeadLetterInput[], at = Date.now()): Promise<void> {
  if (letters.length === 0) return;
  await db.batch(letters.map((l) => deadLetterUpsert(db, l, at)));
}

/** The event a letter carries: the webhook's event id, else the queue message id. */
export function eventKeyOf(letter: Pick<DeadLetterInput, "body" | "messageId">): string | null {
  const eventId = (letter.body as { eventId?: unknown } | null)?.eventId;
  return typeof eventId === "string" && eventId !== "" ? eventId : (letter.messageId ?? null);
}

/**
 * One letter as an upsert: an event whose letter is still open gets that letter's reason, property and attempts
 * brought up to date, so a call that fails again and again stays one row per event.
 */
export function deadLetterUpsert(db: D1Database, l: DeadLetterInput, at: number): D1PreparedStatement {
  const { body, reason } = storableBody(l);
  return db
    .prepare(
      `INSERT INTO dead_letters (message_id, queue, resource_id, body, reason, property, attempts, created_at, event_key)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
       ON CONFLICT (event_key) WHERE event_key IS NOT NULL AND replayed_at IS NULL DO UPDATE SET
         message_id = excluded.message_id, queue = excluded.queue, resource_id = COALESCE(excluded.resource_id, dead_letters.resource_id),
         body = excluded.body, reason = excluded.reason, property = excluded.property,
         attempts = MAX(dead_letters.attempts, excluded.attempts)`,
    )
    .bind(l.messageId ?? null, l.queue, l.resourceId ?? null, body, reason, l.property ?? null, l.attempts, at, eventKeyOf(l));
}

/** The body as JSON; one that cannot be serialised is left out and the reason says so, so the letter is still kept. */
function storableBody(l: DeadLetterInput): { body: string; reason: string } {
  try {
    return { body: JSON.stringify(l.body ?? null), reason: l.reason };
  } catch (error) {
    return { body: "null", reason: `${l.reason} (the body could not be kept: ${error instanceof Error ? error.message : String(error)})` };
  }
}

interface DeadLetterRow {
  id: number;
  message_id: string | null;
  queue: string;
  resource_id: string | null;
  body: string;
  reason: string;
  property: string | null;
  attempts: number;
  created_at: number;
  replayed_at: number | null;
}

function toDeadLetter(r: DeadLetterRow): DeadLetter {
  return {
    id: r.id,
    messageId: r.message_id ?? undefined,
    queue: r.queue,
    resourceId: r.resource_id ?? undefined,
    body: JSON.parse(r.body),
    reason: r.reason,
    property: r.property ?? undefined,
    attempts: r.attempts,
    createdAt: r.created_at,
    replayedAt: r.replayed_at,
  };
}

export async function listOpenDeadLetters(db: D1Database, limit = 100): Promise<DeadLetter[]> {
  const { results } = await db
    .prepare("SELECT * FROM dead_letters WHERE replayed_at IS NULL ORDER BY id LIMIT ?1")
    .bind(limit)
    .all<DeadLetterRow>();
  return results.map(toDeadLetter);
}

/** The dead letters with these ids, open or replayed; ids that do not exist are simply absent. */
export async function getDeadLetters(db: D1Database, ids: number[]): Promise<DeadLetter[]> {
  if (ids.length === 0) return [];
  const letters: DeadLetter[] = [];
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const { results } = await db
      .prepare(`SELECT * FROM dead_letters WHERE id IN (${chunk.map((_, j) => `?${j + 1}`).join(", ")}) ORDER BY id`)
      .bind(...chunk)
      .all<DeadLetterRow>();
    letters.push(...results.map(toDeadLetter));
  }
  return letters;
}

/** What groups letters: the call or text they belong to, or the letter itself when it names none. */
const ITEM = "COALESCE(resource_id, '#' || id)";

/** Letters belong to one item: a call or text (its id), or `#<letter id>` for a letter that names none. */
export function itemOf(letter: Pick<DeadLetter, "id" | "resourceId">): string {
  return letter.resourceId ?? `#${letter.id}`;
}

/** The open letters of the `limit` oldest items with open letters, oldest item first. */
export async function listOpenDeadLetterItems(db: D1Database, limit = 100): Promise<DeadLetter[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM dead_letters WHERE replayed_at IS NULL AND ${ITEM} IN (
         SELECT ${ITEM} FROM dead_letters WHERE replayed_at IS NULL GROUP BY ${ITEM} ORDER BY MIN(id) LIMIT ?1
       ) ORDER BY id`,
    )
    .bind(limit)
    .all<DeadLetterRow>();
  return results.map(toDeadLetter);
}

/** The open letters of these items (as `itemOf` names them). */
export async function openDeadLettersOfItems(db: D1Database, items: string[]): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (let i = 0; i < items.length; i += 100) {
    const chunk = items.slice(i, i + 100);
    const { results } = await db
      .prepare(`SELECT * FROM dead_letters WHERE replayed_at IS NULL AND ${ITEM} IN (${chunk.map((_, j) => `?${j + 1}`).join(", ")}) ORDER BY id`)
      .bind(...chunk)
      .all<DeadLetterRow>();
    letters.push(...results.map(toDeadLetter));
  }
  return letters;
}

/** Calls and texts (and lone letters) with open dead letters. */
export async function countOpenDeadLetterItems(db: D1Database): Promise<number> {
  const row = await db.prepare(`SELECT COUNT(DISTINCT ${ITEM}) AS n FROM dead_letters WHERE replayed_at IS NULL`).first<{ n: number }>();
  return row?.n ?? 0;
}

export async function countOpenDeadLetters(db: D1Database): Promise<number> {
  const row = await db.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE replayed_at IS NULL").first<{ n: number }>();
  return row?.n ?? 0;
}

export async function markDeadLettersReplayed(db: D1Database, ids: number[], at = Date.now()): Promise<void> {
  if (ids.length === 0) return;
  await db.batch(ids.map((id) => db.prepare("UPDATE dead_letters SET replayed_at = ?1 WHERE id = ?2").bind(at, id)));
}

export interface OpenDeadLetterSummary {
  open: number;
  /** The newest open letter, null when there is none. */
  newest: { id: number; queue: string; resourceId: string | null; reason: string } | null;
}

/** How many letters are open and which is the newest, in one round trip. */
export async function readOpenDeadLetterSummary(db: D1Database): Promise<OpenDeadLetterSummary> {
  const [count, newest] = await db.batch<{ n?: number; id?: number; queue?: string; resource_id?: string | null; reason?: string }>([
    db.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE replayed_at IS NULL"),
    db.prepare("SELECT id, queue, resource_id, reason FROM dead_letters WHERE replayed_at IS NULL ORDER BY id DESC LIMIT 1"),
  ]);
  const last = newest?.results[0];
  return {
    open: count?.results[0]?.n ?? 0,
    newest: last ? { id: last.id!, queue: last.queue!, resourceId: last.resource_id ?? null, reason: String(last.reason) } : null,
  };
}

/**
 * Letters written since `since` by every queue but `exceptQueue`, and the webhooks received over the same hours
 * (hourly `metrics`, so `since` should be the start of an hour), in one round trip.
 */
export async function readQueueFailureCounts(db: D1Database, since: number, exceptQueue: string): Promise<{ deadLettered: number; webhooksReceived: number }> {
  const [letters, received] = await db.batch<{ n: number }>([
    db.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE created_at >= ?1 AND queue != ?2").bind(since, exceptQueue),
    db.prepare("SELECT COALESCE(SUM(value), 0) AS n FROM metrics WHERE bucket >= ?1 AND name = 'webhook.received'").bind(since),
  ]);
  return { deadLettered: letters?.results[0]?.n ?? 0, webhooksReceived: received?.results[0]?.n ?? 0 };
}
