/**
 * The watchdog: a line's alarm is not trusted to keep it writing. Every five minutes (the frequent cron) each known
 * line is asked how overdue its oldest item is; one overdue by more than a minute is woken (its alarm set for now),
 * counted as `line.revived` and logged with the line and the age. A line that does not answer is logged too.
 */
import { incrementMetrics } from "../db/metrics";
import type { Logger } from "../observability/logger";
import { REVIVE_AFTER_MS } from "./alarm-plan";
import { BOUNDS, withTimeout } from "./bounded";
import { readLinesLiveness, wakeLine } from "./liveness";
import type { LineLiveness } from "./liveness-types";

export interface WatchdogResult {
  checked: number;
  revived: { lineId: string; overdueSeconds: number }[];
  unanswered: string[];
}

/** `lines`: the liveness already read this cron pass (the lag sample reads the same), else read here. */
export async function runLineWatchdog(env: Env, log: Logger, now = Date.now(), known?: LineLiveness[]): Promise<WatchdogResult> {
  const lines = known ?? (await readLinesLiveness(env, now));
  const result: WatchdogResult = { checked: lines.length, revived: [], unanswered: [] };
  for (const line of lines) {
    if (!line.answered) {
      result.unanswered.push(line.lineId);
      log.error("line did not answer the watchdog", { line: line.lineId, error: line.lastError });
      continue;
    }
    if (line.oldestPendingSeconds * 1000 <= REVIVE_AFTER_MS) continue;
    try {
      const overdue = await wakeLine(env, line.lineId);
      result.revived.push({ lineId: line.lineId, overdueSeconds: Math.floor(overdue / 1000) });
      log.warn("line revived: its work was overdue and its alarm had not run it", { line: line.lineId, name: line.name, overdueSeconds: Math.floor(overdue / 1000), pending: line.pending, lastError: line.lastError });
    } catch (error) {
      log.error("could not wake an overdue line", { line: line.lineId, overdueSeconds: line.oldestPendingSeconds, error });
    }
  }
  if (result.revived.length > 0) await withTimeout(incrementMetrics(env.DB, { "line.revived": result.revived.length }, now), BOUNDS.d1Ms, "counting revived lines in D1");
  return result;
}
