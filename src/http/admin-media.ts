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
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { getConfig } from "../config";
import { mediaItemsOf } from "../db/media-items";
import { countRequests } from "../db/metrics";
import { newRequestCounter } from "../gates/gated-fetch";
import { recopyCallMedia } from "../media/call-media";
import type { MediaCopyResult } from "../media/copy";
import { retryPendingMedia } from "../media/retry";
import { classifyOpenPhoneError, createOpenPhoneClient, isOpenPhoneError } from "../openphone/client";

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
      const { items, results, page } = await recopyCallMedia(c.env, config, createOpenPhoneClient(c.env, config, counter), callId, baseUrl);
      return c.json({ callId, links: items.map((i) => ({ key: i.key, url: i.url })), results: summarize(results), page }, page.status === "failed" ? 502 : 200);
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
