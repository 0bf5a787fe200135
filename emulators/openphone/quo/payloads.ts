/**
 * What the 2026-03-30 system shows of the emulator's records (reference quo-2026-03-30.md §3.6, §4.3–4.4): webhook
 * envelopes `{id, apiVersion, createdAt, type, data: {resource, context, links}}` and the REST items. The business
 * object is the resource; the line, the user, the people and the contact lookup are the context.
 */
import type { CallRecord, MessageRecord } from "../model.ts";
import { mediaDescriptors } from "../message-builder.ts";
import type { EmulatorStore } from "../store.ts";
import { recordingsView, summaryView, transcriptView, voicemailView } from "../views.ts";

export const QUO_API_VERSION = "2026-03-30";
/** The emulated workspace's organisation id, in every context. */
export const ORG_ID = "OR0000000000000000000001";

export interface QuoEnvelope {
  id: string;
  apiVersion: typeof QUO_API_VERSION;
  createdAt: string;
  type: string;
  data: { resource: Record<string, unknown>; context: Record<string, unknown>; links: { quo: string | null } };
}

/** `call.completed` statuses of this system, from the v1 status of a finished call. */
const CALL_STATUS: Record<string, string> = {
  completed: "answered",
  missed: "unanswered",
  "no-answer": "unanswered",
  busy: "unanswered",
  canceled: "abandoned",
  failed: "failed",
  forwarded: "forwarded",
};

function contactsOf(store: EmulatorStore, numbers: readonly string[]) {
  const ids = store.contactIdsFor(numbers);
  return { ids, lookupStatus: ids.length ? "matched" : "none" };
}

export function callContext(store: EmulatorStore, record: CallRecord, narrow = false): Record<string, unknown> {
  const { call } = record;
  const line = store.line(call.phoneNumberId);
  const base: Record<string, unknown> = {
    orgId: ORG_ID,
    phoneNumberId: call.phoneNumberId,
    conversationId: null,
    userId: call.userId,
    // v1 lists every number on the call, the line's own included; this system splits them.
    participants: { workspace: line ? [line.number] : [], external: call.participants.filter((n) => n !== line?.number), resolution: "available" },
  };
  if (narrow) return base;
  return { ...base, phoneNumberType: "shared", contacts: contactsOf(store, call.participants) };
}

export function messageContext(store: EmulatorStore, record: MessageRecord): Record<string, unknown> {
  const { message } = record;
  return {
    orgId: ORG_ID,
    phoneNumberId: message.phoneNumberId,
    conversationId: null,
    userId: message.userId,
    contacts: contactsOf(store, [message.from, ...message.to]),
    senderIdentifier: message.from,
    recipientIdentifiers: [...message.to],
  };
}

