/**
 * `POST /webhooks/openphone`: the real-time intake. Reads the raw body (at most 1 MiB), verifies its signature
 * before anything else, reads it with the one normaliser (either webhook system), queues it for its line and answers 202. Nothing is queued on any refusal.
 *
 * | answer | when |
 * | --- | --- |
 * | 202 `{accepted: true, id}` | queued; a contact event stored in D1 (`contact`: stored/deleted/stale) (a date field that is not a date is counted as `webhook.bad_date` and left empty on the page); or an unknown/ignored type (counted, not queued); or unroutable, invalid (a known type whose resource lacks its id) or of an `apiVersion` this product does not read (dead-lettered in D1 with the reason); or its line is skipped by SYNC_LINES/SKIP_LINES (`skipped`, counted `webhook.skipped_line`, not queued) |
 * | 400 | the body is not UTF-8 JSON, not a JSON object, or nests deeper than 64 levels (no real payload does) |
 * | 401 | no signing key configured, no/malformed signature, signature from another key, timestamp > 5 min off |
 * | 413 | the body is over 1 MiB |
 * | 503 | the queue, R2 or D1 could not take the event: the sender retries, nothing is lost |
 */
import { Hono, type Context } from "hono";
import { applyContactWebhook } from "../contacts/apply-webhook";
import { getConfig } from "../config";
import { recordDeadLetters } from "../db/dead-letters";
import { addCounts } from "../observability/counters";
import { createLogger } from "../observability/logger";
import type { WebhookMessage } from "../queue/messages";
import { rememberRoute, resolveLineKey } from "../queue/routing";
import { INLINE_ENVELOPE_MAX_BYTES, storeLargeEnvelope } from "../webhooks/envelope-store";
import { factsOf, MAX_WEBHOOK_DEPTH, nestsDeeperThan } from "../webhooks/envelope";
import { envelopeIdOf, normaliseWebhook } from "../webhooks/normalise";
import { verifyWebhookSignature } from "../webhooks/signatures";
import { decideLine } from "../line-filter/decide";
import { readBodyWithLimit } from "./body-limit";

export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
/** Where intake failures are filed in `dead_letters` (the queue consumer files its own under the queue's name). */
export const INTAKE_DEAD_LETTER_QUEUE = "webhooks";

type WebhookContext = Context<{ Bindings: Env }>;
type Count = (name: string) => void;

export const webhooksApp = new Hono<{ Bindings: Env }>();

webhooksApp.post("/openphone", async (c) => {
  const counts: Record<string, number> = {};
  const count: Count = (name) => {
    counts[name] = (counts[name] ?? 0) + 1;
  };
  count("webhook.received");
  try {
    return await receiveOpenPhoneWebhook(c, count);
  } finally {
    addCounts(c.env.DB, counts, waitUntilOf(c));
  }
});

