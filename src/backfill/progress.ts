/** The progress of a run as the admin API and the CLI show it: counters, per-line chains, times in ISO. */
import type { RunLineRow, RunRow } from "../db/backfill-runs";
import type { BackfillProgress } from "./types";

export type { BackfillProgress };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toProgress(run: RunRow, lines: RunLineRow[], now: number): BackfillProgress {
  return {
    id: run.id,
    status: run.status,
    trigger: run.trigger,
    since: iso(run.since),
    lines: lines.map((l) => ({ id: l.line_id, status: l.status, conversations: l.conversations, listed: l.listed, items: l.items, error: l.error })),
    planned: run.planned,
    listed: run.listed,
    fetched: run.fetched,
    handed: run.handed,
    written: run.written,
    skipped: run.skipped,
    failed: run.failed,
    requests: { openphone: run.openphone_requests, notion: run.notion_requests },
    error: run.error,
    startedAt: iso(run.started_at)!,
    endedAt: iso(run.ended_at),
    elapsedSeconds: Math.round(((run.ended_at ?? now) - run.started_at) / 100) / 10,
  };
}
