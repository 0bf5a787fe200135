import { describe, expect, it } from "vitest";
import { lineKeyFor } from "../../src/queue/routing";
import { factsOf } from "../../src/webhooks/envelope";
import { envelopeIdOf, normaliseWebhook } from "../../src/webhooks/normalise";

/** The intake's reading of an envelope: its id and the routing facts. */
function readWebhookEvent(envelope: unknown) {
  const reading = normaliseWebhook(envelope, { fallbackId: envelopeIdOf(envelope) ?? "sha256:derived" });
  return { eventId: envelopeIdOf(envelope), ...factsOf(reading), badDates: reading.outcome === "event" ? reading.badDates : [] };
}

describe("readWebhookEvent", () => {
  it("reads a call event's id, type, call and line", () => {
    const facts = readWebhookEvent({ id: "EV1", type: "call.completed", data: { object: { id: "AC1", object: "call", phoneNumberId: "PN1" } } });
    expect(facts).toEqual({ eventId: "EV1", eventType: "call.completed", category: "call", resourceId: "AC1", phoneNumberId: "PN1", badDates: [] });
  });

  it("resolves the callSummary and callTranscript type names and takes the call from callId", () => {
    expect(readWebhookEvent({ id: "EV2", type: "callSummary", data: { object: { callId: "AC2", object: "callSummary" } } })).toMatchObject({
      eventType: "call.summary.completed",
      category: "call",
      resourceId: "AC2",
      phoneNumberId: undefined,
    });
    expect(readWebhookEvent({ id: "EV3", type: "callTranscript", data: { object: { callId: "AC3" } } })).toMatchObject({
      eventType: "call.transcript.completed",
      resourceId: "AC3",
    });
  });

  it("infers a summary from its object when the type is missing", () => {
    expect(readWebhookEvent({ id: "EV4", data: { object: { callId: "AC4", object: "callSummary" } } })).toMatchObject({
      eventType: "call.summary.completed",
      resourceId: "AC4",
    });
  });

  it("reads messages, including the 2026-03-30 shape whose line is in data.context", () => {
    expect(readWebhookEvent({ id: "EV5", type: "message.received", data: { object: { id: "AC5", to: "+15555550101", phoneNumberId: "PN5" } } })).toMatchObject({
      category: "message",
      resourceId: "AC5",
      phoneNumberId: "PN5",
    });
    expect(readWebhookEvent({ id: "EV6", type: "message.delivered", apiVersion: "2026-03-30", data: { resource: { id: "AC6" }, context: { phoneNumberId: "PN6" } } })).toMatchObject({
      resourceId: "AC6",
      phoneNumberId: "PN6",
    });
  });

  it("tells unknown and contact events apart from the synced ones, and survives odd shapes", () => {
    expect(readWebhookEvent({ id: "EV7", type: "contact.updated", data: { object: { id: "CT7" } } })).toMatchObject({ category: "contact" });
    expect(readWebhookEvent({ id: "EV8", type: "call.teleported" })).toMatchObject({ category: "unknown", eventType: "call.teleported" });
    expect(readWebhookEvent({ type: 42, data: [1, 2] })).toEqual({ eventId: undefined, eventType: "", category: "unknown", badDates: [] });
    expect(readWebhookEvent({ id: "  ", type: "call.ringing", data: { object: { id: "AC9", phoneNumberId: "" } } })).toMatchObject({ eventId: undefined, phoneNumberId: undefined });
  });
});

describe("lineKeyFor", () => {
  const summary = readWebhookEvent({ id: "EV1", type: "call.summary.completed", data: { object: { callId: "AC1" } } });

  it("prefers the payload's line, then the known line of the call, then the call id", () => {
    expect(lineKeyFor({ ...summary, phoneNumberId: "PN1" }, "PNother")).toBe("PN1");
    expect(lineKeyFor(summary, "PNknown")).toBe("PNknown");
    expect(lineKeyFor(summary)).toBe("call:AC1");
  });

  it("gives every event of one call without a line the same key, and none to an event with nothing to route by", () => {
    const transcript = readWebhookEvent({ id: "EV2", type: "callTranscript", data: { object: { callId: "AC1" } } });
    expect(lineKeyFor(transcript)).toBe(lineKeyFor(summary));
    expect(lineKeyFor(readWebhookEvent({ id: "EV3", type: "message.received", data: { object: { text: "?" } } }))).toBeUndefined();
  });
});
