/**
 * The `2026-03-30` envelope of the Quo webhook system: `{id, apiVersion, createdAt, type, data: {resource, context,
 * links}}`. The resource is the business object; the line, the user, the people on the call or text and the contact
 * lookup are in the context (reference quo-2026-03-30.md §4.3–4.4). Read through normalise.ts only.
 *
 * What this system says differently from the legacy one is mapped onto the same patch fields:
 * - call statuses (`answered`, `unanswered`, …) onto the v1 words the pages use (`completed`, `missed`, …);
 * - `processingStatus` onto the summary's and transcript's status;
 * - `message.failed` onto `undelivered`, the word v1 (and so the backfill) uses for a text that did not arrive;
 * - `context.senderIdentifier`/`recipientIdentifiers` onto a text's from/to, `context.participants` (external, then
 *   workspace, the order of a v1 call's list) onto a call's participants. A lookup or resolution that says `unavailable` leaves them unknown, never empty.
 * `call.voicemail.completed` names its call in `callId`: without one it cannot be attached and is refused.
 */
import { z } from "zod";
import type { CallPatch, MessagePatch, TranscriptTurn } from "../line/state";
import { dedupeKeyOf, type CanonicalEventType, type ParsedEnvelope } from "./internal-event";
import { epoch, firstIssue, mediaItem, optionalDate, optionalNumber, optionalText, text, toRecordings, turn } from "./legacy-payload";

/** The payload versions this product reads. A webhook is pinned to the version it was created with. */
export const QUO_API_VERSIONS = ["2026-03-30"] as const;

/** The event types of the 2026-03-30 system that concern a call or a text. */
export const QUO_SYNCED_TYPES: readonly CanonicalEventType[] = [
  "call.ringing",
  "call.answered",
  "call.forwarded",
  "call.missed",
  "call.completed",
  "call.recording.completed",
  "call.summary.completed",
  "call.transcript.completed",
  "call.voicemail.completed",
  "message.received",
  "message.delivered",
  "message.failed",
];
const SYNCED = new Set<string>(QUO_SYNCED_TYPES);

/** `call.completed` statuses in the words of v1 calls (the Status select on the page). */
const CALL_STATUS: Record<string, string | undefined> = {
  answered: "completed",
  unanswered: "missed",
  failed: "failed",
  forwarded: "forwarded",
  abandoned: "canceled",
  "ai-handled": "completed",
  unknown: undefined,
};

const identifierList = z.array(z.string()).nullish().catch(undefined);
const contextSchema = z
  .looseObject({
    phoneNumberId: optionalText,
    userId: optionalText,
    senderIdentifier: optionalText,
    recipientIdentifiers: identifierList,
    contacts: z.looseObject({ ids: identifierList, lookupStatus: optionalText }).nullish().catch(undefined),
    participants: z.looseObject({ workspace: identifierList, external: identifierList, resolution: optionalText }).nullish().catch(undefined),
  })
  .catch({});

const envelopeSchema = z.looseObject({
  id: text.optional().catch(undefined),
  type: z.string().optional().catch(undefined),
  createdAt: z.string().optional().catch(undefined),
  data: z.looseObject({ resource: z.looseObject({}), context: z.unknown().optional() }),
});

const callResource = z.looseObject({
  id: text,
  direction: z.enum(["incoming", "outgoing"]).optional().catch(undefined),
  status: optionalText,
  createdAt: optionalDate,
  answeredAt: optionalDate,
  completedAt: optionalDate,
  duration: optionalNumber,
  answeredByUserId: optionalText,
  recordings: z.array(mediaItem).nullish().catch(undefined),
});

const lines = z.union([z.array(z.string()), z.string().transform((s) => [s])]).nullish().catch(undefined);
const summaryResource = z.looseObject({ callId: text, processingStatus: optionalText, summary: lines, nextSteps: lines });
const transcriptResource = z.looseObject({ callId: text, processingStatus: optionalText, dialogue: z.array(turn).nullish().catch(undefined) });
const voicemailResource = z.looseObject({
  callId: text,
  voicemailId: optionalText,
  direction: z.enum(["incoming", "outgoing"]).optional().catch(undefined),
  duration: optionalNumber,
  transcript: z.string().nullish().catch(undefined),
  recordingUrl: optionalText,
});
const messageResource = z.looseObject({
  id: text,
  direction: z.enum(["incoming", "outgoing"]).optional().catch(undefined),
  text: z.string().nullish().catch(undefined),
  status: optionalText,
  createdAt: optionalDate,
  media: z.array(mediaItem).nullish().catch(undefined),
});

type Context = z.infer<typeof contextSchema>;

/** The context fields every call event shares: the line, the user and the people on the call. */
function callContextPatch(context: Context): CallPatch {
  const participants = context.participants;
  const known = participants && participants.resolution !== "unavailable" && participants.external !== undefined;
  return {
    lineId: context.phoneNumberId ?? undefined,
    userId: context.userId,
    // In the order of a v1 call's participants: the people outside the workspace, then the workspace's numbers.
    participants: known ? (participants.external?.length ? [...participants.external, ...(participants.workspace ?? [])] : null) : undefined,
  };
}

