import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  advanceWork,
  applyConversationsPage,
  CONVERSATIONS_IN_HAND,
  conversationsQuery,
  externalParticipants,
  finalWatermark,
  holdWatermark,
  lineWindowStart,
  listingRequest,
  newLineCursor,
  nextKind,
  PAGE_SIZE,
  parseLineCursor,
  replaceWork,
  startLine,
  sweepWindowStart,
  type LineCursor,
  type ListingRequest,
} from "../../src/backfill/plan";

const DAY = 86_400_000;
const NOW = Date.parse("2026-04-01T00:00:00Z");

describe("the window of a line", () => {
  it("starts at the run's since, else the watermark, else the lookback", () => {
    expect(lineWindowStart({ since: NOW - 5 * DAY, watermark: NOW - DAY, lookbackDays: 90, now: NOW })).toBe(NOW - 5 * DAY);
    expect(lineWindowStart({ since: null, watermark: NOW - DAY, lookbackDays: 90, now: NOW })).toBe(NOW - DAY);
    expect(lineWindowStart({ since: undefined, watermark: null, lookbackDays: 90, now: NOW })).toBe(NOW - 90 * DAY);
  });

  it("starts a sweep just before the later watermark, else one hour back, never at the lookback", () => {
    const MIN = 60_000;
    expect(sweepWindowStart({ backfillWatermark: NOW - DAY, sweepWatermark: NOW - 5 * MIN, now: NOW })).toBe(NOW - 7 * MIN);
    expect(sweepWindowStart({ backfillWatermark: NOW - 3 * MIN, sweepWatermark: NOW - 5 * MIN, now: NOW })).toBe(NOW - 5 * MIN);
    expect(sweepWindowStart({ backfillWatermark: null, sweepWatermark: null, now: NOW })).toBe(NOW - 60 * MIN);
    // A watermark ahead of the clock (another isolate's clock) never starts the window in the future.
    expect(sweepWindowStart({ backfillWatermark: NOW + 10 * MIN, sweepWatermark: null, now: NOW })).toBe(NOW - 2 * MIN);
  });

  it("fixes the window and the watermark target when the line step runs", () => {
    const cursor = startLine(newLineCursor(), NOW - 90 * DAY, NOW, "+15550000001");
    expect(cursor).toMatchObject({ kind: "conversations", createdAfter: "2026-01-01T00:00:00.000Z", until: NOW, lineNumber: "+15550000001", work: [] });
  });
});

describe("requests the API accepts", () => {
  const started = startLine(newLineCursor(), NOW - DAY, NOW, "+15550000001");

  it("lists the line's conversations updated in the window, 100 a page, with the page token", () => {
    expect(conversationsQuery("PNa", started)).toEqual({ phoneNumbers: ["PNa"], updatedAfter: started.createdAfter, maxResults: PAGE_SIZE });
    expect(conversationsQuery("PNa", { ...started, conversationsPageToken: "t2" }).pageToken).toBe("t2");
  });

  it("lists calls with exactly one participant, then messages with all of them", () => {
    const work = { participants: ["+15551110001", "+15551110002"], callsIndex: 0 };
    const calls = listingRequest("PNa", "2026-01-01T00:00:00.000Z", work);
    expect(calls).toEqual({
      operation: "listCalls_v1",
      query: { phoneNumberId: "PNa", participants: ["+15551110001"], createdAfter: "2026-01-01T00:00:00.000Z", maxResults: 100 },
    });
    const second = advanceWork(work, null)!;
    expect(listingRequest("PNa", "x", second).query.participants).toEqual(["+15551110002"]);
    const messages = advanceWork(second, null)!;
    expect(listingRequest("PNa", "x", { ...messages, pageToken: "m2" })).toEqual({
      operation: "listMessages_v1",
      query: { phoneNumberId: "PNa", participants: ["+15551110001", "+15551110002"], createdAfter: "x", maxResults: 100, pageToken: "m2" },
    });
    expect(advanceWork(messages, null)).toBeNull();
  });

  it("follows page tokens to the end before moving on", () => {
    const work = { participants: ["+15551110001"], callsIndex: 0 };
    expect(advanceWork(work, "p2")).toEqual({ participants: ["+15551110001"], callsIndex: 0, pageToken: "p2" });
    expect(advanceWork({ ...work, pageToken: "p2" }, null)).toEqual({ participants: ["+15551110001"], callsIndex: 1 });
  });

  it("leaves the line's own number and duplicates out of the participants", () => {
    expect(externalParticipants({ participants: ["+15550000001", "+15551110001", "+15551110001"] }, "+15550000001")).toEqual(["+15551110001"]);
  });
});

