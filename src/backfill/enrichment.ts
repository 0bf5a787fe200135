/**
 * What can exist for a call, so enrichment asks only for that: a backfilled call arrives as its REST object, with no
 * recording, transcript or summary events behind it. Asking for a transcript of a zero-length call, or a voicemail of
 * an answered one, only spends the shared OpenPhone budget on a certain "absent".
 */
import type { Call } from "../openphone/client";

export interface PossibleEnrichment {
  /** `GET /v1/call-recordings/{id}`: someone answered and the call lasted. */
  recordings: boolean;
  /** `GET /v1/call-transcripts/{id}`: there was audio to transcribe (a call or a voicemail). */
  transcript: boolean;
  /** `GET /v1/call-summaries/{id}`: as the transcript. */
  summary: boolean;
  /** `GET /v1/call-voicemails/{id}`: nobody answered and the caller stayed on the line. */
  voicemail: boolean;
}

export function possibleEnrichment(call: Pick<Call, "answeredAt" | "duration" | "direction">): PossibleEnrichment {
  const answered = call.answeredAt !== null && call.answeredAt !== undefined;
  const lasted = typeof call.duration === "number" && call.duration > 0;
  return {
    recordings: answered && lasted,
    transcript: lasted,
    summary: lasted,
    // Voicemails are left by callers: an unanswered outgoing call has none to fetch.
    voicemail: !answered && lasted && call.direction === "incoming",
  };
}
