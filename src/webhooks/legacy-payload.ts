/**
 * The legacy envelope (`/v1/webhooks` and webhooks made in the Quo app): `object: "event"`, the payload in
 * `data.object`. Read through normalise.ts only.
 *
 * OpenPhone's payloads vary (reference: openphone-api.md §8): summary and transcript events may carry the type
 * `callSummary`/`callTranscript` instead of `call.summary.completed`/`call.transcript.completed`, a message's `to`
 * may be a string instead of an array, and an inbound message may say `received`, a status outside the REST enum.
 * Where the meaning is clear the variant is accepted; where an assumption breaks (no id to attach the event to) the
 * event is refused with a reason so it is dead-lettered instead of silently dropped. Unknown event types are
 * ignored (and counted by the caller).
 *
 * A date field that is not a date is left unknown (the intake counts and logs it as `webhook.bad_date`): the call
 * or text is still written, with that date property empty, instead of being refused by Notion as a whole.
 *
 * Every field of the patch follows one rule: `undefined` means the event did not say (unknown), `null` means
 * OpenPhone said there is none (absent). The merge in `state.ts` keeps the two apart.
 */
import { z } from "zod";
import type { CallPatch, MessagePatch, Recording, TranscriptTurn, Voicemail } from "../line/state";
import { notionDate } from "./envelope";
import { dedupeKeyOf, type CanonicalEventType, type ParsedEnvelope } from "./internal-event";

const TYPE_ALIASES: Record<string, CanonicalEventType> = {
  "call.ringing": "call.ringing",
  "call.completed": "call.completed",
  "call.recording.completed": "call.recording.completed",
  "call.summary.completed": "call.summary.completed",
  callSummary: "call.summary.completed",
  "call.summary": "call.summary.completed",
  "call.transcript.completed": "call.transcript.completed",
  callTranscript: "call.transcript.completed",
  "call.transcript": "call.transcript.completed",
  "message.received": "message.received",
  "message.delivered": "message.delivered",
};

export const text = z.string().min(1);
export const optionalText = z.string().nullish().catch(undefined);
export const optionalNumber = z.number().nullish().catch(undefined);
/** A date field: `null` or empty stays "none", anything that is not a date becomes unknown. */
export const optionalDate = z
  .unknown()
  .transform((value) => (value === null || value === "" ? null : typeof value === "string" ? notionDate(value) : undefined))
  .optional();
const envelopeSchema = z.looseObject({
  id: text.optional().catch(undefined),
  type: z.string().optional().catch(undefined),
  createdAt: z.string().optional().catch(undefined),
  data: z.looseObject({ object: z.looseObject({}) }),
});

export const mediaItem = z.looseObject({ url: z.string().nullish(), type: z.string().nullish(), duration: z.number().nullish(), id: z.string().nullish() });

const callObject = z.looseObject({
  id: text,
  phoneNumberId: optionalText,
  direction: z.enum(["incoming", "outgoing"]).optional().catch(undefined),
  status: optionalText,
  participants: z.union([z.array(z.string()), z.string().transform((s) => [s])]).nullish().catch(undefined),
  userId: optionalText,
  answeredBy: optionalText,
  initiatedBy: optionalText,
  createdAt: optionalDate,
  answeredAt: optionalDate,
  completedAt: optionalDate,
  duration: optionalNumber,
  media: z.array(mediaItem).nullish().catch(undefined),
  recordings: z.array(mediaItem).nullish().catch(undefined),
  voicemail: mediaItem.extend({ transcript: z.string().nullish() }).nullish().catch(undefined),
});

const summaryObject = z.looseObject({
  callId: text,
  status: optionalText,
  summary: z.union([z.array(z.string()), z.string().transform((s) => [s])]).nullish().catch(undefined),
  nextSteps: z.union([z.array(z.string()), z.string().transform((s) => [s])]).nullish().catch(undefined),
});

export const turn = z.looseObject({
  content: z.string().catch(""),
  start: z.number().catch(0),
  end: z.number().nullish().catch(undefined),
  identifier: z.string().nullish().catch(undefined),
  userId: z.string().nullish().catch(undefined),
});
const transcriptObject = z.looseObject({
  callId: text,
  status: optionalText,
  dialogue: z.array(turn).nullish().catch(undefined),
  duration: optionalNumber,
});

const messageObject = z.looseObject({
  id: text,
  phoneNumberId: optionalText,
  from: optionalText,
  to: z.union([z.array(z.string()), z.string().transform((s) => [s])]).nullish().catch(undefined),
  direction: z.enum(["incoming", "outgoing"]).optional().catch(undefined),
  text: z.string().nullish().catch(undefined),
  body: z.string().nullish().catch(undefined),
  status: optionalText,
  createdAt: optionalDate,
  userId: optionalText,
  media: z.array(mediaItem).nullish().catch(undefined),
});

export function epoch(iso: string | null | undefined, fallback: number): number {
  const at = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(at) ? fallback : at;
}

export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  const path = issue.path.length ? issue.path.join(".") : "(root)";
  return `${path}: ${issue.code === "invalid_type" ? `expected ${issue.expected}` : issue.message}`;
}

