/**
 * When a call or text is flushed: after the coalescing window, later for a call still ringing (so one write carries
 * the finished call) or for a call whose recording, transcript or summary are still being produced (so they land in
 * one update), and with growing backoff after a failed flush. Pure functions of the stored record.
 */
import { awaitsProducts, isCallFinished, type ResourceState, voicemailTranscriptAwaited } from "./state";
import type { ResourceRecord } from "./storage";
import type { BackoffPolicy } from "../retry/backoff";

/** A call still ringing or in progress is held this long at most before its page is written anyway. */
export const CALL_HOLD_MS = 15 * 60_000;
/** After a call's page is written, its late recording/transcript/summary are awaited this long to write them at once. */
export const PRODUCTS_WAIT_MS = 10 * 60_000;
/** No v1 webhook says when a voicemail (its file or transcript) is processed: a flush looks again after this long. */
export const VOICEMAIL_RECHECK_MS = 15_000;

/**
 * A failed flush (or a page's media note) is tried again within 5 s, 10 s, 20 s … of its attempts, at most 15
 * minutes, and never sooner than the server asked.
 */
export const FLUSH_RETRY_BACKOFF: BackoffPolicy = { baseMs: 5000, capMs: 15 * 60_000 };

/** Marks a record as needing a flush and says when; an earlier due time already set is kept. */
export function markDue(record: ResourceRecord, now: number, coalesceMs: number): ResourceRecord {
  const state = record.state;
  let candidate = now + coalesceMs;
  if (state.kind === "call" && state.status !== undefined && !isCallFinished(state.status)) {
    candidate = Math.max(candidate, record.firstEventAt + CALL_HOLD_MS);
  } else {
    const held = productsDueAt(record, now);
    if (held !== null) candidate = Math.max(candidate, held);
  }
  const dueAt = record.dirty && record.dueAt !== null ? Math.min(record.dueAt, candidate) : candidate;
  return { ...record, dirty: true, dueAt };
}

/**
 * When a call whose page is written, and whose recording, transcript or summary are still being produced, is next
 * flushed: at the end of the products wait, so they land in one update, or shortly for a voicemail being processed
 * (no webhook announces it). Null when nothing is awaited, the page is not written yet, or the wait is over.
 */
export function productsDueAt(record: Pick<ResourceRecord, "state" | "pageId" | "firstEventAt">, now: number): number | null {
  const state = record.state;
  if (state.kind !== "call" || !record.pageId || !awaitsProducts(state)) return null;
  const finishedAt = (state.completedAt ? Date.parse(state.completedAt) : NaN) || record.firstEventAt;
  const deadline = finishedAt + PRODUCTS_WAIT_MS;
  if (now >= deadline) return null;
  return state.voicemail?.processing || voicemailTranscriptAwaited(state) ? Math.min(deadline, now + VOICEMAIL_RECHECK_MS) : deadline;
}

export function newRecord(resourceId: string, kind: "call" | "message", state: ResourceState, firstEventAt: number): ResourceRecord {
  return {
    resourceId,
    kind,
    state,
    version: 0,
    dirty: false,
    dueAt: null,
    attempts: 0,
    pageId: null,
    claim: null,
    claimProps: null,
    claimSections: [],
    claimedAt: null,
    claimUnknownAt: null,
    claimLookups: 0,
    writtenProps: {},
    bodySections: [],
    links: {},
    canvasPageId: null,
    failedAt: null,
    failedReason: null,
    failedProperty: null,
    firstEventAt,
    source: "webhook",
  };
}

/**
 * The coalescing window for a backfilled event. History has nothing left to coalesce with: a call that ended longer
 * ago than the products wait (its recording, transcript and summary are done) or a text older than the window is
 * flushed at once. A recent one waits like a live event, since its webhooks may still be arriving.
 */
export function backfillWindowMs(state: ResourceState, now: number, coalesceMs: number): number {
  if (state.kind === "call") {
    const endedAt = state.completedAt ? Date.parse(state.completedAt) : NaN;
    return isCallFinished(state.status) && endedAt < now - PRODUCTS_WAIT_MS ? 0 : coalesceMs;
  }
  const sentAt = state.createdAt ? Date.parse(state.createdAt) : NaN;
  return sentAt < now - coalesceMs ? 0 : coalesceMs;
}