/** Reads a 2026-03-30 envelope into one normalised event, or says why it cannot. */
export function parseQuoEnvelope(envelope: unknown, fallbackId: string | undefined, receivedAt = Date.now()): ParsedEnvelope {
  const parsed = envelopeSchema.safeParse(envelope);
  if (!parsed.success) return { outcome: "invalid", reason: `malformed 2026-03-30 webhook envelope (${firstIssue(parsed.error)})` };
  const eventId = parsed.data.id ?? fallbackId;
  if (!eventId) return { outcome: "invalid", reason: "malformed 2026-03-30 webhook envelope (id: expected string)" };
  const rawType = parsed.data.type ?? "";
  if (!SYNCED.has(rawType)) return { outcome: "ignored", type: rawType || "(none)", reason: `event type ${rawType || "(none)"} is not synced` };
  const type = rawType as CanonicalEventType;
  const resource = parsed.data.data.resource;
  const context = contextSchema.parse(parsed.data.data.context ?? {});
  const base = { eventId, type, occurredAt: epoch(parsed.data.createdAt, receivedAt), system: "quo" as const };
  const invalid = (error: z.ZodError) => ({ outcome: "invalid" as const, reason: `${type} event ${eventId}: data.resource.${firstIssue(error)}` });

  if (type === "call.summary.completed") {
    const r = summaryResource.safeParse(resource);
    if (!r.success) return invalid(r.error);
    const o = r.data;
    const status = o.processingStatus ?? "completed";
    const patch: CallPatch = { ...callContextPatch(context), summary: { status, summary: o.summary ?? [], nextSteps: o.nextSteps ?? [] } };
    return { outcome: "event", event: { ...base, kind: "call", resourceId: o.callId, dedupeKey: dedupeKeyOf(type, o.callId, status), patch } };
  }
  if (type === "call.transcript.completed") {
    const r = transcriptResource.safeParse(resource);
    if (!r.success) return invalid(r.error);
    const o = r.data;
    const status = o.processingStatus ?? "completed";
    const dialogue: TranscriptTurn[] = (o.dialogue ?? []).map((t) => ({ start: t.start, end: t.end ?? null, content: t.content, identifier: t.identifier ?? null, userId: t.userId ?? null }));
    const patch: CallPatch = { ...callContextPatch(context), transcript: { status, dialogue } };
    return { outcome: "event", event: { ...base, kind: "call", resourceId: o.callId, dedupeKey: dedupeKeyOf(type, o.callId, status), patch } };
  }
  if (type === "call.voicemail.completed") {
    const r = voicemailResource.safeParse(resource);
    if (!r.success) return invalid(r.error);
    const o = r.data;
    const patch: CallPatch = {
      ...callContextPatch(context),
      direction: o.direction,
      voicemail: { id: o.voicemailId ?? null, url: o.recordingUrl ?? null, type: o.recordingUrl ? "audio/mpeg" : null, duration: o.duration ?? null, transcript: o.transcript ?? null },
    };
    return { outcome: "event", event: { ...base, kind: "call", resourceId: o.callId, dedupeKey: dedupeKeyOf(type, o.callId), patch } };
  }
  if (type.startsWith("call.")) {
    const r = callResource.safeParse(resource);
    if (!r.success) return invalid(r.error);
    const o = r.data;
    const status =
      type === "call.ringing" ? "ringing" : type === "call.answered" ? "in-progress" : type === "call.missed" ? "missed" : type === "call.completed" && o.status ? CALL_STATUS[o.status] : undefined;
    const patch: CallPatch = {
      ...callContextPatch(context),
      direction: type === "call.missed" ? "incoming" : o.direction,
      status,
      answeredBy: o.answeredByUserId,
      createdAt: o.createdAt ?? undefined,
      answeredAt: o.answeredAt,
      completedAt: o.completedAt,
      duration: o.duration,
      recordings: toRecordings(o.recordings),
      recordingAnnounced: type === "call.recording.completed" ? true : undefined,
    };
    return { outcome: "event", event: { ...base, kind: "call", resourceId: o.id, dedupeKey: dedupeKeyOf(type, o.id), patch } };
  }
  const r = messageResource.safeParse(resource);
  if (!r.success) return invalid(r.error);
  const o = r.data;
  const patch: MessagePatch = {
    lineId: context.phoneNumberId ?? undefined,
    direction: o.direction,
    status: type === "message.failed" ? "undelivered" : (o.status ?? undefined),
    from: context.senderIdentifier,
    to: context.recipientIdentifiers === undefined ? undefined : context.recipientIdentifiers?.length ? context.recipientIdentifiers : null,
    text: o.text,
    createdAt: o.createdAt ?? undefined,
    userId: context.userId,
    media: o.media === undefined ? undefined : o.media?.length ? o.media.map((m) => ({ url: m.url ?? null, type: m.type ?? null })) : null,
  };
  return { outcome: "event", event: { ...base, kind: "message", resourceId: o.id, dedupeKey: dedupeKeyOf(type, o.id, patch.status), patch } };
}
