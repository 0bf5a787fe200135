import { describe, expect, it } from "vitest";
import { emptyReport } from "../../src/db/sync-history";
import type { FlushProgress } from "../../src/line/flush";
import type { MediaItem } from "../../src/media/plan";
import type { WebhookMessage } from "../../src/queue/messages";
import { newRecord } from "../../src/line/schedule";
import { settleFlush } from "../../src/line/settle";
import { emptyCall } from "../../src/line/state";
import type { LineStorage, ResourceRecord } from "../../src/line/storage";

const NOW = Date.UTC(2026, 2, 2, 12, 0, 0);

const event: WebhookMessage = { type: "webhook", lineId: "PN1", eventId: "EV1", eventType: "call.completed", receivedAt: NOW - 5000, envelope: { id: "EV1" } };

const recording: MediaItem = { kind: "recording", key: "recordings/2026/03/02/AC1/CR1.mp3", sourceUrl: "https://storage.example.com/CR1.mp3", contentType: "audio/mpeg", resourceId: "AC1", mediaId: "CR1", durationSeconds: 30 };

/** What `settleFlush` reads and writes of the Line DO's storage, recorded. */
function fakeStore(record: ResourceRecord) {
  let current = record;
  const calls = { flushedAt: [] as number[], copies: [] as MediaItem[][] };
  const store = {
    get: () => current,
    put: (r: ResourceRecord) => void (current = r),
    markEventsFlushed: (_id: string, at: number) => void calls.flushedAt.push(at),
    requestMediaCopies: (items: MediaItem[]) => void calls.copies.push(items),
    eventMessages: () => [event],
  };
  return { store: store as unknown as LineStorage, current: () => current, calls };
}

function progress(extra: Partial<FlushProgress> = {}): FlushProgress {
  return { state: { ...emptyCall("AC1"), lineId: "PN1" }, enrichments: [], pageId: null, writtenProps: {}, bodySections: [], links: {}, claimSettled: true, claimUnknownAt: null, claimLookups: 0, duplicatePrevented: false, mediaCopies: [], ...extra };
}

const record = () => ({ ...newRecord("AC1", "call", { ...emptyCall("AC1"), lineId: "PN1" }, NOW - 5000), dirty: true, dueAt: NOW - 1000, version: 2 });
const context = { canvasPageId: "canvas-1", pendingSince: NOW - 5000, counter: { notion: 2, openphone: 1, rateLimited: 0 }, participantOf: () => "+12125550101", now: () => NOW };

describe("settleFlush", () => {
  it("after a create: keeps the page, clears the record, marks the events written and asks for the copies of the media the page links", () => {
    const { store, current, calls } = fakeStore(record());
    const report = emptyReport();
    settleFlush(store, record(), { ...progress({ pageId: "page-1", links: { [recording.key]: "https://sync.example.com/media/x" }, mediaCopies: [recording] }), outcome: "created" }, context, report);
    expect(current()).toMatchObject({ pageId: "page-1", dirty: false, dueAt: null, attempts: 0, canvasPageId: "canvas-1", claim: null, links: { [recording.key]: "https://sync.example.com/media/x" } });
    expect(calls).toEqual({ flushedAt: [NOW], copies: [[recording]] });
    expect(report.history).toEqual([expect.objectContaining({ resourceId: "AC1", outcome: "created", pageId: "page-1", latencyMs: 5000, notionRequests: 2, openphoneRequests: 1, error: null })]);
    expect(report.healthyDatabases).toEqual(["calls"]);
    expect(report.metrics).toMatchObject({ "sync.created": 1, "notion.requests": 2, "openphone.requests": 1 });
    expect(report.resources).toEqual([expect.objectContaining({ resourceId: "AC1", lineId: "PN1", participant: "+12125550101", pageId: "page-1", syncedAt: NOW })]);
  });

  it("leaves the record due when events arrived during the flush, and their events unwritten", () => {
    const { store, current, calls } = fakeStore({ ...record(), version: 3, dueAt: NOW + 2000 });
    settleFlush(store, record(), { ...progress({ pageId: "page-1" }), outcome: "updated" }, context, emptyReport());
    expect(current()).toMatchObject({ pageId: "page-1", dirty: true, dueAt: NOW + 2000 });
    expect(calls.flushedAt).toEqual([]);
  });

  it("after a permanent failure: parks the record and dead-letters each original event with Notion's message and the property", () => {
    const { store, current, calls } = fakeStore(record());
    const report = emptyReport();
    settleFlush(store, record(), { ...progress(), outcome: "failed", message: "Duration is not a property that exists.", property: "Duration" }, context, report);
    expect(current()).toMatchObject({ dirty: false, dueAt: null, failedAt: NOW, failedReason: "Duration is not a property that exists.", failedProperty: "Duration" });
    expect(report.deadLetters).toEqual([{ messageId: "EV1", queue: "sync-events", resourceId: "AC1", body: event, reason: "Duration is not a property that exists.", property: "Duration" }]);
    expect(report.schemaProblems).toEqual([{ database: "calls", property: "Duration", message: "Duration is not a property that exists." }]);
    expect(report.history).toEqual([expect.objectContaining({ outcome: "failed", error: "Duration is not a property that exists." })]);
    expect(calls).toEqual({ flushedAt: [], copies: [] });
  });

  it("after a retryable failure: counts the attempt and waits at least what Notion asked for", () => {
    const { store, current } = fakeStore(record());
    const report = emptyReport();
    settleFlush(store, record(), { ...progress(), outcome: "retry", delayMs: 30_000, message: "rate limited" }, context, report);
    expect(current()).toMatchObject({ dirty: true, attempts: 1, failedAt: null });
    expect(current().dueAt).toBeGreaterThanOrEqual(NOW + 30_000);
    expect(report.history).toEqual([expect.objectContaining({ outcome: "skipped", error: "will retry: rate limited" })]);
    expect(report.metrics["sync.retry"]).toBe(1);
  });

  it("keeps an unsettled create claim with the unknown attempt's end, so the next flush looks the page up first", () => {
    const { store, current } = fakeStore(record());
    settleFlush(store, record(), { ...progress({ claimSettled: false, claimUnknownAt: NOW - 100, claimLookups: 1 }), outcome: "retry", delayMs: 0, message: "Notion answered 502" }, context, emptyReport());
    expect(current()).toMatchObject({ claim: "creating", claimUnknownAt: NOW - 100, claimLookups: 1, pageId: null });
  });
});