/** `data.resource` of a call event of `type`, as it reads at `now`. */
export function callResource(record: CallRecord, type: string, now: number): Record<string, unknown> {
  const { call } = record;
  const updatedAt = call.updatedAt ?? call.completedAt ?? call.createdAt;
  switch (type) {
    case "call.ringing":
      return { id: call.id, direction: call.direction, createdAt: call.createdAt, updatedAt: call.createdAt };
    case "call.answered":
      return { id: call.id, direction: call.direction, createdAt: call.createdAt, answeredAt: call.answeredAt, answeredByUserId: call.answeredBy ?? null, updatedAt: call.answeredAt };
    case "call.missed":
      return { id: call.id, createdAt: call.createdAt, updatedAt };
    case "call.forwarded":
      return { id: call.id, createdAt: call.createdAt, updatedAt, forwardedFrom: call.forwardedFrom ?? null, forwardedTo: call.forwardedTo ?? null };
    case "call.recording.completed":
      return {
        id: call.id,
        direction: call.direction,
        createdAt: call.createdAt,
        answeredAt: call.answeredAt,
        completedAt: call.completedAt,
        updatedAt,
        duration: call.duration,
        recordings: recordingsView(record, now)
          .filter((r) => r.url)
          .map((r) => ({ id: r.id, duration: r.duration, startTime: r.startTime, type: r.type, url: r.url })),
      };
    case "call.summary.completed": {
      const summary = summaryView(record, now);
      return {
        callId: call.id,
        processingStatus: summary.status,
        summary: summary.summary,
        nextSteps: summary.nextSteps,
        fromPhoneNumber: call.direction === "incoming" ? (call.participants[0] ?? null) : null,
        handledByAiAgent: false,
        answeredByUserId: call.answeredBy ?? null,
        jobs: summary.jobs ?? [],
      };
    }
    case "call.transcript.completed": {
      const transcript = transcriptView(record, now);
      return { callId: call.id, createdAt: transcript.createdAt, duration: transcript.duration, processingStatus: transcript.status, dialogue: transcript.dialogue };
    }
    case "call.voicemail.completed": {
      const voicemail = voicemailView(record, now);
      return {
        id: `AC${call.id.slice(2, 10)}VM${(voicemail?.id ?? "").slice(2, 12)}`,
        voicemailId: voicemail?.id ?? null,
        callId: call.id,
        direction: call.direction,
        duration: voicemail?.duration ?? null,
        from: call.direction === "incoming" ? (call.participants[0] ?? null) : null,
        to: null,
        transcript: voicemail?.transcript ?? null,
        recordingUrl: voicemail?.recordingUrl ?? null,
        createdAt: call.completedAt ?? call.createdAt,
        updatedAt: new Date(record.voicemailReadyAt).toISOString(),
      };
    }
    default:
      return {
        id: call.id,
        direction: call.direction,
        status: CALL_STATUS[call.status] ?? "unknown",
        createdAt: call.createdAt,
        answeredAt: call.answeredAt,
        completedAt: call.completedAt,
        updatedAt,
        duration: call.duration,
        hasVoicemail: record.voicemail !== null,
      };
  }
}

export function messageResource(baseUrl: string, record: MessageRecord, type: string): Record<string, unknown> {
  const { message } = record;
  if (type === "message.failed") {
    return { id: message.id, direction: message.direction, text: message.text, status: "failed", errorCode: "30007", createdAt: message.createdAt };
  }
  const media = record.media.length ? mediaDescriptors(baseUrl, record.media).map((m) => ({ type: m.type, url: m.url })) : [];
  return { id: message.id, direction: message.direction, text: message.text, media, status: message.status, createdAt: message.createdAt };
}

/** The REST `GET /calls` item (§3.6): participants as objects, the summary and the voicemail embedded. */
export function callItem(record: CallRecord, now: number): Record<string, unknown> {
  const { call } = record;
  const summary = summaryView(record, now);
  const voicemail = voicemailView(record, now);
  return {
    id: call.id,
    phoneNumberId: call.phoneNumberId,
    actorId: call.userId,
    direction: call.direction,
    status: call.status,
    participants: call.participants.map((phoneNumber) => ({ phoneNumber, actorId: null })),
    answeredAt: call.answeredAt,
    answeredBy: call.answeredBy,
    initiatedBy: call.initiatedBy,
    completedAt: call.completedAt,
    createdAt: call.createdAt,
    updatedAt: call.updatedAt ?? call.createdAt,
    callRoute: call.callRoute ?? null,
    duration: call.duration,
    forwardedFrom: call.forwardedFrom ?? null,
    forwardedTo: call.forwardedTo ?? null,
    aiHandled: false,
    summary: record.summary ? { status: summary.status, type: "human", summary: summary.summary ?? [], nextSteps: summary.nextSteps ?? [], jobs: summary.jobs ?? [], title: null } : null,
    voicemail: voicemail ? { id: voicemail.id, status: voicemail.status, duration: voicemail.duration, recordingUrl: voicemail.recordingUrl, transcript: voicemail.transcript } : null,
  };
}

export function messageItem(baseUrl: string, record: MessageRecord): Record<string, unknown> {
  const { message } = record;
  return {
    id: message.id,
    to: [...message.to],
    from: message.from,
    text: message.text,
    conversationId: null,
    direction: message.direction,
    status: message.status,
    createdAt: message.createdAt,
    updatedAt: message.updatedAt,
    media: record.media.length ? mediaDescriptors(baseUrl, record.media).map((m) => ({ url: m.url, type: m.type })) : [],
    phoneNumberId: message.phoneNumberId,
    userId: message.userId,
  };
}
