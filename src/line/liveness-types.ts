/**
 * The shapes of a line's liveness, types only: what a Line Durable Object reports and what `GET /admin/stats` lists
 * in `lines`. The sandbox's scripts (the soak, Ctrl-C's count) read the same shape over HTTP.
 */

/** What a Line Durable Object says about itself (`LineDurableObject.liveness()`). */
export interface LineLivenessReport {
  /** Calls and texts waiting to be written to Notion (dirty, not parked as a permanent failure). */
  pending: number;
  /** When the most overdue pending item fell due (epoch ms), or null when none is overdue. */
  oldestDueAt: number | null;
  /** When the alarm is set for (epoch ms), or null when none is set. */
  alarmAt: number | null;
  /** The last successful Notion write of this line (epoch ms). */
  lastWriteAt: number | null;
  /** The last error of a flush or an alarm, with when it happened. */
  lastError: { at: number; message: string } | null;
}

/** One line as the stats, /health and the alerts show it. */
export interface LineLiveness {
  lineId: string;
  name: string | null;
  pending: number;
  /** How long the most overdue item has waited past its due time; 0 when nothing is overdue. */
  oldestPendingSeconds: number;
  lastWriteAt: string | null;
  lastError: string | null;
  /** False when the object did not answer within the wait (the figures are then unknown). */
  answered: boolean;
}
