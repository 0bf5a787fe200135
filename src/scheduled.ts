/**
 * Cron work. The frequent trigger keeps the Canvas index fresh, links Mail pages, retries unavailable media and
 * evaluates the alerts; the six-hourly one starts a backfill of anything the webhooks missed.
 */
import { evaluateAlerts } from "./alerts/evaluate";
import { backfillDeps } from "./backfill/deps";
import { reviveIdleChains, startBackfill } from "./backfill/start";
import { runCanvasCron } from "./canvas/cron";
import { getConfig } from "./config";
import { incrementMetrics } from "./db/metrics";
import { retryPendingMedia } from "./media/retry";
import { createLogger } from "./observability/logger";

export const FREQUENT_CRON = "*/5 * * * *";
export const BACKFILL_CRON = "0 */6 * * *";

export async function handleScheduled(controller: ScheduledController, env: Env): Promise<void> {
  await incrementMetrics(env.DB, { [`cron.${controller.cron === BACKFILL_CRON ? "backfill" : "frequent"}`]: 1 }, controller.scheduledTime);
  if (controller.cron === BACKFILL_CRON) await startScheduledBackfill(env);
  else {
    // Independent chores: one failing must not keep the others from running.
    const outcomes = await Promise.allSettled([retryPendingMedia(env, getConfig(env).config), runCanvasCron(env), reviveIdleChains(backfillDeps(env)), evaluateAlerts(env)]);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) throw failed.reason;
  }
}

/** Every line, from its watermark; a line still running from an earlier run keeps that run (nothing starts). */
async function startScheduledBackfill(env: Env): Promise<void> {
  const { config } = getConfig(env);
  if (!config.BACKFILL_ENABLED) return;
  const log = createLogger(config.LOG_LEVEL, { cron: BACKFILL_CRON });
  try {
    const run = await startBackfill(backfillDeps(env), {}, "cron");
    log.info(run.started ? "backfill started" : "backfill already running", { runId: run.id, lines: run.lines.length });
  } catch (error) {
    log.error("could not start the scheduled backfill", { error });
  }
}
