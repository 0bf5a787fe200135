/**
 * How far behind each line is, as `/admin/stats`, `/health` and the dashboard show it, and the samples the lag chart
 * is drawn from. A line whose Durable Object did not answer counts as behind: silence is not health.
 */
import { getConfig } from "../config";
import { writeLagSamples } from "../db/lag";
import { readLinesLiveness, type LineLiveness } from "../line/liveness";
import { createLogger } from "../observability/logger";

/** A line as `GET /admin/stats` lists it. */
export type LineLag = LineLiveness;

/** Asks every line, and records what it said in the lag chart's current bucket (a failed record is logged, not fatal). */
export async function readLineLag(env: Env, now = Date.now()): Promise<LineLag[]> {
  const lines = await readLinesLiveness(env, now);
  await recordLagSample(env, lines, now).catch((error) => createLogger(getConfig(env).config.LOG_LEVEL).warn("could not record the lag sample", { error }));
  return lines;
}

/** Lines whose oldest pending item has waited longer than `ALERT_LAG_SECONDS`, or that did not answer. */
export function laggingLines(lines: LineLag[], alertLagSeconds: number): { line: LineLag; reason: string }[] {
  const lagging: { line: LineLag; reason: string }[] = [];
  for (const line of lines) {
    if (!line.answered) lagging.push({ line, reason: line.lastError ?? "did not answer" });
    else if (line.oldestPendingSeconds > alertLagSeconds) {
      lagging.push({ line, reason: `${line.pending} item(s) pending, the oldest overdue by ${line.oldestPendingSeconds} s (limit ${alertLagSeconds} s)` });
    }
  }
  return lagging;
}

export function lineLabel(line: Pick<LineLag, "lineId" | "name">): string {
  return line.name ? `${line.name} (${line.lineId})` : line.lineId;
}

/** Records each line's lag in its five-minute bucket, for the 24-hour chart. */
export async function recordLagSample(env: Env, lines: LineLag[], now = Date.now()): Promise<void> {
  if (lines.length === 0) return;
  await writeLagSamples(env.DB, lines.map((l) => ({ lineId: l.lineId, pending: l.pending, oldestPendingSeconds: l.answered ? l.oldestPendingSeconds : -1 })), now);
}

/** The threshold the stats and /health compare against. */
export function alertLagSeconds(env: Env): number {
  return getConfig(env).config.ALERT_LAG_SECONDS;
}
