/**
 * What a Line Durable Object reports to D1 after a flush, as statements for one `batch()`: a `sync_history` row per
 * resource flushed, the `resources` mirror, dead letters for permanent failures, schema problems (which `/health`
 * shows) and hourly counters. One round trip per alarm, however many calls and texts it flushed.
 */
import { deadLetterUpsert } from "./dead-letters";
import { hourBucket } from "./metrics";

export interface SyncHistoryRow {
  resourceId: string;
  kind: "call" | "message";
  source: string;
  pageId: string | null;
  outcome: "created" | "updated" | "unchanged" | "failed" | "skipped";
  notionRequests: number;
  openphoneRequests: number;
  latencyMs: number | null;
  error: string | null;
}

export interface ResourceMirror {
  resourceId: string;
  kind: "call" | "message";
  lineId: string;
  participant: string | null;
  pageId: string | null;
  canvasPageId: string | null;
  status: string | null;
  occurredAt: number | null;
  firstEventAt: number;
  syncedAt: number | null;
}

export interface DeadLetterRow {
  messageId: string | null;
  queue: string;
  resourceId: string;
  body: unknown;
  reason: string;
  property: string | null;
}

export interface SchemaProblem {
  database: "calls" | "messages";
  /** Empty when the problem is the database itself (not found, not shared). */
  property: string;
  message: string;
}

export interface FlushReport {
  history: SyncHistoryRow[];
  resources: ResourceMirror[];
  deadLetters: DeadLetterRow[];
  schemaProblems: SchemaProblem[];
  /** Databases written successfully in this flush: their open problems are resolved. */
  healthyDatabases: ("calls" | "messages")[];
  metrics: Record<string, number>;
}

export function emptyReport(): FlushReport {
  return { history: [], resources: [], deadLetters: [], schemaProblems: [], healthyDatabases: [], metrics: {} };
}

/** Records a problem as open now; a problem seen again keeps when it was first seen, unless it had been resolved. */
export function schemaProblemUpsert(db: D1Database, p: SchemaProblem, at: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO schema_problems (database, property, message, first_seen_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)
       ON CONFLICT (database, property) DO UPDATE SET message = excluded.message, last_seen_at = excluded.last_seen_at,
         first_seen_at = CASE WHEN schema_problems.resolved_at IS NULL THEN schema_problems.first_seen_at ELSE excluded.first_seen_at END,
         resolved_at = NULL`,
    )
    .bind(p.database, p.property, p.message, at);
}

export function flushReportStatements(db: D1Database, report: FlushReport, at: number): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  for (const h of report.history) {
    statements.push(
      db
        .prepare(
          `INSERT INTO sync_history (resource_id, kind, source, notion_page_id, outcome, notion_requests, openphone_requests, latency_ms, error, at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
        )
        .bind(h.resourceId, h.kind, h.source, h.pageId, h.outcome, h.notionRequests, h.openphoneRequests, h.latencyMs, h.error, at),
    );
  }
  for (const r of report.resources) {
    statements.push(
      db
        .prepare(
          `INSERT INTO resources (resource_id, kind, phone_number_id, participant, notion_page_id, canvas_page_id, status, occurred_at, first_event_at, synced_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
           ON CONFLICT (resource_id) DO UPDATE SET
             phone_number_id = excluded.phone_number_id,
             participant = COALESCE(excluded.participant, resources.participant),
             notion_page_id = COALESCE(excluded.notion_page_id, resources.notion_page_id),
             canvas_page_id = COALESCE(excluded.canvas_page_id, resources.canvas_page_id),
             status = COALESCE(excluded.status, resources.status),
             occurred_at = COALESCE(excluded.occurred_at, resources.occurred_at),
             first_event_at = MIN(excluded.first_event_at, COALESCE(resources.first_event_at, excluded.first_event_at)),
             synced_at = COALESCE(excluded.synced_at, resources.synced_at),
             updated_at = excluded.updated_at`,
        )
        .bind(r.resourceId, r.kind, r.lineId, r.participant, r.pageId, r.canvasPageId, r.status, r.occurredAt, r.firstEventAt, r.syncedAt, at),
    );
  }
  for (const d of report.deadLetters) {
    statements.push(deadLetterUpsert(db, { messageId: d.messageId ?? undefined, queue: d.queue, resourceId: d.resourceId, body: d.body, reason: d.reason, property: d.property ?? undefined, attempts: 0 }, at));
  }
  for (const database of report.healthyDatabases) {
    statements.push(db.prepare("UPDATE schema_problems SET resolved_at = ?1 WHERE database = ?2 AND resolved_at IS NULL").bind(at, database));
  }
  for (const p of report.schemaProblems) statements.push(schemaProblemUpsert(db, p, at));
  const bucket = hourBucket(at);
  for (const [name, value] of Object.entries(report.metrics)) {
    if (value === 0) continue;
    statements.push(
      db
        .prepare("INSERT INTO metrics (name, bucket, value) VALUES (?1, ?2, ?3) ON CONFLICT (name, bucket) DO UPDATE SET value = value + excluded.value")
        .bind(name, bucket, value),
    );
  }
  return statements;
}

