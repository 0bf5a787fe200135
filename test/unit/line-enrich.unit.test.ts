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

describe("a voicemail's transcript", () => {
  const missed = (): CallState =>
    mergeCall(emptyCall("AC2"), { lineId: "PN1", direction: "incoming", status: "no-answer", answeredAt: null, completedAt: "2026-03-02T10:01:00.000Z", duration: 0 }, { id: "EV1", at: 1 });
  const fromWebhook = { url: "https://op.example/vm.mp3", type: "audio/mpeg", duration: 21, transcript: null };

  it("is asked of OpenPhone's API when the webhook brought the voicemail without it, and kept once it came", () => {
    const state = mergeCall(missed(), { voicemail: fromWebhook }, { id: "EV2", at: 2 });
    expect(callNeeds(state).voicemail).toBe(true);
    const answered = mergeCall(state, { voicemail: { ...fromWebhook, id: "VM1", transcript: "Please call me back." }, voicemailTranscriptPending: false, checked: { voicemail: 3 } }, { id: "fetch:getCallVoicemails", at: 3 });
    expect(answered.voicemail?.transcript).toBe("Please call me back.");
    expect(callNeeds(answered).voicemail).toBe(false);
    // A late duplicate of the webhook, without the transcript, does not take it away.
    expect(mergeCall(answered, { voicemail: fromWebhook }, { id: "EV3", at: 9 }).voicemail?.transcript).toBe("Please call me back.");
  });

  it("is awaited while OpenPhone says the voicemail is in progress, and not once it said it is done without one", async () => {
    const { awaitsProducts } = await import("../../src/line/state");
    const state = mergeCall(missed(), { voicemail: fromWebhook }, { id: "EV2", at: 2 });
    const inProgress = mergeCall(state, { voicemail: { id: "VM1", url: null, type: null, duration: null, transcript: null, processing: true }, voicemailTranscriptPending: true, checked: { voicemail: 3 } }, { id: "fetch:getCallVoicemails", at: 3 });
    expect(inProgress.voicemail?.url).toBe(fromWebhook.url);
    expect(awaitsProducts(inProgress)).toBe(true);
    expect(callNeeds(inProgress).voicemail).toBe(true);
    const done = mergeCall(inProgress, { voicemail: { ...fromWebhook, id: "VM1" }, voicemailTranscriptPending: false, checked: { voicemail: 4 } }, { id: "fetch:getCallVoicemails", at: 4 });
    expect(awaitsProducts(done)).toBe(false);
    expect(callNeeds(done).voicemail).toBe(false);
  });
});

describe("what a call needs from OpenPhone, by how it went", () => {
  const call = (patch: Parameters<typeof mergeCall>[1]): CallState => mergeCall(emptyCall("AC3"), { lineId: "PN1", ...patch }, { id: "EV1", at: 1 });
  const none = { recordings: false, transcript: false, summary: false, voicemail: false };

  it("asks nothing while the call is ringing or in progress", () => {
    expect(callNeeds(call({ direction: "incoming", status: "ringing" }))).toEqual(none);
    expect(callNeeds(call({ direction: "incoming", status: "in-progress", answeredAt: "2026-03-02T10:00:04.000Z" }))).toEqual(none);
  });

  it("asks an answered call that lasted for its recordings, transcript and summary, not a voicemail", () => {
    expect(callNeeds(answered())).toEqual({ recordings: true, transcript: true, summary: true, voicemail: false });
  });

  it("asks an answered call of zero seconds for nothing", () => {
    expect(callNeeds(call({ direction: "outgoing", status: "completed", answeredAt: "2026-03-02T10:00:04.000Z", completedAt: "2026-03-02T10:00:04.000Z", duration: 0 }))).toEqual(none);
  });

  it("asks a missed incoming call for its voicemail only; a missed outgoing call for nothing", () => {
    const missed = { status: "no-answer", answeredAt: null, completedAt: "2026-03-02T10:01:00.000Z", duration: 0 } as const;
    expect(callNeeds(call({ direction: "incoming", ...missed }))).toEqual({ ...none, voicemail: true });
    expect(callNeeds(call({ direction: "outgoing", ...missed }))).toEqual(none);
  });

  it("does not ask for recordings once a segment has its id and URL, but asks for one known only by URL", () => {
    const withRecording = mergeCall(answered(), { recordings: [{ id: "CR1", url: "https://op.example/r1.mp3", type: "audio/mpeg", duration: 170 }] }, { id: "EV2", at: 2 });
    expect(callNeeds(withRecording).recordings).toBe(false);
    const urlOnly = mergeCall(answered(), { recordings: [{ id: null, url: "https://op.example/r1.mp3", type: "audio/mpeg", duration: 170 }] }, { id: "EV2", at: 2 });
    expect(callNeeds(urlOnly).recordings).toBe(true);
  });
});
