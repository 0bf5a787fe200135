import { describe, expect, it } from "vitest";
import { emptyMessage, mergeMessage } from "../../src/line/state";
import { mapMessageToProperties } from "../../src/notion/mapping";
import { resolvePropertyNames } from "../../src/notion/schema";
import { normaliseWebhook } from "../../src/webhooks/normalise";

/** The normaliser's reading in the shape these cases were written for: an event, ignored, or invalid. */
function parseEnvelope(envelope: unknown) {
  const reading = normaliseWebhook(envelope, { receivedAt: Date.now() });
  if (reading.outcome === "event") return { outcome: "event" as const, event: reading.event };
  if (reading.outcome === "contact" || reading.outcome === "ignored") return { outcome: "ignored" as const };
  return { outcome: "invalid" as const, reason: reading.reason };
}
const readWebhookEvent = (envelope: unknown) => {
  const reading = normaliseWebhook(envelope);
  return { badDates: reading.outcome === "event" ? reading.badDates : [] };
};

const call = {
  id: "AC1",
  object: "call",
  direction: "incoming",
  status: "completed",
  participants: ["+12125550101"],
  phoneNumberId: "PN1",
  userId: "US1",
  answeredAt: "2026-01-01T10:00:05Z",
  answeredBy: "US1",
  createdAt: "2026-01-01T10:00:00Z",
  completedAt: "2026-01-01T10:03:00Z",
  duration: 175,
};
const envelope = (type: string, object: Record<string, unknown>, id = "EV1") => ({ id, object: "event", apiVersion: "v4", createdAt: "2026-01-01T10:03:01Z", type, data: { object } });

describe("parseEnvelope", () => {
  it("reads a completed call", () => {
    const parsed = parseEnvelope(envelope("call.completed", call));
    expect(parsed.outcome).toBe("event");
    if (parsed.outcome !== "event" || parsed.event.kind !== "call") throw new Error("expected a call event");
    expect(parsed.event.resourceId).toBe("AC1");
    expect(parsed.event.patch).toMatchObject({ lineId: "PN1", status: "completed", duration: 175, participants: ["+12125550101"] });
  });

  it("accepts the docs' type names callSummary and callTranscript", () => {
    const summary = parseEnvelope(envelope("callSummary", { callId: "AC1", object: "callSummary", status: "completed", summary: ["Talked"], nextSteps: ["Call back"] }));
    expect(summary.outcome === "event" && summary.event.type).toBe("call.summary.completed");
    const transcript = parseEnvelope(envelope("callTranscript", { callId: "AC1", object: "callTranscript", status: "completed", dialogue: [{ content: "Hi", start: 1.5, end: 2, identifier: "+12125550101", userId: null }] }));
    expect(transcript.outcome === "event" && transcript.event.type).toBe("call.transcript.completed");
    if (transcript.outcome === "event" && transcript.event.kind === "call") expect(transcript.event.patch.transcript?.dialogue[0]?.content).toBe("Hi");
  });

  it("accepts `to` as a string and the `received` status", () => {
    const parsed = parseEnvelope(envelope("message.received", { id: "AC9", object: "message", from: "+12125550101", to: "+13055550100", direction: "incoming", text: "hello", status: "received", phoneNumberId: "PN1" }));
    if (parsed.outcome !== "event" || parsed.event.kind !== "message") throw new Error("expected a message event");
    expect(parsed.event.patch.to).toEqual(["+13055550100"]);
    expect(parsed.event.patch.status).toBe("received");
  });

  it("ignores unknown types and refuses payloads without an id, with the reason", () => {
    expect(parseEnvelope(envelope("contact.updated", { id: "CT1" })).outcome).toBe("ignored");
    const broken = parseEnvelope(envelope("call.completed", { ...call, id: undefined }));
    expect(broken).toMatchObject({ outcome: "invalid" });
    if (broken.outcome === "invalid") expect(broken.reason).toContain("data.object.id");
    expect(parseEnvelope({ type: "call.completed" }).outcome).toBe("invalid");
  });

  it("keeps absent apart from unknown", () => {
    const ringing = parseEnvelope(envelope("call.ringing", { ...call, status: "ringing", answeredAt: null, completedAt: null }));
    if (ringing.outcome !== "event" || ringing.event.kind !== "call") throw new Error("expected a call event");
    expect(ringing.event.patch.answeredAt).toBeNull();
    expect(ringing.event.patch.recordings).toBeUndefined();
  });

  describe("a date that is not a date", () => {
    const text = { id: "AC7", object: "message", from: "+12125550101", to: ["+13055550100"], direction: "incoming", text: "see you at 5", status: "received", phoneNumberId: "PN1" };

    it("writes the text without that date, its Sent property left empty, and the intake sees the bad field", () => {
      const raw = envelope("message.received", { ...text, createdAt: "yesterday-ish" });
      const parsed = parseEnvelope(raw);
      if (parsed.outcome !== "event" || parsed.event.kind !== "message") throw new Error("expected a message event");
      expect(parsed.event.patch.text).toBe("see you at 5");
      expect(parsed.event.patch.createdAt).toBeUndefined();
      const state = mergeMessage(emptyMessage("AC7"), parsed.event.patch, { id: parsed.event.eventId, at: parsed.event.occurredAt });
      const props = mapMessageToProperties(state, { names: resolvePropertyNames("messages", {}), userNames: {}, mediaLinks: [] });
      expect(props["Sent"]).toBeUndefined();
      expect(props["Text"]).toEqual({ rich_text: [{ type: "text", text: { content: "see you at 5" } }] });
      expect(readWebhookEvent(raw).badDates).toEqual(["data.object.createdAt"]);
    });

    it("leaves a call's bad dates unknown and keeps its good ones", () => {
      const raw = envelope("call.completed", { ...call, createdAt: 1767261600000, answeredAt: "2026-02-31T99:00:00Z", completedAt: "2026-01-01T10:03:00Z" });
      const parsed = parseEnvelope(raw);
      if (parsed.outcome !== "event" || parsed.event.kind !== "call") throw new Error("expected a call event");
      expect(parsed.event.patch).toMatchObject({ createdAt: undefined, answeredAt: undefined, completedAt: "2026-01-01T10:03:00Z", duration: 175 });
      expect(readWebhookEvent(raw).badDates).toEqual(["data.object.createdAt", "data.object.answeredAt"]);
    });

    it("rewrites other ISO 8601 forms in the form Notion takes, and keeps an empty date as none", () => {
      const parsed = parseEnvelope(envelope("message.received", { ...text, createdAt: "2026-01-01T10:00:00.123456+0100" }));
      if (parsed.outcome !== "event" || parsed.event.kind !== "message") throw new Error("expected a message event");
      expect(parsed.event.patch.createdAt).toBe("2026-01-01T09:00:00.123Z");
      const ringing = parseEnvelope(envelope("call.ringing", { ...call, answeredAt: "" }));
      if (ringing.outcome !== "event" || ringing.event.kind !== "call") throw new Error("expected a call event");
      expect(ringing.event.patch.answeredAt).toBeNull();
      expect(readWebhookEvent(envelope("call.ringing", { ...call, answeredAt: "" })).badDates).toEqual([]);
    });
  });
});
