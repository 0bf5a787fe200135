/**
 * Cron work. The frequent trigger keeps the Canvas index fresh, links Mail pages and retries unavailable media;
 * the six-hourly one starts a backfill of anything the webhooks missed.
 */
import { runCanvasCron } from "./canvas/cron";
import { incrementMetrics } from "./db/metrics";

export const FREQUENT_CRON = "*/5 * * * *";
export const BACKFILL_CRON = "0 */6 * * *";

export async function handleScheduled(controller: ScheduledController, env: Env): Promise<void> {
  await incrementMetrics(env.DB, { [`cron.${controller.cron === BACKFILL_CRON ? "backfill" : "frequent"}`]: 1 }, controller.scheduledTime);
  if (controller.cron !== BACKFILL_CRON) await runCanvasCron(env);
}
