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

const LIVENESS_WAIT_MS = 5_000;

/**
 * Asks every Line Durable Object listed in `line_objects` how far behind it is, all at once, each with a bounded
 * wait. A line whose object throws or does not answer in time is reported with `answered: false`.
 */
export async function readLinesLiveness(env: Env, now = Date.now()): Promise<LineLiveness[]> {
  const { results } = await env.DB.prepare(
    "SELECT o.name, l.name AS line_name FROM line_objects o LEFT JOIN lines l ON l.phone_number_id = o.name ORDER BY o.name",
  ).all<{ name: string; line_name: string | null }>();
  return Promise.all(
    results.map(async ({ name, line_name }): Promise<LineLiveness> => {
      const unknown: LineLiveness = { lineId: name, name: line_name, pending: 0, oldestPendingSeconds: 0, lastWriteAt: null, lastError: null, answered: false };
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const stub = env.LINE.get(env.LINE.idFromName(name)) as unknown as { liveness(): Promise<LineLivenessReport> };
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${LIVENESS_WAIT_MS / 1000} s`)), LIVENESS_WAIT_MS);
        });
        const report = await Promise.race([stub.liveness(), timeout]);
        return {
          lineId: name,
          name: line_name,
          pending: report.pending,
          oldestPendingSeconds: report.oldestDueAt === null ? 0 : Math.max(0, Math.floor((now - report.oldestDueAt) / 1000)),
          lastWriteAt: report.lastWriteAt === null ? null : new Date(report.lastWriteAt).toISOString(),
          lastError: report.lastError === null ? null : `${new Date(report.lastError.at).toISOString()} ${report.lastError.message}`,
          answered: true,
        };
      } catch (error) {
        return { ...unknown, lastError: `did not answer: ${error instanceof Error ? error.message : String(error)}` };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}
