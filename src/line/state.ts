/**
 * The state of one call or one text, and the pure merge of an event (or an enrichment fetch) into it.
 *
 * Each field is `undefined` (unknown: nobody told us yet, or a fetch failed), `null` (absent: nothing was there) or a
 * value. For what OpenPhone produces after a call (recordings, transcript, summary, voicemail) an event's empty list
 * only says "nothing yet"; "OpenPhone says none" is an absent value together with `checked`, the time its API was
 * asked. So a flush can tell "never asked" from "asked, and there was none", and a re-sync (`askAgainAt`) asks again
 * whatever was asked before it. The merge is a join: per field the final value is the present value carrying the highest stamp,
 * else `null` if anyone said "absent", else unknown. So the final state does not depend on the order events arrive
 * in, a duplicate changes nothing, and a present value is never replaced by an empty one.
 *
 * A stamp is `rank|time|source`: the rank says how far along the value is (a completed call beats a ringing one,
 * a completed transcript beats one in progress, whatever their clocks say); time and source id break ties.
 */

export interface Recording {
  /** OpenPhone's recording id (CR…); webhook payloads may omit it, the recordings list always has it. */
  id: string | null;
  url: string | null;
  type: string | null;
  duration: number | null;
}

/**
 * A voicemail as far as it is known. Its transcript comes from `GET /v1/call-voicemails/{callId}` (the v1 webhooks
 * carry none) or from any event that carries it (Quo's `call.voicemail.completed`): a patch with `transcript` set
 * outranks one without, so whichever source brings the text first, it stays.
 */
export interface Voicemail {
  /** VM…, known once the voicemail was read from the API. */
  id?: string | null;
  url: string | null;
  type: string | null;
  duration: number | null;
  transcript: string | null;
  /** OpenPhone is still processing it (no webhook announces the end: the flush asks again). */
  processing?: boolean;
}

export interface TranscriptTurn {
  start: number;
  end: number | null;
  content: string;
  identifier: string | null;
  userId: string | null;
}

export interface Transcript {
  status: string;
  dialogue: TranscriptTurn[];
}

export interface Summary {
  status: string;
  summary: string[];
  nextSteps: string[];
}

export interface CallPatch {
  lineId?: string;
  direction?: "incoming" | "outgoing";
  status?: string;
  participants?: string[] | null;
  userId?: string | null;
  answeredBy?: string | null;
  initiatedBy?: string | null;
  createdAt?: string;
  answeredAt?: string | null;
  completedAt?: string | null;
  duration?: number | null;
  recordings?: Recording[] | null;
  voicemail?: Voicemail | null;
  transcript?: Transcript | null;
  summary?: Summary | null;
  /**
   * OpenPhone's API said the voicemail is still being processed (`in-progress`) when it was last asked, so its
   * transcript may still come: the flush asks again, within the products wait. The latest answer wins; a voicemail
   * with a transcript needs nothing more, whatever this says.
   */
  voicemailTranscriptPending?: boolean;
  /** A `call.recording.completed` event was seen, so a recording exists even if the event carried no URL. */
  recordingAnnounced?: boolean;
  /** When OpenPhone's API was last asked for each product (merged by keeping the latest per product). */
  checked?: Partial<Record<CallProduct, number>>;
  /** A re-sync was asked for at this time: every product last asked for before it is asked for again. */
  askAgainAt?: number;
}

/** What OpenPhone produces for a call after it ends, each read from its own endpoint. */
export type CallProduct = "recordings" | "transcript" | "summary" | "voicemail";

export interface MessagePatch {
  lineId?: string;
  direction?: "incoming" | "outgoing";
  status?: string;
  from?: string | null;
  to?: string[] | null;
  text?: string | null;
  createdAt?: string;
  userId?: string | null;
  /** MMS attachments in the order the message lists them (an attachment's position names its file). */
  media?: { url: string | null; type: string | null }[] | null;
}

interface Stamped {
  id: string;
  /** Stamp of the value each present field holds. */
  stamps: Record<string, string>;
}

export type CallState = Stamped & CallPatch & { kind: "call" };
export type MessageState = Stamped & MessagePatch & { kind: "message" };
export type ResourceState = CallState | MessageState;

/** Where a patch came from: an event (its id and time) or a fetch (`fetch:<operation>` and when it answered). */
export interface PatchSource {
  id: string;
  at: number;
}

const CALL_STATUS_RANK: Record<string, number> = { queued: 1, initiated: 1, ringing: 2, "in-progress": 3, answered: 3 };
const MESSAGE_STATUS_RANK: Record<string, number> = { queued: 1, sent: 2, received: 3, delivered: 3, undelivered: 3 };
const AI_STATUS_RANK: Record<string, number> = { absent: 1, "in-progress": 2, failed: 3, completed: 4 };

/** Statuses after which a call changes no more (everything not queued/ringing/in progress). */
export function isCallFinished(status: string | undefined): boolean {
  return status !== undefined && (CALL_STATUS_RANK[status] ?? 4) >= 4;
}

function callStatusRank(status: string | undefined): number {
  return status === undefined ? 0 : (CALL_STATUS_RANK[status] ?? 4);
}

