/**
 * The backfill planner: what to ask OpenPhone next for one line, and how each answer moves the line's cursor.
 * Pure functions over a serialisable cursor, so a job can stop after any page and resume anywhere (another
 * invocation, after a crash or a deploy).
 *
 * The v1 API cannot list a line's calls or messages directly: `GET /v1/calls` needs the line, exactly one
 * participant and `maxResults`; `GET /v1/messages` needs the line and the conversation's participants. So a line is
 * walked as: conversations updated since the window start → for each conversation, calls per participant, then its
 * messages, every listing paginated until `nextPageToken` is null (no cap).
 *
 * Calls are listed per participant of every conversation. A number that is also in a group conversation is listed
 * twice; that costs a listing request, never a duplicate page (the Line Durable Object merges by resource id).
 */
import type { Call, Conversation, Message } from "../openphone/client";

/** The largest page every list endpoint accepts. */
export const PAGE_SIZE = 100;

/** One conversation still to list: calls for `participants[callsIndex]`, then (index = length) its messages. */
export interface ConversationWork {
  participants: string[];
  callsIndex: number;
  pageToken?: string;
}

export type JobKind = "line" | "conversations" | "calls" | "messages" | "done";

/** Where one line's backfill stands. Travels in the queue message and is checkpointed in D1. */
export interface LineCursor {
  /** Position in the job chain; a message whose step is not the line's current step is stale. */
  step: number;
  /** What the next request lists. */
  kind: JobKind;
  /** Lower bound (ISO) for calls and messages, and `updatedAfter` for conversations. Set by the "line" step. */
  createdAfter?: string;
  /** When the run began (epoch ms): the line's watermark once every listing is merged. */
  until?: number;
  /** The line's own number (E.164), left out of conversation participants. */
  lineNumber?: string;
  /** Next page of conversations: undefined before the first, null when every page has been listed. */
  conversationsPageToken?: string | null;
  /** Conversations listed but not finished, oldest first. */
  work: ConversationWork[];
  /** Earliest creation time (epoch ms) of a call that had not ended when listed: the watermark stays before it. */
  holdWatermarkBefore?: number;
  /** Consecutive retryable failures, to give up on a line that never recovers. */
  failures: number;
}

export interface LineWindowInput {
  /** The run's explicit `since` (epoch ms), which overrides the watermark. */
  since?: number | null;
  /** The line's stored watermark (epoch ms). */
  watermark?: number | null;
  lookbackDays: number;
  now: number;
}

/** The start of the window for one line: the run's `since`, else the line's watermark, else the lookback. */
export function lineWindowStart({ since, watermark, lookbackDays, now }: LineWindowInput): number {
  if (since !== undefined && since !== null) return since;
  if (watermark !== undefined && watermark !== null) return watermark;
  return now - lookbackDays * 86_400_000;
}

/** A sweep's first window on a line it has never swept, and how far back each sweep reaches before the last one. */
export const SWEEP_FIRST_WINDOW_MS = 60 * 60_000;
export const SWEEP_OVERLAP_MS = 2 * 60_000;

/**
 * The start of a sweep's window on one line: just before the later of the line's two watermarks (the overlap absorbs
 * OpenPhone listing an item a little after its creation time), else the last hour. Never the lookback: the history
 * before a line's first backfill is the backfill's to fill.
 */
export function sweepWindowStart({ backfillWatermark, sweepWatermark, now }: { backfillWatermark: number | null; sweepWatermark: number | null; now: number }): number {
  const latest = Math.max(backfillWatermark ?? -Infinity, sweepWatermark ?? -Infinity);
  return Number.isFinite(latest) ? Math.min(latest, now) - SWEEP_OVERLAP_MS : now - SWEEP_FIRST_WINDOW_MS;
}

export function newLineCursor(): LineCursor {
  return { step: 0, kind: "line", work: [], failures: 0 };
}

/** Resolves the "line" step: the window is fixed for the whole chain, and the listing starts. */
export function startLine(cursor: LineCursor, windowStart: number, now: number, lineNumber?: string): LineCursor {
  return withKind({
    ...cursor,
    createdAfter: new Date(windowStart).toISOString(),
    until: now,
    ...(lineNumber ? { lineNumber } : {}),
    conversationsPageToken: undefined,
    work: [],
  });
}

/**
 * How many conversations to keep in hand before listing the next page of them. Listing conversations only when the
 * work runs low keeps the cursor (a queue message) small however many conversations a line has.
 */
export const CONVERSATIONS_IN_HAND = 8;

function withKind(cursor: LineCursor): LineCursor {
  return { ...cursor, kind: nextKind(cursor) };
}

export function nextKind(cursor: LineCursor): JobKind {
  if (cursor.createdAfter === undefined) return "line";
  const moreConversations = cursor.conversationsPageToken !== null;
  if (moreConversations && cursor.work.length < CONVERSATIONS_IN_HAND) return "conversations";
  const first = cursor.work[0];
  if (!first) return "done";
  return first.callsIndex < first.participants.length ? "calls" : "messages";
}