async function receiveOpenPhoneWebhook(c: WebhookContext, count: Count): Promise<Response> {
  const { config } = getConfig(c.env);
  const log = createLogger(config.LOG_LEVEL, { route: "webhooks/openphone" });
  const refuse = (status: 400 | 401 | 413, reason: string, message: string) => {
    count("webhook.rejected");
    count(`webhook.rejected.${reason}`);
    log.warn("webhook refused", { status, reason });
    return c.json({ error: status === 401 ? "unauthorized" : status === 413 ? "payload_too_large" : "bad_request", reason, message }, status);
  };

  const body = await readBodyWithLimit(c.req.raw, MAX_WEBHOOK_BODY_BYTES);
  if (!body.ok) return refuse(413, "too_large", "The webhook body is larger than 1 MiB");

  const signature = await verifyWebhookSignature(c.req.raw.headers, body.bytes, {
    openphone: config.OPENPHONE_WEBHOOK_KEYS,
    quo: config.QUO_WEBHOOK_SECRETS,
  });
  if (!signature.ok) return refuse(401, signature.failure, signature.message);
  count("webhook.verified");

  // Before parsing: a structure this deep is never a real event, and left in, it would fail every later step.
  if (nestsDeeperThan(body.bytes, MAX_WEBHOOK_DEPTH)) {
    count("webhook.too_deep");
    return refuse(400, "too_deep", `The webhook body nests objects or arrays deeper than ${MAX_WEBHOOK_DEPTH} levels; no OpenPhone event does`);
  }

  let envelope: unknown;
  try {
    envelope = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body.bytes));
  } catch (error) {
    const detail = error instanceof SyntaxError ? error.message : "the body is not valid UTF-8";
    return refuse(400, "malformed_json", `The webhook body is not valid JSON: ${detail}`);
  }
  if (envelope === null || typeof envelope !== "object" || Array.isArray(envelope)) {
    const kind = envelope === null ? "null" : Array.isArray(envelope) ? "an array" : `a ${typeof envelope}`;
    return refuse(400, "not_an_object", `The webhook body must be a JSON object (an OpenPhone event envelope), not ${kind}`);
  }

  // Redeliveries carry the same envelope id; a payload without one is keyed by its bytes, which a redelivery repeats.
  // The Line Durable Object reads the envelope again with this same id (see normalise.ts).
  const eventId = envelopeIdOf(envelope) ?? `sha256:${await sha256Hex(body.bytes)}`;
  const reading = normaliseWebhook(envelope, { fallbackId: eventId });
  const facts = factsOf(reading);

  if (reading.outcome === "unknown_version" || reading.outcome === "invalid") {
    // Kept whole in the dead letters, where the dashboard shows why, instead of being refused again and again by
    // every redelivery; nothing is queued.
    count(reading.outcome === "unknown_version" ? "webhook.unknown_version" : "webhook.invalid");
    const message: WebhookMessage = { type: "webhook", lineId: "unknown", eventId, eventType: reading.eventType || "(none)", receivedAt: Date.now(), envelope };
    return deadLetter(c, count, log, message, reading.reason);
  }

  if (reading.outcome === "ignored") {
    count("webhook.unknown_type");
    log.info("webhook acknowledged and ignored", { eventId, eventType: facts.eventType || "(none)" });
    return c.json({ accepted: true, id: eventId, ignored: `unknown event type ${JSON.stringify(facts.eventType || null)}` }, 202);
  }

  if (reading.outcome === "contact") return receiveContactEvent(c, count, log, eventId, reading.eventType, reading.resource, envelope);

  if (reading.badDates.length > 0) {
    // Synced all the same, with those dates left empty on the page (see legacy-payload.ts); counted so it shows.
    count("webhook.bad_date");
    log.warn("webhook carries dates that are not dates; syncing it without them", { eventId, fields: reading.badDates });
  }

  let lineId: string | undefined;
  try {
    lineId = await resolveLineKey(c.env.DB, facts);
  } catch (error) {
    log.error("could not look up the line of a webhook's call", { eventId, error });
    return unavailable(c, count, "Could not look up the line of this event; retry later");
  }

  const message: WebhookMessage = { type: "webhook", lineId: lineId ?? "unknown", eventId, eventType: facts.eventType, receivedAt: Date.now(), envelope };

  if (!lineId) return deadLetter(c, count, log, message, `${facts.eventType} event names neither a line (phoneNumberId) nor a ${facts.category} id`);

  // The line filter, after routing: a skipped line's events are acknowledged and dropped here, before they cost
  // anything. Their route is still remembered, so a later summary that names only the call is skipped too.
  let decision;
  try {
    decision = await decideLine(c.env, config, lineId, log);
  } catch (error) {
    log.error("could not apply the line filter", { eventId, error });
    return unavailable(c, count, "Could not read the line filter; retry later");
  }
  if (decision.skipped) {
    await rememberRoute(c.env.DB, facts, log);
    count("webhook.skipped_line");
    return c.json({ accepted: true, id: eventId, skipped: `line ${lineId} is not synced: ${decision.reason}` }, 202);
  }

  try {
    const queued = body.bytes.byteLength > INLINE_ENVELOPE_MAX_BYTES ? await storeLargeEnvelope(c.env.MEDIA, message, body.bytes) : message;
    await Promise.all([c.env.SYNC_QUEUE.send(queued), rememberRoute(c.env.DB, facts, log)]);
  } catch (error) {
    log.error("could not queue a webhook", { eventId, error });
    return unavailable(c, count, "Could not queue this event; retry later");
  }
  count("webhook.enqueued");
  return c.json({ accepted: true, id: eventId }, 202);
}

/** Files a verified event that cannot be synced in the dead letters, with the reason, and answers 202. */
async function deadLetter(c: WebhookContext, count: Count, log: ReturnType<typeof createLogger>, message: WebhookMessage, reason: string): Promise<Response> {
  try {
    await recordDeadLetters(c.env.DB, [{ queue: INTAKE_DEAD_LETTER_QUEUE, body: message, reason, attempts: 0 }]);
  } catch (error) {
    log.error("could not record a webhook that cannot be synced", { eventId: message.eventId, error });
    return unavailable(c, count, "Could not record this event; retry later");
  }
  count("webhook.dead_lettered");
  log.warn("webhook dead-lettered", { eventId: message.eventId, reason });
  return c.json({ accepted: true, id: message.eventId, deadLettered: reason }, 202);
}

function unavailable(c: WebhookContext, count: Count, message: string): Response {
  count("webhook.unavailable");
  return c.json({ error: "unavailable", message }, 503, { "Retry-After": "30" });
}

/**
 * A contact event updates the OpenPhone contacts kept in D1 at once (one small write, nothing to merge per line).
 * A payload whose contact cannot be read is kept in the dead letters with the reason.
 */
async function receiveContactEvent(c: WebhookContext, count: Count, log: ReturnType<typeof createLogger>, eventId: string, eventType: string, resource: unknown, envelope: unknown): Promise<Response> {
  const { config } = getConfig(c.env);
  let applied;
  try {
    applied = await applyContactWebhook(c.env.DB, eventType, resource, { defaultRegion: config.DEFAULT_REGION });
  } catch (error) {
    log.error("could not store a contact event", { eventId, error });
    return unavailable(c, count, "Could not store this contact event; retry later");
  }
  if (applied.outcome === "invalid") return deadLetter(c, count, log, { type: "webhook", lineId: "unknown", eventId, eventType, receivedAt: Date.now(), envelope }, applied.reason);
  count(`webhook.contact.${applied.outcome}`);
  return c.json({ accepted: true, id: eventId, contact: applied.outcome }, 202);
}

function waitUntilOf(c: WebhookContext): (promise: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    // Called without an execution context (a direct `app.fetch` in a tool): the promise still runs.
    return (promise) => void promise;
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}
