/**
 * How far behind each line is, asked of its Line Durable Object rather than inferred from its alarm: the watchdog,
 * `/admin/stats`, `/health` and the alerts all read this. Every object ever handed work is listed in D1
 * `line_objects`; each is asked with a bounded wait, and one that does not answer in time is reported as such.
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
