/**
 * Admin API for media (bearer ADMIN_TOKEN):
 * - `GET  /admin/media/items/:resourceId`: what is stored for a call or message, and why anything is not.
 * - `POST /admin/media/calls/:callId`: copy (again) the recordings and voicemail of a call; what is already in R2
 *   is not downloaded again. A page that said a file was unavailable stops saying so once it is stored. The call's
 *   line is then asked to flush it, asking OpenPhone again for everything it has, so the page links what is stored
 *   (`page` in the answer: "flush requested", or why not).
 * - `POST /admin/media/retry`: run the retry of unavailable media now, as the cron would. `{"all": true}` takes every
 *   unavailable item, without waiting for its retry time, including those whose automatic retries are used up.
 */
import { countRequests } from "../db/metrics";
import { newRequestCounter } from "../gates/gated-fetch";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { getConfig } from "../config";
import { mediaItemsOf } from "../db/media-items";
import { copyCallMedia } from "../media/call-media";
import type { MediaCopyResult } from "../media/copy";
import { announceRetriedMedia, retryPendingMedia } from "../media/retry";
import { createLogger } from "../observability/logger";
import { classifyOpenPhoneError, createOpenPhoneClient, isOpenPhoneError } from "../openphone/client";

/** Asks the line that wrote the call's page to flush it again; a call not synced yet gets its page in the usual way. */
async function requestPageUpdate(env: Env, callId: string): Promise<{ status: "flush requested" | "not synced yet" | "failed"; line?: string; reason?: string }> {
  try {
    const row = await env.DB.prepare("SELECT phone_number_id FROM resources WHERE resource_id = ?1").bind(callId).first<{ phone_number_id: string }>();
    if (!row) return { status: "not synced yet" };
    const asked = await env.LINE.get(env.LINE.idFromName(row.phone_number_id)).askAgain(callId);
    return asked ? { status: "flush requested", line: row.phone_number_id } : { status: "not synced yet", line: row.phone_number_id };
  } catch (error) {
    return { status: "failed", reason: `the page could not be brought up to date: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function summarize(results: MediaCopyResult[]) {
  return results.map((r) => ({
    key: r.item.key,
    kind: r.item.kind,
    resourceId: r.item.resourceId,
    status: r.status,
    ...(r.status === "unavailable" ? { reason: r.reason } : { size: r.size }),
  }));
}

export const adminMediaApp = new Hono<{ Bindings: Env }>()
  .get("/items/:resourceId", async (c) => c.json({ items: await mediaItemsOf(c.env.DB, c.req.param("resourceId")) }))
  .post("/calls/:callId", async (c) => {
    const callId = c.req.param("callId");
    if (!/^AC\w+$/.test(callId)) throw new HTTPException(400, { message: `Not a call id: ${callId} (expected AC…)` });
    const { config } = getConfig(c.env);
    if (!config.OPENPHONE_API_KEY) throw new HTTPException(503, { message: "OPENPHONE_API_KEY is not configured" });
    const baseUrl = config.PUBLIC_BASE_URL ?? new URL(c.req.url).origin;
    const counter = newRequestCounter();
    try {
      const outcome = await copyCallMedia(c.env, config, createOpenPhoneClient(c.env, config, counter), callId, baseUrl);
      await announceRetriedMedia(c.env, outcome.results).catch((error) => createLogger(config.LOG_LEVEL).error("could not bring the pages' media notes up to date", { error }));
      const page = await requestPageUpdate(c.env, callId);
      return c.json({ callId, links: outcome.items.map((i) => ({ key: i.key, url: i.url })), results: summarize(outcome.results), page }, page.status === "failed" ? 502 : 200);
    } catch (error) {
      if (classifyOpenPhoneError(error).kind === "not_found") throw new HTTPException(404, { message: `OpenPhone has no call ${callId}` });
      if (isOpenPhoneError(error)) throw new HTTPException(502, { message: error.message });
      throw error;
    } finally {
      await countRequests(c.env.DB, "openphone.requests.admin", counter.openphone, config.LOG_LEVEL);
    }
  })
  .post("/retry", async (c) => {
    const body = await c.req.json<{ all?: unknown }>().catch(() => ({}) as { all?: unknown });
    const { config } = getConfig(c.env);
    const results = await retryPendingMedia(c.env, config, body.all === true ? { dueBy: Number.MAX_SAFE_INTEGER, includeExhausted: true } : {});
    return c.json({ retried: results.length, results: summarize(results) });
  });
