import { describe, expect, it } from "vitest";
import { callNeeds } from "../../src/line/enrich";
import { type CallState, emptyCall, mergeCall } from "../../src/line/state";

const answered = (): CallState =>
  mergeCall(emptyCall("AC1"), { lineId: "PN1", direction: "incoming", status: "completed", answeredAt: "2026-03-02T10:00:04.000Z", completedAt: "2026-03-02T10:03:00.000Z", duration: 176 }, { id: "EV1", at: 1 });

describe("what a flush asks OpenPhone for", () => {
  it("asks for recordings an event listed as empty: that is 'nothing yet', not OpenPhone saying none", () => {
    const state = mergeCall(answered(), { recordings: [] }, { id: "EV2", at: 2 });
    expect(state.recordings).toBeNull();
    expect(callNeeds(state).recordings).toBe(true);
  });

  it("does not ask again once OpenPhone's API said none, until a re-sync asks for everything", () => {
    const asked = mergeCall(answered(), { recordings: null, transcript: null, summary: null, checked: { recordings: 10, transcript: 10, summary: 10 } }, { id: "fetch:x", at: 10 });
    expect(callNeeds(asked)).toEqual({ recordings: false, transcript: false, summary: false, voicemail: false });
    const resync = mergeCall(asked, { askAgainAt: 20 }, { id: "resync", at: 20 });
    expect(callNeeds(resync)).toEqual({ recordings: true, transcript: true, summary: true, voicemail: false });
    // What was asked after the re-sync request is not asked a second time.
    const answeredAgain = mergeCall(resync, { checked: { recordings: 30, transcript: 30, summary: 30 } }, { id: "fetch:y", at: 30 });
    expect(callNeeds(answeredAgain)).toEqual({ recordings: false, transcript: false, summary: false, voicemail: false });
  });

  it("keeps the latest time each product was asked, whatever order the answers are merged in", () => {
    const a = mergeCall(mergeCall(answered(), { checked: { recordings: 30 } }, { id: "a", at: 30 }), { checked: { recordings: 10, summary: 5 } }, { id: "b", at: 10 });
    expect(a.checked).toEqual({ recordings: 30, summary: 5 });
  });
});
