import { describe, expect, it } from "vitest";
import { emptyCall, emptyMessage, mergeCall, mergeMessage } from "../../src/line/state";
import type { NormalisedEvent } from "../../src/webhooks/internal-event";
import { normaliseWebhook, systemOf } from "../../src/webhooks/normalise";

const callContext = {
  orgId: "OR1",
  phoneNumberId: "PN1",
  conversationId: "CN1",
  phoneNumberType: "shared",
  userId: "US1",
  contacts: { ids: [], lookupStatus: "none" },
  participants: { workspace: ["+15555550100"], external: ["+15555550199"], resolution: "available" },
};
const messageContext = {
  orgId: "OR1",
  phoneNumberId: "PN1",
  conversationId: "CN1",
  userId: "US1",
  contacts: { ids: ["CT1"], lookupStatus: "matched" },
  senderIdentifier: "+15555550100",
  recipientIdentifiers: ["+15555550101"],
};
const quo = (type: string, resource: Record<string, unknown>, context: Record<string, unknown> = callContext, id: string | null = `EVq-${type}`) => ({
  ...(id === null ? {} : { id }),
  apiVersion: "2026-03-30",
  createdAt: "2026-04-13T12:00:55.000Z",
  type,
  data: { resource, context, links: { quo: null } },
});
const legacy = (type: string, object: Record<string, unknown>, id = `EVv-${type}`) => ({ id, object: "event", apiVersion: "v4", createdAt: "2026-04-13T12:00:56.000Z", type, data: { object } });

function eventOf(envelope: unknown, fallbackId?: string): NormalisedEvent {
  const reading = normaliseWebhook(envelope, { fallbackId, receivedAt: 0 });
  if (reading.outcome !== "event") throw new Error(`expected an event, got ${JSON.stringify(reading)}`);
  return reading.event;
}

const completedQuo = quo("call.completed", {
  id: "AC02",
  direction: "incoming",
  status: "unanswered",
  createdAt: "2026-04-13T12:00:00.000Z",
  answeredAt: null,
  completedAt: "2026-04-13T12:00:55.000Z",
  updatedAt: "2026-04-13T12:00:55.000Z",
  duration: 0,
  hasVoicemail: true,
});
const completedLegacy = legacy("call.completed", {
  id: "AC02",
  object: "call",
  direction: "incoming",
  status: "missed",
  phoneNumberId: "PN1",
  participants: ["+15555550199", "+15555550100"],
  userId: "US1",
  createdAt: "2026-04-13T12:00:00.000Z",
  answeredAt: null,
  completedAt: "2026-04-13T12:00:55.000Z",
  duration: 0,
});

describe("normaliseWebhook: which system", () => {
  it("tells the systems apart by version and by where the payload sits", () => {
    expect(systemOf(completedQuo)).toEqual({ system: "quo" });
    expect(systemOf(completedLegacy)).toEqual({ system: "v1" });
    expect(systemOf({ type: "call.completed", data: { resource: { id: "AC1" } } })).toEqual({ system: "quo" });
    expect(systemOf({ type: "call.completed", data: { object: { id: "AC1" } } })).toEqual({ system: "v1" });
  });

  it("accepts the call.summary and call.transcript aliases, on both sides, since both read through here", () => {
    expect(normaliseWebhook(legacy("call.summary", { callId: "AC7", status: "completed", summary: ["x"], nextSteps: [] }))).toMatchObject({ outcome: "event", event: { type: "call.summary.completed", resourceId: "AC7" } });
    expect(normaliseWebhook(legacy("call.transcript", { callId: "AC7", status: "completed", dialogue: [] }))).toMatchObject({ outcome: "event", event: { type: "call.transcript.completed" } });
  });

  it("reads the backfill's synthetic events as legacy ones", () => {
    expect(systemOf({ ...completedLegacy, apiVersion: "v1-backfill", source: "backfill" })).toEqual({ system: "v1" });
    expect(normaliseWebhook({ ...completedLegacy, apiVersion: "v1-backfill", source: "backfill" })).toMatchObject({ outcome: "event", event: { resourceId: "AC02" } });
  });

  it("reports an apiVersion it does not read instead of guessing", () => {
    const reading = normaliseWebhook({ ...completedQuo, apiVersion: "2027-01-01" });
    expect(reading).toMatchObject({ outcome: "unknown_version", apiVersion: "2027-01-01", eventType: "call.completed" });
    expect(normaliseWebhook({ ...completedLegacy, apiVersion: 4 })).toMatchObject({ outcome: "unknown_version" });
  });
});

