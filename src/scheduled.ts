/**
 * Cron work. The frequent trigger keeps the Canvas index fresh, links Mail pages, retries unavailable media, wakes
 * any line whose work is overdue (the watchdog, line/watchdog.ts), sweeps recent conversations for what no webhook
 * announced (backfill/start.ts), records each line's lag for the dashboard's chart
 * and evaluates the alerts; the six-hourly one starts a backfill of anything the webhooks missed and audits the last
 * day against OpenPhone.
 */
import { runScheduledAudit } from "./audit/run";
import { evaluateAlerts } from "./alerts/evaluate";
import { backfillDeps } from "./backfill/deps";
import { reviveIdleChains, startBackfill, startSweep } from "./backfill/start";
import { runCanvasCron } from "./canvas/cron";
import { getConfig } from "./config";
import { getFlags } from "./flags/flags";
import { incrementMetrics } from "./db/metrics";
import { runLineWatchdog } from "./line/watchdog";
import { recordLagSample } from "./http/line-lag";
import { readLinesLiveness } from "./line/liveness";
import { retryPendingMedia } from "./media/retry";
import { createLogger } from "./observability/logger";

export const FREQUENT_CRON = "*/5 * * * *";
export const BACKFILL_CRON = "0 */6 * * *";

export async function handleScheduled(controller: ScheduledController, env: Env): Promise<void> {
  await incrementMetrics(env.DB, { [`cron.${controller.cron === BACKFILL_CRON ? "backfill" : "frequent"}`]: 1 }, controller.scheduledTime);
  if (controller.cron === BACKFILL_CRON) {
    await startScheduledBackfill(env);
    await runScheduledAudit(env, controller.scheduledTime);
  } else {
    // Independent chores: one failing must not keep the others from running.
    const { config } = getConfig(env);
    const flags = await getFlags(env);
    // One liveness read per pass (one RPC per line), for the watchdog and the lag chart alike.
    const now = Date.now();
    const liveness = readLinesLiveness(env, now);
    const watchdog = liveness.then((lines) => runLineWatchdog(env, createLogger(config.LOG_LEVEL, { cron: FREQUENT_CRON, component: "watchdog" }), now, lines));
    const lag = liveness.then((lines) => recordLagSample(env, lines, now));
    const media = flags.MEDIA_COPY_ENABLED ? retryPendingMedia(env, config) : Promise.resolve([]);
    const outcomes = await Promise.allSettled([watchdog, lag, media, runCanvasCron(env), reviveIdleChains(backfillDeps(env)), startSweep(backfillDeps(env), flags.SWEEP_MINUTES), evaluateAlerts(env)]);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) throw failed.reason;
  }
}

/** Every line, from its watermark; a line still running from an earlier run keeps that run (nothing starts). */
async function startScheduledBackfill(env: Env): Promise<void> {
  const { config } = getConfig(env);
  if (!(await getFlags(env)).BACKFILL_ENABLED) return;
  const log = createLogger(config.LOG_LEVEL, { cron: BACKFILL_CRON });
  try {
    const run = await startBackfill(backfillDeps(env), {}, "cron");
    log.info(run.started ? "backfill started" : "backfill already running", { runId: run.id, lines: run.lines.length });
  } catch (error) {
    log.error("could not start the scheduled backfill", { error });
  }
}
