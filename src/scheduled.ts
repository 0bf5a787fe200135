/**
 * Cron work. The frequent trigger keeps the Canvas index fresh, links Mail pages and retries unavailable media;
 * the six-hourly one starts a backfill of anything the webhooks missed.
 */
import { runCanvasCron } from "./canvas/cron";
import { getConfig } from "./config";
import { incrementMetrics } from "./db/metrics";
import { retryPendingMedia } from "./media/retry";

export const FREQUENT_CRON = "*/5 * * * *";
export const BACKFILL_CRON = "0 */6 * * *";

export async function handleScheduled(controller: ScheduledController, env: Env): Promise<void> {
  await incrementMetrics(env.DB, { [`cron.${controller.cron === BACKFILL_CRON ? "backfill" : "frequent"}`]: 1 }, controller.scheduledTime);
  if (controller.cron === BACKFILL_CRON) return;
  // Independent chores: one failing must not keep the other from running.
  const outcomes = await Promise.allSettled([retryPendingMedia(env, getConfig(env).config), runCanvasCron(env)]);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failed) throw failed.reason;
}
