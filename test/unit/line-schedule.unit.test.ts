import { describe, expect, it } from "vitest";
import { emptyReport } from "../../src/db/sync-history";
import type { FlushResult } from "../../src/line/flush";
import { markDue, newRecord, PRODUCTS_WAIT_MS, productsDueAt } from "../../src/line/schedule";
import { settleFlush } from "../../src/line/settle";
import { type CallState, emptyCall, mergeCall } from "../../src/line/state";
import type { LineStorage, ResourceRecord } from "../../src/line/storage";

/** A minute ago: settling reads the clock, and the products wait must not be over. */
const COMPLETED_AT = Date.now() - 60_000;
const COALESCE_MS = 2000;

function finishedCall(extra: Partial<CallState> = {}): CallState {
  return { ...emptyCall("AC1"), lineId: "PN1", status: "completed", answeredAt: new Date(COMPLETED_AT - 95_000).toISOString(), completedAt: new Date(COMPLETED_AT).toISOString(), duration: 95, ...extra };
}

const inProgress = { transcript: { status: "in-progress", dialogue: [] }, summary: { status: "in-progress", summary: [], nextSteps: [] } };

/** A one-record stand-in for the Line DO's storage: what `settleFlush` reads and writes. */
function storeHolding(record: ResourceRecord) {
  let current = record;
  const store = {
    get: () => current,
    put: (r: ResourceRecord) => void (current = r),
    markEventsFlushed: () => undefined,
    requestMediaCopies: () => undefined,
    eventMessages: () => [],
  };
  return { store: store as unknown as LineStorage, current: () => current, arrive: (r: ResourceRecord) => void (current = r) };
}

function created(record: ResourceRecord, state: CallState): FlushResult {
  return { outcome: "created", state, enrichments: [], pageId: "page-1", writtenProps: {}, bodySections: [], links: {}, claimSettled: true, claimUnknownAt: null, claimLookups: 0, duplicatePrevented: false, mediaCopies: [] };
}

const settleContext = { canvasPageId: null, pendingSince: null, counter: { notion: 1, openphone: 3, rateLimited: 0 }, participantOf: () => undefined };

describe("when a call is flushed", () => {
  it("holds a written call whose transcript or summary is in progress until the end of the products wait", () => {
    const record = { ...newRecord("AC1", "call", finishedCall(inProgress), COMPLETED_AT), pageId: "page-1" };
    expect(productsDueAt(record, COMPLETED_AT + 5000)).toBe(COMPLETED_AT + PRODUCTS_WAIT_MS);
    expect(markDue(record, COMPLETED_AT + 5000, COALESCE_MS).dueAt).toBe(COMPLETED_AT + PRODUCTS_WAIT_MS);
    // Not before the page exists, not once everything is done, not after the wait.
    expect(productsDueAt({ ...record, pageId: null }, COMPLETED_AT + 5000)).toBeNull();
    expect(productsDueAt({ ...record, state: finishedCall() }, COMPLETED_AT + 5000)).toBeNull();
    expect(productsDueAt(record, COMPLETED_AT + PRODUCTS_WAIT_MS)).toBeNull();
  });

  it("looks at a voicemail being processed again shortly", () => {
    const record = { ...newRecord("AC1", "call", finishedCall({ voicemail: { url: null, type: null, duration: null, transcript: null, processing: true } }), COMPLETED_AT), pageId: "page-1" };
    expect(productsDueAt(record, COMPLETED_AT + 5000)).toBe(COMPLETED_AT + 5000 + 15_000);
  });

  it("lets an event that arrived during the create wait with the products the create found in progress", () => {
    // The call's page is being created; the flush learns from OpenPhone that the transcript and summary are in progress.
    const before = markDue(newRecord("AC1", "call", finishedCall(), COMPLETED_AT), COMPLETED_AT, COALESCE_MS);
    const { store, current, arrive } = storeHolding(before);
    // Meanwhile the recording's webhook arrives: the record stays due as it was (the flush has not ended).
    const withRecording = mergeCall(before.state as CallState, { recordings: [{ id: "CR1", url: "https://example.test/r.mp3", type: "audio/mpeg", duration: 95 }] }, { id: "EV2", at: COMPLETED_AT + 5000 });
    arrive(markDue({ ...before, state: withRecording, version: before.version + 1 }, COMPLETED_AT + 5000, COALESCE_MS));
    expect(current().dueAt).toBe(COMPLETED_AT + COALESCE_MS);

    const enriched = mergeCall(before.state as CallState, inProgress, { id: "fetch:getCallTranscript", at: COMPLETED_AT + 2000 });
    settleFlush(store, before, { ...created(before, enriched), enrichments: [{ patch: inProgress, source: { id: "fetch:getCallTranscript", at: COMPLETED_AT + 2000 } }] }, settleContext, emptyReport());
    // One update at the end carries the recording with the transcript and summary.
    expect(current()).toMatchObject({ pageId: "page-1", dirty: true, dueAt: COMPLETED_AT + PRODUCTS_WAIT_MS });
  });

  it("keeps the early due time of an event that arrived during the flush when nothing is awaited", () => {
    const before = markDue(newRecord("AC1", "call", finishedCall(), COMPLETED_AT), COMPLETED_AT, COALESCE_MS);
    const { store, current, arrive } = storeHolding(before);
    const withSummary = mergeCall(before.state as CallState, { summary: { status: "completed", summary: ["Booked"], nextSteps: [] } }, { id: "EV3", at: COMPLETED_AT + 3000 });
    arrive(markDue({ ...before, state: withSummary, version: before.version + 1 }, COMPLETED_AT + 3000, COALESCE_MS));
    settleFlush(store, before, created(before, before.state as CallState), settleContext, emptyReport());
    expect(current()).toMatchObject({ pageId: "page-1", dirty: true, dueAt: COMPLETED_AT + COALESCE_MS });
  });
});
