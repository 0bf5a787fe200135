/**
 * Enrichment: what a flush asks OpenPhone for because the events did not carry it. Each fetch is made only when
 * its answer can exist and OpenPhone was not asked yet (an event's empty list is "nothing yet", not "none"), so a call
 * whose events carried everything costs no OpenPhone request:
 * - recordings, when a recording was announced without a URL, or an answered call with a length has none usable;
 * - transcript and summary, for an answered call longer than zero seconds (again while in progress);
 * - the voicemail, for an incoming call nobody answered (again while processing), and for a voicemail known without
 *   its transcript (webhooks carry none) until OpenPhone has answered with the transcript or said it is done.
 * After a re-sync request (`askAgainAt`) everything the call can have is asked for once more: recordings, transcript
 * and summary of an answered call, the voicemail of an unanswered incoming one.
 * A 404 means "there is none" (absent, and asked); a failure that may pass (429, 5xx, gate closed) is thrown so the
 * flush is retried later; any other refusal leaves the value unknown and not asked.
 */
import { classifyOpenPhoneError, isRetryableOpenPhoneFailure, type OpenPhoneClient } from "../openphone/client";
import type { CallPatch, CallProduct, CallState, PatchSource, Recording } from "./state";
import { isCallFinished, mergeCall, voicemailTranscriptAwaited, wasAnswered, wasAsked } from "./state";

export interface Enrichment {
  patch: CallPatch;
  source: PatchSource;
}

/** Runs a fetch; `null` when OpenPhone says the thing does not exist, `undefined` when it refused otherwise. */
async function fetchOrAbsent<T>(fetcher: () => Promise<T>): Promise<T | null | undefined> {
  try {
    return await fetcher();
  } catch (error) {
    const failure = classifyOpenPhoneError(error);
    if (failure.kind === "unknown" || isRetryableOpenPhoneFailure(failure)) throw error;
    return failure.kind === "not_found" ? null : undefined;
  }
}

export function callNeeds(state: CallState): Record<CallProduct, boolean> {
  const finished = isCallFinished(state.status);
  const answered = finished && wasAnswered(state);
  const talked = answered && (state.duration ?? 0) > 0;
  const missed = finished && state.direction === "incoming" && !wasAnswered(state);
  // Unknown, or only "nothing yet" from an event: OpenPhone's API has the answer.
  const unasked = (product: CallProduct, value: unknown) => value === undefined || (value === null && !wasAsked(state, product));
  // A re-sync asks again for everything the call can have, whatever is known.
  const again = (product: CallProduct) => state.askAgainAt !== undefined && !wasAsked(state, product);
  // A segment is usable once its id and URL are known (the id names its file); webhooks may carry only the URL.
  const hasRecordingUrl = (state.recordings ?? []).some((r) => r.url && r.id);
  return {
    recordings:
      (answered && again("recordings")) ||
      (!hasRecordingUrl && ((state.recordingAnnounced === true && finished) || (talked && unasked("recordings", state.recordings)) || (finished && (state.recordings ?? []).some((r) => r.url)))),
    // "In progress" is asked again: its webhook may never come (not registered, lost), and the flush that waited
    // for it should find it done.
    transcript: (answered && again("transcript")) || (talked && (unasked("transcript", state.transcript) || state.transcript?.status === "in-progress")),
    summary: (answered && again("summary")) || (talked && (unasked("summary", state.summary) || state.summary?.status === "in-progress")),
    voicemail:
      (missed && again("voicemail")) ||
      (missed && (unasked("voicemail", state.voicemail) || state.voicemail?.processing === true)) ||
      // A voicemail from a webhook has its file but no transcript: the API has it, or says when it is done.
      (finished && Boolean(state.voicemail) && !state.voicemail?.transcript && (!wasAsked(state, "voicemail") || voicemailTranscriptAwaited(state))),
  };
}

