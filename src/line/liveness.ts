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

// ---- readLinesLiveness: minimal reader (the alerts depend on its signature; the full version replaces this) ----

const LIVENESS_WAIT_MS = 5_000;

/** Every line in D1 `line_objects`, asked in parallel; one that does not answer within 5 s is `answered: false`. */
export async function readLinesLiveness(env: Env): Promise<LineLiveness[]> {
  const { results } = await env.DB.prepare("SELECT name FROM line_objects ORDER BY name").all<{ name: string }>();
  return Promise.all(
    results.map(async ({ name }): Promise<LineLiveness> => {
      const unknown: LineLiveness = { lineId: name, name: null, pending: 0, oldestPendingSeconds: 0, lastWriteAt: null, lastError: null, answered: false };
      const stub = env.LINE.get(env.LINE.idFromName(name)) as unknown as { liveness(): Promise<LineLivenessReport> };
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const report = await Promise.race([
          stub.liveness(),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${LIVENESS_WAIT_MS} ms`)), LIVENESS_WAIT_MS))),
        ]);
        const now = Date.now();
        return {
          lineId: name,
          name: null,
          pending: report.pending,
          oldestPendingSeconds: report.oldestDueAt === null ? 0 : Math.max(0, Math.round((now - report.oldestDueAt) / 1000)),
          lastWriteAt: report.lastWriteAt === null ? null : new Date(report.lastWriteAt).toISOString(),
          lastError: report.lastError?.message ?? null,
          answered: true,
        };
      } catch {
        return unknown;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

// ---- end of the minimal reader ----
