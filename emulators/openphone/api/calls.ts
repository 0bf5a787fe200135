/** Calls and what hangs off them: recordings, transcripts, summaries, voicemails. */
import { ApiError } from "../error-envelope.ts";
import type { CallRecord } from "../model.ts";
import { inCreatedWindow, paginate } from "../pagination.ts";
import { recordingsView, summaryView, transcriptView, voicemailView } from "../views.ts";
import type { ApiContext, ApiHandler } from "./context.ts";

function callRecord({ store }: ApiContext, id: string): CallRecord {
  const record = store.calls.get(id);
  if (!record) throw new ApiError(404, `Call ${id} not found`);
  return record;
}

export const listCalls: ApiHandler = (context) => {
  const { store, query } = context;
  const phoneNumberId = query.phoneNumberId as string;
  const line = store.line(phoneNumberId);
  if (!line) throw new ApiError(404, `Phone number ${phoneNumberId} not found`);
  const participant = (query.participants as string[])[0]!;
  const matching = [...store.calls.values()]
    .map((r) => r.call)
    .filter((c) => c.phoneNumberId === line.id && c.participants.includes(participant) && (query.userId === undefined || c.userId === query.userId) && inCreatedWindow(c.createdAt, query));
  return { status: 200, body: paginate(matching, { maxResults: query.maxResults as number, pageToken: query.pageToken as string | undefined, key: (c) => `${c.createdAt}|${c.id}`, descending: true }) };
};

export const getCallById: ApiHandler = (context) => ({ status: 200, body: { data: callRecord(context, context.path.callId!).call } });

export const getCallRecordings: ApiHandler = (context) => ({ status: 200, body: { data: recordingsView(callRecord(context, context.path.callId!), context.now) } });

export const getCallTranscript: ApiHandler = (context) => ({ status: 200, body: { data: transcriptView(callRecord(context, context.path.id!), context.now) } });

export const getCallSummary: ApiHandler = (context) => ({ status: 200, body: { data: summaryView(callRecord(context, context.path.callId!), context.now) } });

export const getCallVoicemails: ApiHandler = (context) => {
  const voicemail = voicemailView(callRecord(context, context.path.callId!), context.now);
  if (!voicemail) throw new ApiError(404, `Call ${context.path.callId} has no voicemail`);
  return { status: 200, body: { data: voicemail } };
};