export interface OpenSchemaProblem extends SchemaProblem {
  firstSeenAt: number;
  lastSeenAt: number;
}

/** Schema problems not resolved by a later successful write, newest first. */
export async function listSchemaProblems(db: D1Database): Promise<OpenSchemaProblem[]> {
  const { results } = await db
    .prepare("SELECT database, property, message, first_seen_at, last_seen_at FROM schema_problems WHERE resolved_at IS NULL ORDER BY last_seen_at DESC LIMIT 20")
    .all<{ database: "calls" | "messages"; property: string; message: string; first_seen_at: number; last_seen_at: number }>();
  return results.map((r) => ({ database: r.database, property: r.property, message: r.message, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at }));
}

/** The line a call or text was written by (its `phone_number_id` in the `resources` mirror), or null before it was. */
export async function lineOfResource(db: D1Database, resourceId: string): Promise<string | null> {
  const row = await db.prepare("SELECT phone_number_id FROM resources WHERE resource_id = ?1").bind(resourceId).first<{ phone_number_id: string }>();
  return row ? row.phone_number_id : null;
}

/** Whether a call or text has been written, and which it is, from the `resources` mirror (null before it was). */
export async function kindOfResource(db: D1Database, resourceId: string): Promise<"call" | "message" | null> {
  const row = await db.prepare("SELECT kind FROM resources WHERE resource_id = ?1").bind(resourceId).first<{ kind: "call" | "message" }>();
  return row?.kind ?? null;
}

/** The line (Line Durable Object name) of each call or text that has been written, from the `resources` mirror. */
export async function linesOfResources(db: D1Database, resourceIds: string[]): Promise<{ resourceId: string; lineId: string }[]> {
  if (resourceIds.length === 0) return [];
  const placeholders = resourceIds.map((_, i) => `?${i + 1}`).join(", ");
  const { results } = await db
    .prepare(`SELECT resource_id, phone_number_id FROM resources WHERE resource_id IN (${placeholders}) AND phone_number_id LIKE 'PN%'`)
    .bind(...resourceIds)
    .all<{ resource_id: string; phone_number_id: string }>();
  return results.map((r) => ({ resourceId: r.resource_id, lineId: r.phone_number_id }));
}

export interface FlushErrors {
  flushes: number;
  /** Flushes that failed or were put back for a retry. */
  errors: number;
  latestErrorAt: number | null;
}

/** Flushes since `since` and how many of them recorded an error. */
export async function readFlushErrors(db: D1Database, since: number): Promise<FlushErrors> {
  const row = await db
    .prepare("SELECT COUNT(*) AS flushes, COUNT(error) AS errors, MAX(CASE WHEN error IS NOT NULL THEN at END) AS latest_at FROM sync_history WHERE at >= ?1")
    .bind(since)
    .first<{ flushes: number; errors: number; latest_at: number | null }>();
  return { flushes: row?.flushes ?? 0, errors: row?.errors ?? 0, latestErrorAt: row?.latest_at ?? null };
}

/** The commonest flush errors since `since`, most frequent (then most recent) first. */
export async function readCommonFlushErrors(db: D1Database, since: number, limit = 3): Promise<{ error: string; count: number }[]> {
  const { results } = await db
    .prepare("SELECT error, COUNT(*) AS n FROM sync_history WHERE at >= ?1 AND error IS NOT NULL GROUP BY error ORDER BY n DESC, MAX(at) DESC LIMIT ?2")
    .bind(since, limit)
    .all<{ error: string; n: number }>();
  return results.map((r) => ({ error: r.error, count: r.n }));
}

/** A row of the `sync_stats_today` view, as the dashboard shows it: today's flushes by kind and outcome. */
export interface SyncStatsRow {
  kind: string;
  outcome: string;
  syncs: number;
  notion_requests: number | null;
  openphone_requests: number | null;
  avg_latency_ms: number | null;
  max_latency_ms: number | null;
}

export async function readSyncStatsToday(db: D1Database): Promise<SyncStatsRow[]> {
  const { results } = await db.prepare("SELECT * FROM sync_stats_today ORDER BY kind, outcome").all<SyncStatsRow>();
  return results;
}
