/**
 * `POST /admin/resync {"id": "AC…"}`: sync one call or text again from what OpenPhone says now. The current object is
 * fetched and handed to its line's Durable Object as a fresh event, through the same merge as webhooks and backfill,
 * so the page is found (never duplicated) and only properties that changed are written. For a call, the line then asks
 * OpenPhone again for everything the call can have (recordings, transcript, summary, voicemail), also what it was
 * told before was not there, so a page left incomplete by a lost event is completed.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { callEvent, messageEvent } from "../backfill/envelope";
import { getConfig } from "../config";
import { countRequests } from "../db/metrics";
import { kindOfResource } from "../db/sync-history";
import { newRequestCounter } from "../gates/gated-fetch";
import { classifyOpenPhoneError, createOpenPhoneClient, isRetryableOpenPhoneFailure, type Call, type Message } from "../openphone/client";
import type { WebhookMessage } from "../queue/messages";

const body = z.object({ id: z.string().trim().regex(/^AC\w+$/, "expected an OpenPhone call or message id (AC…)") }).strict();

type Found = { kind: "call"; call: Call } | { kind: "message"; message: Message };

export const resyncAdmin = new Hono<{ Bindings: Env }>().post("/", async (c) => {
  const parsed = body.safeParse(await c.req.json().catch(() => undefined));
  if (!parsed.success) throw new HTTPException(400, { message: 'The body must be {"id": "AC…"} with an OpenPhone call or message id' });
  const { id } = parsed.data;
  const { config } = getConfig(c.env);
  const known = await kindOfResource(c.env.DB, id);
  const counter = newRequestCounter();
  const client = createOpenPhoneClient(c.env, config, counter);

  let found: Found | undefined;
  try {
    for (const kind of known ? [known] : (["call", "message"] as const)) {
      try {
        found =
          kind === "call"
            ? { kind, call: (await client.request("getCallById_v1", { path: { callId: id } })).data }
            : { kind, message: (await client.request("getMessageById_v1", { path: { id } })).data };
        break;
      } catch (error) {
        if (classifyOpenPhoneError(error).kind !== "not_found") throw error;
      }
    }
  } catch (error) {
    const failure = classifyOpenPhoneError(error);
    throw new HTTPException(isRetryableOpenPhoneFailure(failure) ? 503 : 502, { message: `OpenPhone could not be read: ${failure.message}` });
  } finally {
    await countRequests(c.env.DB, "openphone.requests.admin", counter.openphone, config.LOG_LEVEL);
  }
  if (!found) throw new HTTPException(404, { message: `OpenPhone has no call or message ${id}` });

  const now = Date.now();
  const lineId = found.kind === "call" ? found.call.phoneNumberId : found.message.phoneNumberId;
  if (!lineId) throw new HTTPException(422, { message: `OpenPhone names no line for ${id}` });
  const event = found.kind === "call" ? callEvent(lineId, "resync", found.call, now) : messageEvent(lineId, "resync", found.message, now);
  // A fresh event id: the line must not take it for a duplicate of the backfill or of an earlier re-sync.
  const eventId = `resync:${id}:${now}`;
  const message: WebhookMessage = { ...event, eventId, envelope: { ...(event.envelope as object), id: eventId, source: "resync" } };
  const stub = c.env.LINE.get(c.env.LINE.idFromName(message.lineId));
  const result = await stub.ingest([message]);
  const outcome = result.outcomes[0];
  if (outcome?.status !== "done") {
    throw new HTTPException(outcome?.status === "retry" ? 503 : 422, { message: `The line did not take the re-sync: ${outcome && "reason" in outcome ? outcome.reason : "no outcome"}` });
  }
  return c.json({ id, kind: found.kind, line: message.lineId, queued: true }, 202);
});
