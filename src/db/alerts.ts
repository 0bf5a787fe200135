/**
 * Incidents in D1 `alerts`. An incident opens the first time a condition is found true, stays open (its text kept
 * current, nothing sent) while it remains true, and is resolved the first evaluation that finds it false. Its two
 * messages, "opened" and "resolved", each carry a delivery status, so a send that failed is found and sent again.
 */

export type DeliveryStatus = "pending" | "sent" | "failed" | "unconfigured";

export interface Incident {
  id: number;
  key: string;
  openedAt: number;
  resolvedAt: number | null;
  lastText: string;
  lastSeenAt: number;
  openStatus: DeliveryStatus;
  openSentAt: number | null;
  resolvedStatus: DeliveryStatus | null;
  resolvedSentAt: number | null;
  sendAttempts: number;
  lastSendError: string | null;
}

interface IncidentRow {
  id: number;
  key: string;
  opened_at: number;
  resolved_at: number | null;
  last_text: string;
  last_seen_at: number;
  open_status: DeliveryStatus;
  open_sent_at: number | null;
  resolved_status: DeliveryStatus | null;
  resolved_sent_at: number | null;
  send_attempts: number;
  last_send_error: string | null;
}

function toIncident(r: IncidentRow): Incident {
  return {
    id: r.id,
    key: r.key,
    openedAt: r.opened_at,
    resolvedAt: r.resolved_at,
    lastText: r.last_text,
    lastSeenAt: r.last_seen_at,
    openStatus: r.open_status,
    openSentAt: r.open_sent_at,
    resolvedStatus: r.resolved_status,
    resolvedSentAt: r.resolved_sent_at,
    sendAttempts: r.send_attempts,
    lastSendError: r.last_send_error,
  };
}

export async function listOpenIncidents(db: D1Database): Promise<Incident[]> {
  const { results } = await db.prepare("SELECT * FROM alerts WHERE resolved_at IS NULL ORDER BY opened_at").all<IncidentRow>();
  return results.map(toIncident);
}

/** When the last incident of `key` was resolved; null when none has been. */
export async function lastResolvedAt(db: D1Database, key: string): Promise<number | null> {
  const row = await db.prepare("SELECT MAX(resolved_at) AS at FROM alerts WHERE key = ?1").bind(key).first<{ at: number | null }>();
  return row?.at ?? null;
}

export async function listRecentIncidents(db: D1Database, limit = 20): Promise<Incident[]> {
  const { results } = await db.prepare("SELECT * FROM alerts ORDER BY id DESC LIMIT ?1").bind(limit).all<IncidentRow>();
  return results.map(toIncident);
}

/** What one evaluation found: incidents to open, open ones still true (new text), open ones now false. */
export interface IncidentChanges {
  open: { key: string; text: string }[];
  stillOpen: { id: number; text: string }[];
  resolve: number[];
}

export async function applyIncidentChanges(db: D1Database, changes: IncidentChanges, now: number): Promise<void> {
  const statements = [
    // A concurrent evaluation may have opened the same key a moment ago: the unique index keeps one open incident.
    ...changes.open.map((o) =>
      db.prepare("INSERT INTO alerts (key, opened_at, last_text, last_seen_at) VALUES (?1, ?2, ?3, ?2) ON CONFLICT DO NOTHING").bind(o.key, now, o.text),
    ),
    ...changes.stillOpen.map((o) => db.prepare("UPDATE alerts SET last_text = ?1, last_seen_at = ?2 WHERE id = ?3").bind(o.text, now, o.id)),
    ...changes.resolve.map((id) =>
      db.prepare("UPDATE alerts SET resolved_at = ?1, resolved_status = 'pending' WHERE id = ?2 AND resolved_at IS NULL").bind(now, id),
    ),
  ];
  if (statements.length > 0) await db.batch(statements);
}

/**
 * Messages not yet delivered, oldest first: an "opened" not sent, or a "resolved" not sent. Incidents older than a
 * day are left as they are (shown as failed on the dashboard) rather than announced late.
 */
export async function listUndelivered(db: D1Database, now: number, limit = 10): Promise<Incident[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM alerts
       WHERE (open_status IN ('pending', 'failed') OR resolved_status IN ('pending', 'failed')) AND last_seen_at >= ?1
       ORDER BY id LIMIT ?2`,
    )
    .bind(now - 86_400_000, limit)
    .all<IncidentRow>();
  return results.map(toIncident);
}

export async function recordDelivery(
  db: D1Database,
  id: number,
  message: "open" | "resolved",
  status: DeliveryStatus,
  error: string | null,
  now: number,
): Promise<void> {
  const column = message === "open" ? "open" : "resolved";
  await db
    .prepare(
      `UPDATE alerts SET ${column}_status = ?1, ${column}_sent_at = CASE WHEN ?1 = 'sent' THEN ?2 ELSE ${column}_sent_at END,
       send_attempts = send_attempts + CASE WHEN ?1 IN ('sent', 'failed') THEN 1 ELSE 0 END, last_send_error = ?3 WHERE id = ?4`,
    )
    .bind(status, now, error, id)
    .run();
}

/**
 * Claims the evaluation slot when the last evaluation is at least `minIntervalMs` old (0: always). One statement,
 * so of several consumers racing for it only one gets it. Returns when the previous evaluation was (0 = never),
 * or null when the slot was not free.
 */
export async function claimEvaluation(db: D1Database, now: number, minIntervalMs: number): Promise<number | null> {
  const previous = await db.prepare("SELECT evaluated_at FROM alert_evaluations WHERE id = 1").first<{ evaluated_at: number }>();
  const claim = await db
    .prepare(
      `INSERT INTO alert_evaluations (id, evaluated_at) VALUES (1, ?1)
       ON CONFLICT (id) DO UPDATE SET evaluated_at = excluded.evaluated_at WHERE evaluated_at <= ?2`,
    )
    .bind(now, now - minIntervalMs)
    .run();
  return claim.meta.changes > 0 ? (previous?.evaluated_at ?? 0) : null;
}