export async function enrichCall(state: CallState, openphone: OpenPhoneClient, now = Date.now): Promise<Enrichment[]> {
  const found: Enrichment[] = [];
  const source = (operation: string): PatchSource => ({ id: `fetch:${operation}`, at: now() });
  const callId = state.id;
  if (state.status === undefined) {
    // Only a summary or transcript arrived (the call's own events were lost or are late): read the call itself.
    const result = await fetchOrAbsent(() => openphone.request("getCallById_v1", { path: { callId } }));
    if (result) {
      const c = result.data;
      const patch: CallPatch = {
        lineId: c.phoneNumberId, direction: c.direction, status: c.status, participants: c.participants.length ? c.participants : null, userId: c.userId,
        answeredBy: c.answeredBy, initiatedBy: c.initiatedBy, createdAt: c.createdAt, answeredAt: c.answeredAt, completedAt: c.completedAt, duration: c.duration,
      };
      found.push({ patch, source: source("getCallById") });
      state = mergeCall(state, patch, found[0]!.source);
    }
  }
  const needs = callNeeds(state);

  // The fetches are independent: asked at once, so a call's enrichment costs one round trip instead of up to four.
  const [recordings, transcript, summary, voicemail] = await Promise.all([
    needs.recordings ? fetchOrAbsent(() => openphone.request("getCallRecordings_v1", { path: { callId } })) : undefined,
    needs.transcript ? fetchOrAbsent(() => openphone.request("getCallTranscript_v1", { path: { id: callId } })) : undefined,
    needs.summary ? fetchOrAbsent(() => openphone.request("getCallSummary_v1", { path: { callId } })) : undefined,
    needs.voicemail ? fetchOrAbsent(() => openphone.request("getCallVoicemails_v1", { path: { callId } })) : undefined,
  ]);
  if (recordings !== undefined) {
    const list: Recording[] | null = recordings?.data.length
      ? recordings.data.map((r) => ({ id: r.id, url: r.url ?? null, type: r.type ?? null, duration: r.duration ?? null }))
      : null;
    found.push({ patch: { recordings: list, checked: { recordings: now() } }, source: source("getCallRecordings") });
  }
  if (transcript !== undefined) {
    const t = transcript?.data;
    const value = t
      ? {
          status: t.status,
          dialogue: (t.dialogue ?? []).map((d) => ({ start: d.start, end: d.end ?? null, content: d.content, identifier: d.identifier ?? null, userId: d.userId ?? null })),
        }
      : null;
    found.push({ patch: { transcript: value, checked: { transcript: now() } }, source: source("getCallTranscript") });
  }
  if (summary !== undefined) {
    const s = summary?.data;
    found.push({ patch: { summary: s ? { status: s.status, summary: s.summary ?? [], nextSteps: s.nextSteps ?? [] } : null, checked: { summary: now() } }, source: source("getCallSummary") });
  }
  if (voicemail !== undefined) {
    const v = voicemail?.data;
    // A voicemail still processing has no URL yet; it is marked so a later flush asks again.
    const processing = v?.status === "in-progress" && !v.recordingUrl;
    const value = v ? { id: v.id, url: v.recordingUrl ?? null, type: v.recordingUrl ? "audio/mpeg" : null, duration: v.duration ?? null, transcript: v.transcript ?? null, ...(processing ? { processing } : {}) } : null;
    // "in-progress" (its fields are null while processing) means the transcript may still come; anything else is final.
    const pending = v?.status === "in-progress";
    found.push({ patch: { voicemail: value, voicemailTranscriptPending: pending, checked: { voicemail: now() } }, source: source("getCallVoicemails") });
  }
  return found;
}

/** A user's display name: first and last name, else the e-mail address. */
export function userDisplayName(user: { firstName?: string | null; lastName?: string | null; email?: string | null; id: string }): string {
  const name = [user.firstName, user.lastName].filter(Boolean).join(" ").trim();
  return name || user.email || user.id;
}
