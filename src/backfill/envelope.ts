/**
 * Backfilled calls and texts travel the real-time path: each listed item becomes a synthetic webhook for its line's
 * Durable Object, through the same `ingest` RPC the webhook consumer uses. The Line DO deduplicates by event id and
 * merges by resource id, so a webhook and a backfill for the same call meet in one state and one Notion page.
 *
 * The contract with the Line DO:
 * - `eventId` is `backfill:<resource id>`: listing the same call again (an overlapping run) is a duplicate event;
 * - `eventType` is `call.completed` for a call, `message.received` / `message.delivered` for a text by direction;
 * - the envelope is shaped like an OpenPhone one, with `source: "backfill"`, `apiVersion: "v1-backfill"`, the run id
 *   in `backfillRunId`, and `data.object` the REST Call or Message object (plus `object: "call" | "message"`, which
 *   webhooks carry and REST objects lack, since calls and texts share the `AC` id prefix).
 */
import type { Call, Message } from "../openphone/client";
import type { WebhookMessage } from "../queue/messages";

export const BACKFILL_API_VERSION = "v1-backfill";
export const BACKFILL_EVENT_PREFIX = "backfill:";

export interface BackfillEnvelope {
  id: string;
  object: "event";
  apiVersion: typeof BACKFILL_API_VERSION;
  createdAt: string;
  type: string;
  source: "backfill";
  backfillRunId: string;
  data: { object: (Call & { object: "call" }) | (Message & { object: "message" }) };
}

export function backfillEventId(resourceId: string): string {
  return `${BACKFILL_EVENT_PREFIX}${resourceId}`;
}

/** Whether a stored envelope is one of these synthetic events rather than a webhook OpenPhone sent. */
export function isBackfillEnvelope(envelope: unknown): envelope is BackfillEnvelope {
  return typeof envelope === "object" && envelope !== null && (envelope as { source?: unknown }).source === "backfill";
}

export function callEvent(lineId: string, runId: string, call: Call, receivedAt: number): WebhookMessage {
  return synthetic(lineId, runId, "call.completed", call.createdAt, { ...call, object: "call" }, receivedAt);
}

export function messageEvent(lineId: string, runId: string, message: Message, receivedAt: number): WebhookMessage {
  const type = message.direction === "outgoing" ? "message.delivered" : "message.received";
  return synthetic(lineId, runId, type, message.createdAt, { ...message, object: "message" }, receivedAt);
}

function synthetic(
  lineId: string,
  runId: string,
  type: string,
  createdAt: string,
  object: BackfillEnvelope["data"]["object"],
  receivedAt: number,
): WebhookMessage {
  const eventId = backfillEventId(object.id);
  const envelope: BackfillEnvelope = {
    id: eventId,
    object: "event",
    apiVersion: BACKFILL_API_VERSION,
    createdAt,
    type,
    source: "backfill",
    backfillRunId: runId,
    data: { object },
  };
  return { type: "webhook", lineId, eventId, eventType: type, receivedAt, envelope };
}
