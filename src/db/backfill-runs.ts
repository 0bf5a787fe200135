/**
 * D1 queries for backfill runs (`backfill_runs`), their per-line job chains (`backfill_run_lines`) and the line
 * watermarks (`lines.backfill_watermark`). A chain's step moves by compare-and-set, and every counter of that step
 * is added in the same batch only if this invocation won it, so duplicate queue deliveries never double-count.
 */
import type { LineCursor } from "../backfill/plan";
import type { LineChainStatus, RunCounters, RunStatus, RunTrigger } from "../backfill/types";

export type { RunStatus, RunTrigger };

export interface LineInfo {
  lineId: string;
  number?: string;
  name?: string;
}

export interface NewRun {
  id: string;
  trigger: RunTrigger;
  since: number | null;
  /** The lines asked for; null = every line. */
  requestedLines: string[] | null;
  lines: LineInfo[];
  openphoneRequests: number;
  startedAt: number;
}

/** Counters added by one committed step (`written` is credited later, by the lines, as they write to Notion). */
export interface StepCounts extends Omit<RunCounters, "written"> {
  openphoneRequests: number;
}

export function zeroCounts(): StepCounts {
  return { planned: 0, listed: 0, fetched: 0, handed: 0, skipped: 0, failed: 0, openphoneRequests: 0 };
}

export interface RunLineRow {
  run_id: string;
  line_id: string;
  status: LineChainStatus;
  step: number;
  cursor: string;
  conversations: number;
  listed: number;
  items: number;
  error: string | null;
  started_at: number;
  updated_at: number;
  ended_at: number | null;
}

export interface RunRow extends RunCounters {
  id: string;
  status: RunStatus;
  trigger: RunTrigger;
  since: number | null;
  lines: string | null;
  openphone_requests: number;
  notion_requests: number;
  error: string | null;
  started_at: number;
  ended_at: number | null;
}

/** The run that is backfilling any of these lines now, if one is. */
export async function findRunningRun(db: D1Database, lineIds: string[]): Promise<string | null> {
  if (lineIds.length === 0) return null;
  const marks = lineIds.map((_, i) => `?${i + 1}`).join(", ");
  const row = await db
    .prepare(`SELECT run_id FROM backfill_run_lines WHERE status = 'running' AND line_id IN (${marks}) ORDER BY started_at LIMIT 1`)
    .bind(...lineIds)
    .first<{ run_id: string }>();
  return row?.run_id ?? null;
}

/**
 * Creates the run and one running chain per line in one transaction. Resolves to false when one of the lines is
 * already running (the unique index refused it) and nothing was written.
 */
export async function insertRun(db: D1Database, run: NewRun, firstCursor: LineCursor): Promise<boolean> {
  const statements = [
    db
      .prepare(
        `INSERT INTO backfill_runs (id, status, trigger, since, lines, openphone_requests, started_at)
         VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6)`,
      )
      .bind(run.id, run.trigger, run.since, run.requestedLines ? JSON.stringify(run.requestedLines) : null, run.openphoneRequests, run.startedAt),
    ...run.lines.map((line) =>
      db
        .prepare(
          `INSERT INTO backfill_run_lines (run_id, line_id, status, step, cursor, started_at, updated_at)
           VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?5)`,
        )
        .bind(run.id, line.lineId, firstCursor.step, JSON.stringify(firstCursor), run.startedAt),
    ),
    ...run.lines.map((line) =>
      db
        .prepare(
          `INSERT INTO lines (phone_number_id, number, name, updated_at) VALUES (?1, ?2, ?3, ?4)
           ON CONFLICT (phone_number_id) DO UPDATE SET number = COALESCE(excluded.number, number),
             name = COALESCE(excluded.name, name), updated_at = excluded.updated_at`,
        )
        .bind(line.lineId, line.number ?? null, line.name ?? null, run.startedAt),
    ),
  ];
  try {
    await db.batch(statements);
    return true;
  } catch (error) {
    if (/UNIQUE constraint failed: backfill_run_lines\.line_id/i.test(String(error))) return false;
    throw error;
  }
}

/** Marks chains that stopped moving as failed, so a lost chain cannot block its line forever. */
export async function failStaleChains(db: D1Database, now: number, staleMs: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      `UPDATE backfill_run_lines SET status = 'failed', error = 'no progress for ' || ?2 || ' minutes', ended_at = ?1, updated_at = ?1
       WHERE status = 'running' AND updated_at < ?1 - ?3 RETURNING run_id`,
    )
    .bind(now, Math.round(staleMs / 60_000), staleMs)
    .all<{ run_id: string }>();
  const runIds = [...new Set(results.map((r) => r.run_id))];
  for (const runId of runIds) await finishRunIfDone(db, runId, now);
  return runIds;
}

