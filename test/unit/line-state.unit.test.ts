import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CallPatch, type CallState, emptyCall, mergeCall } from "../../src/line/state";

interface Ev {
  patch: CallPatch;
  source: { id: string; at: number };
}

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(fc.constant(undefined), fc.constant(null), arb);
const patchArb: fc.Arbitrary<CallPatch> = fc.record(
  {
    status: fc.option(fc.constantFrom("ringing", "in-progress", "completed", "missed"), { nil: undefined }),
    duration: maybe(fc.integer({ min: 0, max: 3600 })),
    answeredAt: maybe(fc.constantFrom("2026-01-01T10:00:00Z", "2026-01-01T10:00:09Z")),
    participants: maybe(fc.constantFrom(["+12125550101"], ["+13055550100"])),
    summary: maybe(fc.record({ status: fc.constantFrom("in-progress", "completed"), summary: fc.array(fc.string(), { maxLength: 2 }), nextSteps: fc.constant([]) })),
    recordingAnnounced: fc.option(fc.constant(true), { nil: undefined }),
  },
  { requiredKeys: [] },
);
const eventArb: fc.Arbitrary<Ev> = fc.record({ patch: patchArb, source: fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), at: fc.integer({ min: 0, max: 1e6 }) }) });
const fold = (events: Ev[]): CallState => events.reduce((s, e) => mergeCall(s, e.patch, e.source), emptyCall("AC1"));
const withoutStamps = (s: CallState) => ({ ...s, stamps: undefined });

describe("mergeCall", () => {
  it("gives the same final state whatever the order", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 8 }).chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }))), ([events, shuffled]) => {
        expect(fold(shuffled)).toEqual(fold(events));
      }),
    );
  });

  it("is idempotent under duplicates", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 8 }), (events) => {
        expect(fold([...events, ...events])).toEqual(fold(events));
        const once = fold(events);
        for (const e of events) expect(mergeCall(once, e.patch, e.source)).toEqual(once);
      }),
    );
  });

  it("never replaces a value with an empty one", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 8 }), eventArb, (events, last) => {
        const before = fold(events);
        const after = mergeCall(before, last.patch, last.source);
        for (const [key, value] of Object.entries(withoutStamps(before))) {
          if (value !== undefined && value !== null) expect((after as unknown as Record<string, unknown>)[key]).not.toBeNull();
          if (value !== undefined) expect((after as unknown as Record<string, unknown>)[key]).not.toBeUndefined();
        }
      }),
    );
  });

  it("keeps absent apart from unknown, and lets a value fill an absent field", () => {
    let state = mergeCall(emptyCall("AC1"), { answeredAt: null }, { id: "EV1", at: 1 });
    expect(state.answeredAt).toBeNull();
    expect(state.recordings).toBeUndefined();
    state = mergeCall(state, { answeredAt: "2026-01-01T10:00:00Z" }, { id: "EV0", at: 0 });
    expect(state.answeredAt).toBe("2026-01-01T10:00:00Z");
  });

  it("lets a completed call win over a ringing one that arrives later", () => {
    const completed = { patch: { status: "completed", duration: 120 }, source: { id: "EV2", at: 1000 } };
    const ringing = { patch: { status: "ringing", duration: 0 }, source: { id: "EV1", at: 5000 } };
    expect(fold([completed, ringing])).toMatchObject({ status: "completed", duration: 120 });
  });
});