describe("the cursor", () => {
  it("lists more conversations only when few are left in hand, and ends when both are exhausted", () => {
    let cursor = startLine(newLineCursor(), NOW - DAY, NOW);
    const page = (n: number, next: string | null) => ({ data: Array.from({ length: n }, (_, i) => ({ participants: [`+1555200${String(i).padStart(4, "0")}`] })), nextPageToken: next });
    const first = applyConversationsPage(cursor, page(CONVERSATIONS_IN_HAND, "c2"));
    expect(first.planned).toBe(CONVERSATIONS_IN_HAND);
    cursor = first.cursor;
    expect(cursor.kind).toBe("calls");
    cursor = replaceWork(cursor, 1, [null]);
    expect(nextKind(cursor)).toBe("conversations");
    cursor = applyConversationsPage(cursor, { data: [{ participants: [] }], nextPageToken: null }).cursor;
    expect(cursor.conversationsPageToken).toBeNull();
    expect(cursor.work).toHaveLength(CONVERSATIONS_IN_HAND - 1);
    cursor = replaceWork(cursor, cursor.work.length, cursor.work.map(() => null));
    expect(cursor.kind).toBe("done");
  });

  it("keeps the watermark before a call that had not ended", () => {
    let cursor = startLine(newLineCursor(), NOW - DAY, NOW);
    expect(finalWatermark(cursor)).toBe(NOW);
    cursor = holdWatermark(cursor, new Date(NOW - 3600_000).toISOString());
    cursor = holdWatermark(cursor, new Date(NOW - 60_000).toISOString());
    expect(finalWatermark(cursor)).toBe(NOW - 3600_000 - 1);
  });

  it("reads back what it wrote and refuses what is not a cursor", () => {
    const cursor = applyConversationsPage(startLine(newLineCursor(), NOW - DAY, NOW), { data: [{ participants: ["+15551110001"] }], nextPageToken: "n" }).cursor;
    expect(parseLineCursor(JSON.parse(JSON.stringify(cursor)))).toEqual(cursor);
    expect(parseLineCursor({})).toBeNull();
    expect(parseLineCursor({ step: 1, kind: "calls", work: [{ participants: [5], callsIndex: 0 }] })).toBeNull();
  });
});

/** A line of a fake workspace: conversations and the ids of the calls and texts behind each participant. */
interface FakeLine {
  conversations: string[][];
  calls: Map<string, string[]>;
  messages: Map<string, string[]>;
}

function paged<T>(items: T[], token: string | undefined, size: number): { data: T[]; nextPageToken: string | null } {
  const offset = token ? Number(token) : 0;
  const end = offset + size;
  return { data: items.slice(offset, end), nextPageToken: end < items.length ? String(end) : null };
}

const fakeLine = fc
  .array(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }), { maxLength: 30 })
  .chain((conversations) => {
    const numbers = [...new Set(conversations.flat())].map((n) => `+1555300${String(n).padStart(4, "0")}`);
    return fc.record({
      conversations: fc.constant(conversations.map((c) => [...new Set(c)].map((n) => `+1555300${String(n).padStart(4, "0")}`))),
      callCounts: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: numbers.length, maxLength: numbers.length }),
      messageCounts: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: conversations.length, maxLength: conversations.length }),
    }).map(({ conversations: convs, callCounts, messageCounts }): FakeLine => ({
      conversations: convs,
      calls: new Map(numbers.map((n, i) => [n, Array.from({ length: callCounts[i]! }, (_, k) => `AC-call-${n}-${k}`)])),
      messages: new Map(convs.map((c, i) => [c.join(","), Array.from({ length: messageCounts[i]! }, (_, k) => `AC-msg-${c.join(",")}-${k}`)])),
    }));
  });

describe("walking a whole line", () => {
  it("lists every call and text of every conversation, whatever the page sizes and wherever a step stops", () => {
    fc.assert(
      fc.property(fakeLine, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), (line, pageSize, perStep) => {
        const seen = new Set<string>();
        const requests: ListingRequest[] = [];
        let cursor: LineCursor = startLine(newLineCursor(), NOW - DAY, NOW);
        let guard = 0;
        while (cursor.kind !== "done") {
          if (++guard > 10_000) throw new Error("the walk does not end");
          // A step ends after `perStep` listings; the cursor crosses a queue message (JSON) between steps.
          cursor = parseLineCursor(JSON.parse(JSON.stringify(cursor)))!;
          for (let n = 0; n < perStep && cursor.kind !== "done"; n++) {
            if (cursor.kind === "conversations") {
              const convPage = paged(line.conversations.map((participants) => ({ participants })), cursor.conversationsPageToken ?? undefined, pageSize);
              cursor = applyConversationsPage(cursor, convPage).cursor;
              continue;
            }
            const work = cursor.work[0]!;
            const request = listingRequest("PNa", cursor.createdAfter!, work);
            requests.push(request);
            const all = request.operation === "listCalls_v1" ? line.calls.get(request.query.participants[0]!)! : line.messages.get(request.query.participants.join(","))!;
            const page = paged(all, request.query.pageToken, pageSize);
            for (const id of page.data) seen.add(id);
            cursor = replaceWork(cursor, 1, [advanceWork(work, page.nextPageToken)]);
          }
        }
        const expected = new Set([...line.calls.values(), ...line.messages.values()].flat());
        expect(seen).toEqual(expected);
        for (const r of requests) {
          expect(r.query.maxResults).toBeLessThanOrEqual(100);
          if (r.operation === "listCalls_v1") expect(r.query.participants).toHaveLength(1);
          else expect(r.query.participants.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 150 },
    );
  });
});