describe("normaliseWebhook: the 2026-03-30 envelope", () => {
  it("reads a call from its resource and its line, user and caller from the context", () => {
    const event = eventOf(completedQuo);
    expect(event).toMatchObject({ kind: "call", system: "quo", type: "call.completed", resourceId: "AC02", eventId: "EVq-call.completed" });
    expect(event.patch).toMatchObject({ lineId: "PN1", userId: "US1", participants: ["+15555550199", "+15555550100"], status: "missed", direction: "incoming", duration: 0, completedAt: "2026-04-13T12:00:55.000Z" });
  });

  it("maps the new call statuses onto the words of v1 calls", () => {
    const statusOf = (status: string) => (eventOf(quo("call.completed", { id: "AC1", status })).patch as { status?: string }).status;
    expect(statusOf("answered")).toBe("completed");
    expect(statusOf("unanswered")).toBe("missed");
    expect(statusOf("abandoned")).toBe("canceled");
    expect(statusOf("forwarded")).toBe("forwarded");
    expect(statusOf("unknown")).toBeUndefined();
  });

  it("reads call.missed as a finished missed call and message.failed as a failed text, at once", () => {
    const missed = eventOf(quo("call.missed", { id: "AC02", createdAt: "2026-04-13T12:00:00.000Z", updatedAt: "2026-04-13T12:00:55.000Z" }));
    expect(missed.patch).toMatchObject({ status: "missed", direction: "incoming", lineId: "PN1", participants: ["+15555550199", "+15555550100"] });
    const failed = eventOf(
      quo("message.failed", { id: "AC01", direction: "outgoing", text: "Your order shipped", status: "failed", errorCode: "30007", createdAt: "2026-04-13T11:59:58.000Z" }, messageContext),
    );
    expect(failed).toMatchObject({ kind: "message", resourceId: "AC01", type: "message.failed" });
    expect(failed.patch).toMatchObject({ status: "undelivered", from: "+15555550100", to: ["+15555550101"], text: "Your order shipped", lineId: "PN1", userId: "US1" });
  });

  it("attaches call.voicemail.completed to its call, with the recording and the transcript", () => {
    const event = eventOf(
      quo("call.voicemail.completed", { id: "AC04", voicemailId: "VM1", callId: "AC02", direction: "incoming", duration: 12, from: "+15555550199", to: "+15555550100", transcript: "Please call back.", recordingUrl: "https://m.example/vm.mp3" }),
    );
    expect(event.resourceId).toBe("AC02");
    expect(event.patch).toMatchObject({ voicemail: { id: "VM1", url: "https://m.example/vm.mp3", duration: 12, transcript: "Please call back." } });
  });

  it("reads summaries and transcripts by callId and processingStatus", () => {
    const summary = eventOf(quo("call.summary.completed", { callId: "AC03", processingStatus: "completed", summary: ["Discussed pricing."], nextSteps: ["Send quote."], jobs: [] }));
    expect(summary.patch).toMatchObject({ summary: { status: "completed", summary: ["Discussed pricing."], nextSteps: ["Send quote."] }, lineId: "PN1" });
    const transcript = eventOf(quo("call.transcript.completed", { callId: "AC03", processingStatus: "completed", dialogue: [{ userId: null, identifier: "+15555550199", content: "Hi", start: 0.4, end: 1.1 }] }));
    expect(transcript.patch).toMatchObject({ transcript: { status: "completed", dialogue: [{ content: "Hi", start: 0.4, end: 1.1, identifier: "+15555550199", userId: null }] } });
  });

  it("reads recordings, and a message's media and people", () => {
    const recording = eventOf(quo("call.recording.completed", { id: "AC03", duration: 95, recordings: [{ id: "RE1", duration: 95, type: "audio/mpeg", url: "https://m.example/x.mp3" }] }));
    expect(recording.patch).toMatchObject({ recordingAnnounced: true, recordings: [{ id: "RE1", url: "https://m.example/x.mp3", type: "audio/mpeg", duration: 95 }] });
    const received = eventOf(quo("message.received", { id: "AC05", direction: "incoming", text: "hi", media: [{ type: "image/jpeg", url: "https://m.example/a.jpg" }], status: "received" }, messageContext));
    expect(received.patch).toMatchObject({ media: [{ url: "https://m.example/a.jpg", type: "image/jpeg" }], from: "+15555550100" });
  });

  it("leaves people unknown, not empty, when Quo could not resolve them", () => {
    const event = eventOf(quo("call.completed", { id: "AC1", status: "answered" }, { ...callContext, participants: { workspace: [], external: [], resolution: "unavailable" } }));
    expect((event.patch as { participants?: unknown }).participants).toBeUndefined();
  });

  it("dead-letters a known type whose resource lacks its id, with the reason", () => {
    expect(normaliseWebhook(quo("call.completed", { status: "answered" }))).toMatchObject({ outcome: "invalid", reason: expect.stringContaining("data.resource.id") });
    expect(normaliseWebhook(quo("call.voicemail.completed", { id: "AC04", callId: null }))).toMatchObject({ outcome: "invalid", reason: expect.stringContaining("data.resource.callId") });
    expect(normaliseWebhook(quo("message.failed", {}, messageContext))).toMatchObject({ outcome: "invalid" });
  });

  it("hands contact events over with their resource, and ignores types it does not sync", () => {
    expect(normaliseWebhook(quo("contact.updated", { id: "66d0", firstName: "Ana" }, { orgId: "OR1" }))).toMatchObject({ outcome: "contact", system: "quo", resource: { id: "66d0", firstName: "Ana" } });
    expect(normaliseWebhook(quo("task.created", { id: "TK1" }))).toMatchObject({ outcome: "ignored", eventType: "task.created" });
  });
});

