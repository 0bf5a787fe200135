/**
 * The shapes of a backfill run that cross the Worker's edge: its status, what started it, and its progress as
 * `GET /admin/backfill/<id>` answers it. No Worker types here, so the CLI and the Node-side tests share them.
 */
export type RunStatus = "running" | "completed" | "failed" | "cancelled";
/** `sweep`: the frequent cron's short run over recent conversations, for items no webhook announced. */
export type RunTrigger = "cron" | "admin" | "cli" | "sweep";
/** One line's chain of queue jobs. */
export type LineChainStatus = "running" | "completed" | "failed";

/** A run's counters, as D1 keeps them and the API shows them. */
export interface RunCounters {
  /** Conversations found so far (grows while conversation pages are listed). */
  planned: number;
  /** Conversations whose calls and texts have all been listed and merged. */
  listed: number;
  /** Calls and texts listed. */
  fetched: number;
  /** Listed items new to their line, handed to it for writing. */
  handed: number;
  /** Of those, the calls and texts the line has written to Notion (its page created, updated or found up to date). */
  written: number;
  /** Listed items the line already had (from webhooks or an earlier run), and calls not ended yet. */
  skipped: number;
  /** Items that failed for good: refused by the line, or refused by Notion when the line wrote them. */
  failed: number;
}

export interface BackfillProgress extends RunCounters {
  id: string;
  status: RunStatus;
  trigger: RunTrigger;
  since: string | null;
  lines: { id: string; status: LineChainStatus; conversations: number; listed: number; items: number; error: string | null }[];
  requests: { openphone: number; notion: number };
  error: string | null;
  startedAt: string;
  endedAt: string | null;
  elapsedSeconds: number;
}