/** Running chains whose last step is older than `idleMs`: their next message may have been lost (a local restart). */
export async function idleChains(db: D1Database, now: number, idleMs: number): Promise<{ runId: string; lineId: string; cursor: LineCursor }[]> {
  const { results } = await db
    .prepare("SELECT run_id, line_id, cursor FROM backfill_run_lines WHERE status = 'running' AND updated_at < ?1")
    .bind(now - idleMs)
    .all<{ run_id: string; line_id: string; cursor: string }>();
  return results.map((r) => ({ runId: r.run_id, lineId: r.line_id, cursor: JSON.parse(r.cursor) as LineCursor }));
}

/** Marks a chain as just looked after, so it is not revived again before it had a chance to move. */
export async function touchChain(db: D1Database, runId: string, lineId: string, now: number): Promise<void> {
  await db.prepare("UPDATE backfill_run_lines SET updated_at = ?3 WHERE run_id = ?1 AND line_id = ?2 AND status = 'running'").bind(runId, lineId, now).run();
}

export async function getRunLine(db: D1Database, runId: string, lineId: string): Promise<RunLineRow | null> {
  return db.prepare("SELECT * FROM backfill_run_lines WHERE run_id = ?1 AND line_id = ?2").bind(runId, lineId).first<RunLineRow>();
}

/** The line's own number and its two watermarks (the backfill's and the sweep's), as stored when a run started. */
export async function getLineRecord(db: D1Database, lineId: string): Promise<{ number: string | null; watermark: number | null; sweepWatermark: number | null }> {
  const row = await db
    .prepare("SELECT number, backfill_watermark, sweep_watermark FROM lines WHERE phone_number_id = ?1")
    .bind(lineId)
    .first<{ number: string | null; backfill_watermark: number | null; sweep_watermark: number | null }>();
  return { number: row?.number ?? null, watermark: row?.backfill_watermark ?? null, sweepWatermark: row?.sweep_watermark ?? null };
}

/** What a step needs to know of its run: the explicit `since`, and what started it. */
export async function getRunWindow(db: D1Database, runId: string): Promise<{ since: number | null; trigger: RunTrigger } | null> {
  return db.prepare("SELECT since, trigger FROM backfill_runs WHERE id = ?1").bind(runId).first<{ since: number | null; trigger: RunTrigger }>();
}

/** When the latest sweep started (epoch ms), or null before the first. */
export async function lastSweepStartedAt(db: D1Database): Promise<number | null> {
  const row = await db.prepare("SELECT MAX(started_at) AS at FROM backfill_runs WHERE trigger = 'sweep'").first<{ at: number | null }>();
  return row?.at ?? null;
}

/**
 * Ends a running sweep so a backfill can take its lines: the backfill's window covers the sweep's (a sweep starts just
 * before the later watermark, a backfill at its own). The sweep's queued steps find their chains ended and stop.
 */
export async function supersedeSweep(db: D1Database, runId: string, byRunReason: string, now: number): Promise<void> {
  await db.batch([
    db.prepare("UPDATE backfill_run_lines SET status = 'completed', error = ?2, ended_at = ?3, updated_at = ?3 WHERE run_id = ?1 AND status = 'running'").bind(runId, byRunReason, now),
    db.prepare("UPDATE backfill_runs SET status = 'cancelled', error = ?2, ended_at = ?3 WHERE id = ?1 AND trigger = 'sweep' AND status = 'running'").bind(runId, byRunReason, now),
  ]);
}

export interface StepCommit {
  runId: string;
  lineId: string;
  /** The step that was processed; the chain moves to `cursor.step`. */
  step: number;
  attempt: string;
  cursor: LineCursor;
  status: "running" | "completed" | "failed";
  counts: StepCounts;
  /** Set when the chain completed: the line's new watermark (it only moves forward). */
  watermark?: number;
  /** Which watermark `watermark` moves: a sweep's never moves the backfill's. */
  watermarkKind?: "backfill" | "sweep";
  error?: string;
  now: number;
}