function fieldRank(kind: "call" | "message", key: string, value: unknown, patchStatus: string | undefined): number {
  if (key === "summary" || key === "transcript") return AI_STATUS_RANK[(value as { status: string }).status] ?? 0;
  // Only a segment with its id and URL can be stored and linked; a list with more of those is further along.
  if (key === "recordings") return Math.min(9, (value as Recording[]).filter((r) => r.url && r.id).length);
  // A voicemail with its transcript (the 2026-03-30 call.voicemail.completed, or asked of OpenPhone) is further along.
  if (key === "voicemail") return ((value as Voicemail).url ? 2 : 1) + ((value as Voicemail).transcript ? 2 : 0);
  if (kind === "message") return patchStatus === undefined ? 0 : (MESSAGE_STATUS_RANK[patchStatus] ?? 3);
  return callStatusRank(patchStatus);
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
}

function stampOf(rank: number, source: PatchSource): string {
  return `${rank}|${String(Math.max(0, Math.floor(source.at))).padStart(15, "0")}|${source.id}`;
}

function mergeInto<S extends Stamped>(kind: "call" | "message", state: S, patch: object, source: PatchSource): S {
  const next = { ...state, stamps: { ...state.stamps } } as unknown as Record<string, unknown> & Stamped;
  const patchStatus = (patch as { status?: string }).status;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const current = next[key];
    if (key === "checked") {
      // Times of asking: the latest per product, whichever patch brought it.
      const merged = { ...(current as Record<string, number> | undefined) };
      for (const [product, at] of Object.entries(value as Record<string, number>)) merged[product] = Math.max(merged[product] ?? at, at);
      next[key] = merged;
      continue;
    }
    if (key === "askAgainAt") {
      next[key] = Math.max((current as number | undefined) ?? (value as number), value as number);
      continue;
    }
    if (isEmpty(value)) {
      // "Absent" only fills what is unknown; it never erases a value.
      if (current === undefined) next[key] = null;
      continue;
    }
    const stamp = stampOf(fieldRank(kind, key, value, patchStatus), source);
    const currentStamp = next.stamps[key];
    const wins =
      isEmpty(current) ||
      currentStamp === undefined ||
      stamp > currentStamp ||
      (stamp === currentStamp && JSON.stringify(value) > JSON.stringify(current));
    if (wins) {
      next[key] = value;
      next.stamps[key] = stamp;
    }
  }
  return next as unknown as S;
}

export function emptyCall(id: string): CallState {
  return { kind: "call", id, stamps: {} };
}

export function emptyMessage(id: string): MessageState {
  return { kind: "message", id, stamps: {} };
}

export function mergeCall(state: CallState, patch: CallPatch, source: PatchSource): CallState {
  return mergeInto("call", state, patch, source);
}

export function mergeMessage(state: MessageState, patch: MessagePatch, source: PatchSource): MessageState {
  return mergeInto("message", state, patch, source);
}

/** The external party of a call: the participant that is not the line's own number. */
export function callParticipant(state: CallState, lineNumber?: string | null): string | undefined {
  const others = (state.participants ?? []).filter((p) => p !== lineNumber);
  return others[0] ?? state.participants?.[0] ?? undefined;
}

/** The external party of a text: the sender of an incoming one, the first recipient of an outgoing one. */
export function messageParticipant(state: MessageState, lineNumber?: string | null): string | undefined {
  if (state.direction === "incoming") return state.from ?? undefined;
  const others = (state.to ?? []).filter((p) => p !== lineNumber);
  return others[0] ?? (state.direction === undefined && state.from !== lineNumber ? (state.from ?? undefined) : undefined);
}

/** The OpenPhone user who handled a call: who answered it, who placed it, or the line's user. */
export function callUserId(state: CallState): string | undefined {
  return state.answeredBy ?? state.initiatedBy ?? state.userId ?? undefined;
}

/** Whether the call was answered: `answeredAt` is the reliable signal (openphone-api.md §9.2). */
export function wasAnswered(state: CallState): boolean {
  return typeof state.answeredAt === "string" && state.answeredAt !== "";
}

/** Whether OpenPhone's API was asked for this product since the last re-sync request (or ever, without one). */
export function wasAsked(state: CallState, product: CallProduct): boolean {
  const at = state.checked?.[product];
  return at !== undefined && at >= (state.askAgainAt ?? -Infinity);
}

/**
 * OpenPhone is still producing something for this call: a recording without its URL, a transcript, a summary, or a
 * voicemail (its file or its transcript).
 */
export function awaitsProducts(state: CallState): boolean {
  // A segment with a URL is ready (its id, if a webhook left it out, is one fetch away).
  const recordingPending = (state.recordings?.length ?? 0) > 0 && !state.recordings!.some((r) => r.url);
  return recordingPending || state.transcript?.status === "in-progress" || state.summary?.status === "in-progress" || state.voicemail?.processing === true || voicemailTranscriptAwaited(state);
}

/** A voicemail whose transcript OpenPhone said it is still making. */
export function voicemailTranscriptAwaited(state: CallState): boolean {
  return state.voicemailTranscriptPending === true && Boolean(state.voicemail) && !state.voicemail?.transcript;
}
