/**
 * The one reader of raw webhook payloads. Either system's envelope becomes one internal event (internal-event.ts):
 * the intake reads it to answer, route and count; the queue consumer to group; the Line Durable Object to merge. All
 * three call `normaliseWebhook` with the same id, so they cannot disagree on what an envelope is.
 *
 * Which system sent an envelope is told by its shape: `apiVersion` a date and the payload in `data.resource` is the
 * 2026-03-30 system; `object: "event"`, `apiVersion` `v1`–`v4` or the payload in `data.object` is the legacy one.
 * A version the product does not know is not guessed at: it is reported as `unknown_version` (the intake keeps it in
 * D1 for inspection and answers 202, so the sender does not retry it for a day).
 *
 * An envelope without an `id` gets the id the intake derived from its bytes (`sha256:…`), carried on the queue
 * message and passed back here by the Durable Object, so both sides key it the same.
 */
import { BACKFILL_API_VERSION } from "../backfill/envelope";
import { badDatesOf } from "./envelope";
import type { NormalisedEvent, WebhookSystem } from "./internal-event";
import { parseLegacyEnvelope } from "./legacy-payload";
import { parseQuoEnvelope, QUO_API_VERSIONS } from "./quo-payload";

/**
 * Payload versions of the legacy system (`apiVersion` of `/v1/webhooks` and app-made webhooks), and the version the
 * backfill's synthetic events carry (legacy-shaped, built from v1 REST objects).
 */
export const LEGACY_API_VERSIONS = ["v1", "v2", "v3", "v4", BACKFILL_API_VERSION] as const;

export const CONTACT_EVENT_TYPES = ["contact.updated", "contact.deleted"] as const;
const CONTACT_TYPES = new Set<string>(CONTACT_EVENT_TYPES);

export type WebhookReading =
  | { outcome: "event"; event: NormalisedEvent; badDates: string[] }
  /** A contact event: no call or text, the contact itself (legacy `data.object` or 2026-03-30 `data.resource`). */
  | { outcome: "contact"; system: WebhookSystem; eventId: string | undefined; eventType: string; resource: unknown }
  | { outcome: "ignored"; system: WebhookSystem; eventType: string; reason: string }
  | { outcome: "unknown_version"; apiVersion: string; eventType: string; reason: string }
  | { outcome: "invalid"; system: WebhookSystem; eventType: string; reason: string };

export interface NormaliseOptions {
  /** The id to use when the envelope has none (the intake's derived id). */
  fallbackId?: string;
  receivedAt?: number;
}

/** The envelope's own id, when it has a usable one. */
export function envelopeIdOf(envelope: unknown): string | undefined {
  const id = asRecord(envelope)?.id;
  return typeof id === "string" && id.trim() !== "" ? id.trim() : undefined;
}

/** Which system wrote the envelope, or the version it names that no system here knows. */
export function systemOf(envelope: unknown): { system: WebhookSystem } | { unknownVersion: string } {
  const e = asRecord(envelope);
  const version = e?.apiVersion;
  if (typeof version === "string" && version !== "") {
    if ((QUO_API_VERSIONS as readonly string[]).includes(version)) return { system: "quo" };
    if ((LEGACY_API_VERSIONS as readonly string[]).includes(version)) return { system: "v1" };
    return { unknownVersion: version };
  }
  if (version !== undefined && version !== null) return { unknownVersion: JSON.stringify(version) };
  // No version: the payload's place says which system it is.
  const data = asRecord(e?.data);
  return data && "resource" in data && !("object" in data) ? { system: "quo" } : { system: "v1" };
}

export function normaliseWebhook(envelope: unknown, options: NormaliseOptions = {}): WebhookReading {
  const e = asRecord(envelope);
  const eventType = typeof e?.type === "string" ? e.type : "";
  const which = systemOf(envelope);
  if ("unknownVersion" in which) {
    return { outcome: "unknown_version", apiVersion: which.unknownVersion, eventType, reason: `apiVersion ${which.unknownVersion} is not a webhook payload version this product reads` };
  }
  const { system } = which;
  const data = asRecord(e?.data);
  const payload = asRecord(system === "quo" ? data?.resource : data?.object);
  if (CONTACT_TYPES.has(eventType)) return { outcome: "contact", system, eventId: envelopeIdOf(envelope) ?? options.fallbackId, eventType, resource: payload };
  const parsed = system === "quo" ? parseQuoEnvelope(envelope, options.fallbackId, options.receivedAt) : parseLegacyEnvelope(envelope, options.fallbackId, options.receivedAt);
  if (parsed.outcome === "ignored") return { outcome: "ignored", system, eventType: parsed.type, reason: parsed.reason };
  if (parsed.outcome === "invalid") return { outcome: "invalid", system, eventType, reason: parsed.reason };
  return { outcome: "event", event: parsed.event, badDates: badDatesOf(payload, system === "quo" ? "data.resource" : "data.object") };
}

/** The call or text an envelope concerns, read without judging the rest (the consumer's grouping of a batch). */
export function resourceIdOf(envelope: unknown): string | undefined {
  const data = asRecord(asRecord(envelope)?.data);
  const payload = asRecord(data?.resource) ?? asRecord(data?.object);
  const id = payload?.callId ?? payload?.id;
  return typeof id === "string" ? id : undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
