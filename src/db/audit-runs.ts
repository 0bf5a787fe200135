/**
 * Audit results in D1 (`audit_runs`) and the record of every duplicate page merged away (`duplicate_repairs`).
 * The dashboard and the drift alert read `latestAudit`; nothing has to run an audit to know how the last one went.
 */

export interface AuditFigures {
  id: string;
  trigger: "api" | "cron";
  since: number;
  startedAt: number;
  endedAt: number;
  checked: number;
  missing: number;
  duplicated: number;
  stale: number;
  complete: boolean;
  stoppedBy: string | null;
  openphoneRequests: number;
  notionRequests: number;
}

export interface AuditRunRecord extends AuditFigures {
  repaired: unknown;
  drift: unknown;
}

/** Drift kept with a run: enough to act on, never an unbounded row. */
const DRIFT_KEPT = 200;

export async function insertAuditRun(db: D1Database, run: AuditRunRecord): Promise<void> {
  const cap = (value: unknown) => (Array.isArray(value) ? value.slice(0, DRIFT_KEPT) : value);
  const drift = run.drift as { missing?: unknown[]; duplicated?: unknown[]; stale?: unknown[] };
  await db
    .prepare(
      `INSERT INTO audit_runs (id, trigger, since, started_at, ended_at, checked, missing, duplicated, stale, complete, stopped_by,
         openphone_requests, notion_requests, repaired, drift)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)`,
    )
    .bind(
      run.id,
      run.trigger,
      run.since,
      run.startedAt,
      run.endedAt,
      run.checked,
      run.missing,
      run.duplicated,
      run.stale,
      run.complete ? 1 : 0,
      run.stoppedBy,
      run.openphoneRequests,
      run.notionRequests,
      run.repaired === undefined ? null : JSON.stringify(run.repaired),
      JSON.stringify({ missing: cap(drift.missing), duplicated: cap(drift.duplicated), stale: cap(drift.stale) }),
    )
    .run();
}

interface AuditRow {
  id: string;
  trigger: "api" | "cron";
  since: number;
  started_at: number;
  ended_at: number;
  checked: number;
  missing: number;
  duplicated: number;
  stale: number;
  complete: number;
  stopped_by: string | null;
  openphone_requests: number;
  notion_requests: number;
}

/** The figures of the most recent audit (API or cron), or null when none has run. */
export async function latestAudit(db: D1Database): Promise<AuditFigures | null> {
  const row = await db
    .prepare(
      `SELECT id, trigger, since, started_at, ended_at, checked, missing, duplicated, stale, complete, stopped_by, openphone_requests, notion_requests
       FROM audit_runs ORDER BY ended_at DESC, rowid DESC LIMIT 1`,
    )
    .first<AuditRow>();
  if (!row) return null;
  return {
    id: row.id,
    trigger: row.trigger,
    since: row.since,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    checked: row.checked,
    missing: row.missing,
    duplicated: row.duplicated,
    stale: row.stale,
    complete: row.complete === 1,
    stoppedBy: row.stopped_by,
    openphoneRequests: row.openphone_requests,
    notionRequests: row.notion_requests,
  };
}

export interface DuplicateRepairRecord {
  auditId: string | null;
  kind: "call" | "message";
  resourceId: string;
  keptPageId: string;
  trashedPageId: string;
  movedProperties: string[];
  movedBlocks: number;
  repairedAt: number;
}

export async function recordDuplicateRepair(db: D1Database, r: DuplicateRepairRecord): Promise<void> {
  await db
    .prepare(
      `INSERT INTO duplicate_repairs (audit_id, kind, resource_id, kept_page_id, trashed_page_id, moved_properties, moved_blocks, repaired_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
    )
    .bind(r.auditId, r.kind, r.resourceId, r.keptPageId, r.trashedPageId, JSON.stringify(r.movedProperties), r.movedBlocks, r.repairedAt)
    .run();
}
