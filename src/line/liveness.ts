/**
 * How far behind each line is, asked of its Line Durable Object rather than inferred from its alarm: the watchdog,
 * `/admin/stats`, `/health` and the alerts all read this. Every object ever handed work is listed in D1
 * `line_objects`; each is asked with a bounded wait, and one that does not answer in time is reported as such.
 */
import { listLineObjects } from "../db/lines";
import { overdueMs } from "./alarm-plan";
import { BOUNDS, withTimeout } from "./bounded";
import type { LineLiveness, LineLivenessReport } from "./liveness-types";

export type { LineLiveness, LineLivenessReport } from "./liveness-types";

/** How long one Line Durable Object is given to answer. */
export const LIVENESS_WAIT_MS = 5_000;

/**
 * Every known line's liveness, asked of all of them at once, each with a bounded wait. The names come from D1
 * `line_objects`; a line's display name from `lines` where the object is a line (PN…).
 */
export async function readLinesLiveness(env: Env, now = Date.now()): Promise<LineLiveness[]> {
  const results = await withTimeout(listLineObjects(env.DB), BOUNDS.d1Ms, "listing the lines in D1");
  return Promise.all(
    results.map(async ({ object, name }) => {
      try {
        const report = await withTimeout(env.LINE.get(env.LINE.idFromName(object)).liveness(), LIVENESS_WAIT_MS, `line ${object}'s liveness`);
        return {
          lineId: object,
          name,
          pending: report.pending,
          oldestPendingSeconds: Math.floor(overdueMs(report.oldestDueAt, now) / 1000),
          lastWriteAt: report.lastWriteAt === null ? null : new Date(report.lastWriteAt).toISOString(),
          lastError: report.lastError ? `${new Date(report.lastError.at).toISOString()} ${report.lastError.message}` : null,
          answered: true,
        };
      } catch (error) {
        return { lineId: object, name, pending: 0, oldestPendingSeconds: 0, lastWriteAt: null, lastError: `did not answer: ${error instanceof Error ? error.message : String(error)}`, answered: false };
      }
    }),
  );
}

/** Makes the line set its alarm for now if its work is overdue; returns how long it has been overdue (ms). */
export async function wakeLine(env: Env, name: string): Promise<number> {
  return withTimeout(env.LINE.get(env.LINE.idFromName(name)).revive(), LIVENESS_WAIT_MS, `waking line ${name}`);
}