export function toRecordings(items: z.infer<typeof mediaItem>[] | null | undefined): Recording[] | null | undefined {
  if (items === undefined) return undefined;
  if (items === null || items.length === 0) return null;
  return items.map((m) => ({ id: m.id ?? null, url: m.url ?? null, type: m.type ?? null, duration: m.duration ?? null }));
}

/**
 * Reads a legacy envelope into one normalised event, or says why it cannot. `fallbackId` is the id the intake
 * derived for an envelope without one.
 */
export function parseLegacyEnvelope(envelope: unknown, fallbackId: string | undefined, receivedAt = Date.now()): ParsedEnvelope {
  const parsed = envelopeSchema.safeParse(envelope);
  if (!parsed.success) return { outcome: "invalid", reason: `malformed webhook envelope (${firstIssue(parsed.error)})` };
  const { data } = parsed.data;
  const eventId = parsed.data.id ?? fallbackId;
  if (!eventId) return { outcome: "invalid", reason: "malformed webhook envelope (id: expected string)" };
  const object = data.object;
  const rawType = parsed.data.type ?? (typeof object.object === "string" ? object.object : "");
  const type = TYPE_ALIASES[rawType] ?? (typeof object.object === "string" ? TYPE_ALIASES[object.object] : undefined);
  if (!type) return { outcome: "ignored", type: rawType || "(none)", reason: `event type ${rawType || "(none)"} is not synced` };
  const occurredAt = epoch(parsed.data.createdAt, receivedAt);
  const base = { eventId, type, occurredAt, system: "v1" as const };
  const invalid = (error: z.ZodError) => ({ outcome: "invalid" as const, reason: `${type} event ${eventId}: data.object.${firstIssue(error)}` });

  if (type === "call.summary.completed") {
    const r = summaryObject.safeParse(object);
    if (!r.success) return invalid(r.error);
    const o = r.data;
    const patch: CallPatch = { summary: { status: o.status ?? "completed", summary: o.summary ?? [], nextSteps: o.nextSteps ?? [] } };
    return { outcome: "event", event: { ...base, kind: "call", resourceId: o.callId, dedupeKey: dedupeKeyOf(type, o.callId, o.status ?? "completed"), patch } };
  }
  if (type === "call.transcript.completed") {
    const r = transcriptObject.safeParse(object);
    if (!r.success) return invalid(r.error);
    const o = r.data;
    const dialogue: TranscriptTurn[] = (o.dialogue ?? []).map((t) => ({
      start: t.start,
      end: t.end ?? null,
      content: t.content,
      identifier: t.identifier ?? null,
      userId: t.userId ?? null,
    }));
    const patch: CallPatch = { transcript: { status: o.status ?? "completed", dialogue } };
    return { outcome: "event", event: { ...base, kind: "call", resourceId: o.callId, dedupeKey: dedupeKeyOf(type, o.callId, o.status ?? "completed"), patch } };
  }
  if (type.startsWith("call.")) {
    const r = callObject.safeParse(object);
    if (!r.success) return invalid(r.error);
    const o = r.data;
    const voicemail: Voicemail | null | undefined =
      o.voicemail === undefined ? undefined : o.voicemail === null ? null : { url: o.voicemail.url ?? null, type: o.voicemail.type ?? null, duration: o.voicemail.duration ?? null, transcript: o.voicemail.transcript ?? null };
    const patch: CallPatch = {
      lineId: o.phoneNumberId ?? undefined,
      direction: o.direction,
      status: o.status ?? undefined,
      participants: o.participants === undefined ? undefined : o.participants?.length ? o.participants : null,
      userId: o.userId,
      answeredBy: o.answeredBy,
      initiatedBy: o.initiatedBy,
      createdAt: o.createdAt ?? undefined,
      answeredAt: o.answeredAt,
      completedAt: o.completedAt,
      duration: o.duration,
      recordings: toRecordings(o.recordings ?? o.media),
      voicemail,
      recordingAnnounced: type === "call.recording.completed" ? true : undefined,
    };
    return { outcome: "event", event: { ...base, kind: "call", resourceId: o.id, dedupeKey: dedupeKeyOf(type, o.id), patch } };
  }
  const r = messageObject.safeParse(object);
  if (!r.success) return invalid(r.error);
  const o = r.data;
  const patch: MessagePatch = {
    lineId: o.phoneNumberId ?? undefined,
    direction: o.direction,
    status: o.status ?? undefined,
    from: o.from,
    to: o.to === undefined ? undefined : o.to?.length ? o.to : null,
    text: o.text ?? o.body,
    createdAt: o.createdAt ?? undefined,
    userId: o.userId,
    media: o.media === undefined ? undefined : o.media?.length ? o.media.map((m) => ({ url: m.url ?? null, type: m.type ?? null })) : null,
  };
  return { outcome: "event", event: { ...base, kind: "message", resourceId: o.id, dedupeKey: dedupeKeyOf(type, o.id, patch.status), patch } };
}
