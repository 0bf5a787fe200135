/**
 * What the API and the webhooks show of a record at a given moment. Before an artifact is ready it reads the way
 * OpenPhone shows work in progress (recording "processing" without a URL, transcript and summary "in-progress" with
 * no content, voicemail "in-progress"); a call without a transcript or summary reads "absent".
 */
import type { CallRecord, CallRecording, CallSummary, CallTranscript, MessageRecord, Voicemail } from "./model.ts";
import { mediaDescriptors } from "./message-builder.ts";
import type { EmulatorStore } from "./store.ts";

export function recordingsView(record: CallRecord, now: number): CallRecording[] {
  if (now >= record.recordingReadyAt) return record.recordings;
  return record.recordings.map((segment) => ({ ...segment, status: "processing", url: null }));
}

export function transcriptView(record: CallRecord, now: number): CallTranscript {
  const { call } = record;
  if (!record.transcript) return { callId: call.id, createdAt: call.completedAt ?? call.createdAt, dialogue: null, duration: call.duration, status: "absent" };
  if (now < record.transcriptReadyAt) return { ...record.transcript, createdAt: call.completedAt ?? call.createdAt, dialogue: null, status: "in-progress" };
  return record.transcript;
}

export function summaryView(record: CallRecord, now: number): CallSummary {
  const { call } = record;
  if (!record.summary) return { callId: call.id, status: "absent", summary: null, nextSteps: null };
  if (now < record.summaryReadyAt) return { callId: call.id, status: "in-progress", summary: null, nextSteps: null };
  return record.summary;
}

export function voicemailView(record: CallRecord, now: number): Voicemail | undefined {
  if (!record.voicemail) return undefined;
  if (now < record.voicemailReadyAt) return { id: record.voicemail.id, status: "in-progress", duration: null, transcript: null, recordingUrl: null };
  return record.voicemail;
}

/** `data.object` of `call.*` events: the REST call plus `object` and `contactIds`, and (as older payloads carry) media. */
export function callEventObject(store: EmulatorStore, record: CallRecord, now: number, withMedia: boolean): Record<string, unknown> {
  const { call } = record;
  const object: Record<string, unknown> = { ...call, object: "call", contactIds: store.contactIdsFor(call.participants) };
  if (withMedia) {
    object.media = recordingsView(record, now)
      .filter((r) => r.url)
      .map((r) => ({ url: r.url, type: r.type, duration: r.duration }));
    const voicemail = voicemailView(record, now);
    object.voicemail = voicemail?.recordingUrl ? { url: voicemail.recordingUrl, type: "audio/mpeg", duration: voicemail.duration } : null;
  }
  return object;
}

export function transcriptEventObject(store: EmulatorStore, record: CallRecord, now: number): Record<string, unknown> {
  return { ...transcriptView(record, now), object: "callTranscript", contactIds: store.contactIdsFor(record.call.participants) };
}

export function summaryEventObject(store: EmulatorStore, record: CallRecord, now: number): Record<string, unknown> {
  const { jobs: _jobs, ...summary } = summaryView(record, now);
  return { ...summary, object: "callSummary", contactIds: store.contactIdsFor(record.call.participants) };
}

export function messageEventObject(store: EmulatorStore, baseUrl: string, record: MessageRecord): Record<string, unknown> {
  const { message } = record;
  const { updatedAt: _updatedAt, ...rest } = message;
  const object: Record<string, unknown> = { ...rest, object: "message", contactIds: store.contactIdsFor([message.from, ...message.to]) };
  if (record.media.length) object.media = mediaDescriptors(baseUrl, record.media);
  return object;
}