/** Commits one step. Resolves to true when this invocation won the step (and its counters were added). */
export async function commitStep(db: D1Database, c: StepCommit): Promise<boolean> {
  const ended = c.status === "running" ? null : c.now;
  const won = `EXISTS (SELECT 1 FROM backfill_run_lines WHERE run_id = ?1 AND line_id = ?2 AND attempt = ?3)`;
  const statements = [
    db
      .prepare(
        `UPDATE backfill_run_lines SET step = ?4, cursor = ?5, attempt = ?3, status = ?6, conversations = conversations + ?7,
           listed = listed + ?8, items = items + ?9, error = COALESCE(?10, error), updated_at = ?11, ended_at = ?12
         WHERE run_id = ?1 AND line_id = ?2 AND step = ?13 AND status = 'running'`,
      )
      .bind(c.runId, c.lineId, c.attempt, c.cursor.step, JSON.stringify(c.cursor), c.status, c.counts.planned, c.counts.listed, c.counts.fetched, c.error ?? null, c.now, ended, c.step),
    db
      .prepare(
        `UPDATE backfill_runs SET planned = planned + ?4, listed = listed + ?5, fetched = fetched + ?6, handed = handed + ?7,
           skipped = skipped + ?8, failed = failed + ?9, openphone_requests = openphone_requests + ?10, error = COALESCE(?11, error)
         WHERE id = ?1 AND ${won}`,
      )
      .bind(c.runId, c.lineId, c.attempt, c.counts.planned, c.counts.listed, c.counts.fetched, c.counts.handed, c.counts.skipped, c.counts.failed, c.counts.openphoneRequests, c.error ?? null),
  ];
  if (c.watermark !== undefined) {
    const column = c.watermarkKind === "sweep" ? "sweep_watermark" : "backfill_watermark";
    statements.push(
      db
        .prepare(
          `INSERT INTO lines (phone_number_id, ${column}, updated_at) SELECT ?2, ?4, ?5 WHERE ${won}
           ON CONFLICT (phone_number_id) DO UPDATE SET
             ${column} = MAX(COALESCE(${column}, 0), excluded.${column}), updated_at = excluded.updated_at`,
        )
        .bind(c.runId, c.lineId, c.attempt, c.watermark, c.now),
    );
  }
  const [line] = await db.batch(statements);
  return (line?.meta.changes ?? 0) > 0;
}

/** Ends the run when its last chain has ended: failed if any chain failed, else completed. */
export async function finishRunIfDone(db: D1Database, runId: string, now: number): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE backfill_runs SET ended_at = ?2,
         status = CASE WHEN EXISTS (SELECT 1 FROM backfill_run_lines WHERE run_id = ?1 AND status = 'failed') THEN 'failed' ELSE 'completed' END,
         error = COALESCE(error, (SELECT line_id || ': ' || error FROM backfill_run_lines WHERE run_id = ?1 AND status = 'failed' LIMIT 1))
       WHERE id = ?1 AND status = 'running' AND NOT EXISTS (SELECT 1 FROM backfill_run_lines WHERE run_id = ?1 AND status = 'running')`,
    )
    .bind(runId, now)
    .run();
  return result.meta.changes > 0;
}

/** Marks a run failed before any chain started (its jobs could not be queued). */
export async function abandonRun(db: D1Database, runId: string, reason: string, now: number): Promise<void> {
  await db.batch([
    db.prepare("UPDATE backfill_run_lines SET status = 'failed', error = ?2, ended_at = ?3, updated_at = ?3 WHERE run_id = ?1 AND status = 'running'").bind(runId, reason, now),
    db.prepare("UPDATE backfill_runs SET status = 'failed', error = ?2, ended_at = ?3 WHERE id = ?1").bind(runId, reason, now),
  ]);
}

/**
 * For the Line Durable Object's flush: adds what writing backfilled items cost to their run (the envelope carries
 * `backfillRunId`) and the items it wrote to Notion. Batched by the caller: one call per flush, not per item.
 */
export async function addBackfillFlushCounts(db: D1Database, runId: string, counts: { notionRequests?: number; openphoneRequests?: number; failed?: number; written?: number }): Promise<void> {
  await db
    .prepare("UPDATE backfill_runs SET notion_requests = notion_requests + ?2, openphone_requests = openphone_requests + ?3, failed = failed + ?4, written = written + ?5 WHERE id = ?1")
    .bind(runId, counts.notionRequests ?? 0, counts.openphoneRequests ?? 0, counts.failed ?? 0, counts.written ?? 0)
    .run();
}

export async function getRun(db: D1Database, runId: string): Promise<{ run: RunRow; lines: RunLineRow[] } | null> {
  const [runs, lines] = await db.batch([
    db.prepare("SELECT * FROM backfill_runs WHERE id = ?1").bind(runId),
    db.prepare("SELECT * FROM backfill_run_lines WHERE run_id = ?1 ORDER BY line_id").bind(runId),
  ]);
  const run = (runs?.results[0] as RunRow | undefined) ?? null;
  return run ? { run, lines: (lines?.results ?? []) as RunLineRow[] } : null;
}

/** The latest runs, newest first: backfills only, or only the frequent sweeps. */
export async function listRuns(db: D1Database, limit = 20, kind: "backfills" | "sweeps" = "backfills"): Promise<RunRow[]> {
  const { results } = await db
    .prepare(`SELECT * FROM backfill_runs WHERE trigger ${kind === "sweeps" ? "=" : "<>"} 'sweep' ORDER BY started_at DESC LIMIT ?1`)
    .bind(limit)
    .all<RunRow>();
  return results;
}