/** The other side of a conversation: its participants without the line's own number, deduplicated. */
export function externalParticipants(conversation: Pick<Conversation, "participants">, lineNumber?: string): string[] {
  return [...new Set((conversation.participants ?? []).filter((p) => typeof p === "string" && p !== "" && p !== lineNumber))];
}

export type ListConversationsQuery = {
  phoneNumbers: string[];
  updatedAfter: string;
  maxResults: number;
  pageToken?: string;
};

export function conversationsQuery(lineId: string, cursor: LineCursor): ListConversationsQuery {
  if (!cursor.createdAfter) throw new Error("conversationsQuery before the line's window is set");
  return {
    phoneNumbers: [lineId],
    updatedAfter: cursor.createdAfter,
    maxResults: PAGE_SIZE,
    ...(cursor.conversationsPageToken ? { pageToken: cursor.conversationsPageToken } : {}),
  };
}

/** Adds a page of conversations to the work; returns the cursor and how many conversations were planned. */
export function applyConversationsPage(
  cursor: LineCursor,
  page: { data: Pick<Conversation, "participants">[]; nextPageToken: string | null },
): { cursor: LineCursor; planned: number } {
  const added: ConversationWork[] = [];
  for (const conversation of page.data) {
    const participants = externalParticipants(conversation, cursor.lineNumber);
    if (participants.length > 0) added.push({ participants, callsIndex: 0 });
  }
  const next = { ...cursor, conversationsPageToken: page.nextPageToken ?? null, work: [...cursor.work, ...added] };
  return { cursor: withKind(next), planned: added.length };
}

export type ListingRequest =
  | { operation: "listCalls_v1"; query: { phoneNumberId: string; participants: string[]; createdAfter: string; maxResults: number; pageToken?: string } }
  | { operation: "listMessages_v1"; query: { phoneNumberId: string; participants: string[]; createdAfter: string; maxResults: number; pageToken?: string } };

/** The request for one conversation's next page: calls with one participant, or messages with all of them. */
export function listingRequest(lineId: string, createdAfter: string, work: ConversationWork): ListingRequest {
  const base = { phoneNumberId: lineId, createdAfter, maxResults: PAGE_SIZE, ...(work.pageToken ? { pageToken: work.pageToken } : {}) };
  if (work.callsIndex < work.participants.length) {
    return { operation: "listCalls_v1", query: { ...base, participants: [work.participants[work.callsIndex]!] } };
  }
  return { operation: "listMessages_v1", query: { ...base, participants: work.participants } };
}

/** Moves one conversation past a merged page; null when the conversation is finished. */
export function advanceWork(work: ConversationWork, nextPageToken: string | null | undefined): ConversationWork | null {
  if (nextPageToken) return { ...work, pageToken: nextPageToken };
  if (work.callsIndex < work.participants.length) return { participants: work.participants, callsIndex: work.callsIndex + 1 };
  return null;
}

/**
 * Replaces the first `taken` conversations with their advanced states (finished ones drop out) and resets the
 * failure count. Conversations keep their order so the oldest in hand always finishes first.
 */
export function replaceWork(cursor: LineCursor, taken: number, advanced: (ConversationWork | null)[], failed = false): LineCursor {
  const kept = advanced.filter((w): w is ConversationWork => w !== null);
  return withKind({ ...cursor, work: [...kept, ...cursor.work.slice(taken)], failures: failed ? cursor.failures + 1 : 0 });
}

/** Calls still ringing or in progress: their final state is not known yet, so they are not merged now. */
const UNFINISHED_CALL = new Set(["queued", "initiated", "ringing", "in-progress"]);

export function isUnfinishedCall(call: Pick<Call, "status">): boolean {
  return UNFINISHED_CALL.has(call.status);
}

/** Keeps the watermark before an unfinished call, so the next run lists it again once it has ended. */
export function holdWatermark(cursor: LineCursor, createdAt: string): LineCursor {
  const at = Date.parse(createdAt);
  if (Number.isNaN(at)) return cursor;
  return { ...cursor, holdWatermarkBefore: Math.min(cursor.holdWatermarkBefore ?? Infinity, at) };
}

/** The watermark a finished chain leaves: the run's start, or just before the earliest unfinished call. */
export function finalWatermark(cursor: LineCursor): number | undefined {
  if (cursor.until === undefined) return undefined;
  return cursor.holdWatermarkBefore === undefined ? cursor.until : Math.min(cursor.until, cursor.holdWatermarkBefore - 1);
}

export type ListedItem = { kind: "call"; call: Call } | { kind: "message"; message: Message };

/** Reads a cursor back from a queue message; null when it is not one (a malformed or foreign message). */
export function parseLineCursor(job: unknown): LineCursor | null {
  if (typeof job !== "object" || job === null) return null;
  const c = job as Partial<LineCursor>;
  if (typeof c.step !== "number" || !Number.isInteger(c.step) || c.step < 0) return null;
  if (!Array.isArray(c.work) || typeof c.kind !== "string") return null;
  const workOk = c.work.every(
    (w) => typeof w === "object" && w !== null && Array.isArray(w.participants) && w.participants.every((p) => typeof p === "string") && typeof w.callsIndex === "number",
  );
  if (!workOk) return null;
  return { ...(c as LineCursor), failures: typeof c.failures === "number" ? c.failures : 0 };
}
