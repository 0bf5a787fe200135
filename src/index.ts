/** Wiring only: HTTP, queue and cron entry points, and the Durable Object classes. */
import { evaluateAlertsIfDue } from "./alerts/evaluate";
import { app } from "./http/app";
import { handleQueueBatch } from "./queue/consumer";
import type { SyncMessage } from "./queue/messages";
import { handleScheduled } from "./scheduled";

export { LineDurableObject } from "./line/line-durable-object";
export { GateDurableObject } from "./gates/gate-durable-object";
export { CanvasIndexDurableObject } from "./canvas/canvas-index-durable-object";

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => {
    // Alerts between crons, at most once a minute: an outage shorter than five minutes is still announced.
    ctx.waitUntil(evaluateAlertsIfDue(env));
    return handleQueueBatch(batch, env);
  },
  scheduled: (controller, env, _ctx) => handleScheduled(controller, env),
} satisfies ExportedHandler<Env, SyncMessage>;