describe("normaliseWebhook: one event model", () => {
  it("gives the same business event the same dedupe key through both systems, and different events different keys", () => {
    const viaQuo = eventOf(completedQuo);
    const viaLegacy = eventOf(completedLegacy);
    expect(viaQuo.eventId).not.toBe(viaLegacy.eventId);
    expect(viaQuo.dedupeKey).toBe(viaLegacy.dedupeKey);
    const summaryQuo = eventOf(quo("call.summary.completed", { callId: "AC02", processingStatus: "completed", summary: ["x"], nextSteps: [] }));
    const summaryLegacy = eventOf(legacy("call.summary.completed", { callId: "AC02", object: "callSummary", status: "completed", summary: ["x"], nextSteps: [] }));
    expect(summaryQuo.dedupeKey).toBe(summaryLegacy.dedupeKey);
    expect(summaryQuo.dedupeKey).not.toBe(viaQuo.dedupeKey);
    const inProgress = eventOf(quo("call.transcript.completed", { callId: "AC02", processingStatus: "in-progress", dialogue: null }));
    const done = eventOf(quo("call.transcript.completed", { callId: "AC02", processingStatus: "completed", dialogue: [] }));
    expect(inProgress.dedupeKey).not.toBe(done.dedupeKey);
    const sent = eventOf(legacy("message.delivered", { id: "AC9", object: "message", status: "sent", phoneNumberId: "PN1" }, "EV9a"));
    const delivered = eventOf(legacy("message.delivered", { id: "AC9", object: "message", status: "delivered", phoneNumberId: "PN1" }, "EV9b"));
    const deliveredQuo = eventOf(quo("message.delivered", { id: "AC9", direction: "outgoing", text: "x", status: "delivered" }, messageContext));
    expect(sent.dedupeKey).not.toBe(delivered.dedupeKey);
    expect(delivered.dedupeKey).toBe(deliveredQuo.dedupeKey);
  });

  it("merges either copy into the same call state", () => {
    const merged = (first: NormalisedEvent, second: NormalisedEvent) => {
      let state = emptyCall("AC02");
      for (const e of [first, second]) if (e.kind === "call") state = mergeCall(state, e.patch, { id: e.eventId, at: e.occurredAt });
      return { status: state.status, lineId: state.lineId, participants: state.participants, completedAt: state.completedAt, direction: state.direction };
    };
    const q = eventOf(completedQuo);
    const v = eventOf(completedLegacy);
    expect(merged(q, q)).toEqual(merged(v, v));
    const text = eventOf(quo("message.received", { id: "AC05", direction: "incoming", text: "hi", status: "received", createdAt: "2026-04-13T11:59:58.000Z" }, { ...messageContext, senderIdentifier: "+15555550101", recipientIdentifiers: ["+15555550100"] }));
    const textLegacy = eventOf(legacy("message.received", { id: "AC05", object: "message", direction: "incoming", text: "hi", status: "received", from: "+15555550101", to: ["+15555550100"], phoneNumberId: "PN1", userId: "US1", createdAt: "2026-04-13T11:59:58.000Z" }));
    const state = (e: NormalisedEvent) => (e.kind === "message" ? mergeMessage(emptyMessage("AC05"), e.patch, { id: "x", at: 0 }) : undefined);
    const { stamps: _a, ...a } = state(text)!;
    const { stamps: _b, ...b } = state(textLegacy)!;
    expect(a).toEqual(b);
  });

  it("keys an id-less envelope by the id the intake derived, in either system", () => {
    expect(eventOf(quo("call.completed", { id: "AC1", status: "answered" }, callContext, null), "sha256:abc").eventId).toBe("sha256:abc");
    const { id: _id, ...idless } = completedLegacy;
    expect(eventOf(idless, "sha256:def").eventId).toBe("sha256:def");
    expect(normaliseWebhook(idless)).toMatchObject({ outcome: "invalid" });
  });
});
