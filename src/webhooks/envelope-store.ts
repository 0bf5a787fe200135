/**
 * Envelopes too large for a queue message. Queues carry at most 128 KB per message, while a webhook may be up to
 * 1 MiB (a long call's transcript). Such an envelope is stored whole in R2 under `webhooks/YYYY/MM/DD/<event id>.json`
 * and the queue message carries its key plus a small stub with the ids the consumer groups and files by.
 * `loadWebhookEnvelope` gives back the whole envelope either way.
 */
import type { WebhookMessage } from "../queue/messages";

/** Raw bodies above this go to R2; the margin leaves room for the rest of the message and its serialisation. */
export const INLINE_ENVELOPE_MAX_BYTES = 96 * 1024;

export function envelopeStoreKey(eventId: string, receivedAt: number): string {
  const day = new Date(receivedAt).toISOString().slice(0, 10).replace(/-/g, "/");
  return `webhooks/${day}/${eventId.replace(/[^A-Za-z0-9:._-]/g, "_")}.json`;
}

/** Stores the raw body and returns the message to queue in its place. */
export async function storeLargeEnvelope(bucket: R2Bucket, message: WebhookMessage, rawBody: Uint8Array): Promise<WebhookMessage> {
  const key = envelopeStoreKey(message.eventId, message.receivedAt);
  await bucket.put(key, rawBody, { httpMetadata: { contentType: "application/json" }, customMetadata: { eventId: message.eventId, eventType: message.eventType } });
  return { ...message, envelope: stubOf(message.envelope), envelopeKey: key };
}

/** The whole envelope of a queued webhook, from the message or from R2. */
export async function loadWebhookEnvelope(bucket: R2Bucket, message: WebhookMessage): Promise<unknown> {
  if (!message.envelopeKey) return message.envelope;
  const object = await bucket.get(message.envelopeKey);
  if (!object) throw new Error(`stored webhook envelope ${message.envelopeKey} is missing from R2`);
  return object.json();
}

/** What the consumer groups and files by, in the envelope's own shape, so the normaliser still reads its system. */
function stubOf(envelope: unknown): unknown {
  const e = envelope as { id?: unknown; type?: unknown; apiVersion?: unknown; object?: unknown; data?: { object?: Record<string, unknown>; resource?: Record<string, unknown>; context?: Record<string, unknown> } };
  const pick = (from: Record<string, unknown> | undefined, fields: string[]) => {
    const keep: Record<string, unknown> = {};
    for (const field of fields) if (from && field in from) keep[field] = from[field];
    return keep;
  };
  const fields = ["id", "object", "callId", "phoneNumberId", "status"];
  const data = e.data?.resource !== undefined && e.data?.object === undefined
    ? { resource: pick(e.data.resource, fields), context: pick(e.data.context, ["phoneNumberId"]) }
    : { object: pick(e.data?.object, fields) };
  return { id: e.id, type: e.type, apiVersion: e.apiVersion, object: e.object, data, stored: true };
}
