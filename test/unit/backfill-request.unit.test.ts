import { describe, expect, it } from "vitest";
import { callEvent, messageEvent } from "../../src/backfill/envelope";
import { BackfillRequestError, parseBackfillRequest } from "../../src/backfill/request";
import type { Call, Message } from "../../src/openphone/client";

const NOW = Date.parse("2026-04-01T12:00:00Z");

describe("a backfill request", () => {
  it("accepts nothing, a date, a date-time and line ids", () => {
    expect(parseBackfillRequest(undefined, NOW)).toEqual({});
    expect(parseBackfillRequest({ since: "2026-01-01" }, NOW)).toEqual({ since: Date.parse("2026-01-01T00:00:00Z") });
    expect(parseBackfillRequest({ since: "2026-03-01T09:30:00+02:00", lines: ["PNa1", "PNa1", "PNb2"] }, NOW)).toEqual({
      since: Date.parse("2026-03-01T07:30:00Z"),
      lines: ["PNa1", "PNb2"],
    });
  });

  it.each([
    [{ since: "yesterday" }, /since must be a date/],
    [{ since: "2026-02-30" }, /not a real date/],
    [{ since: "2027-01-01" }, /in the future/],
    [{ since: "2026-01-01T00:00:00" }, /with a zone/],
    [{ lines: [] }, /non-empty array/],
    [{ lines: ["+15550001111"] }, /phone-number ids like PN123abc; not "\+15550001111"/],
    [{ line: ["PNa"] }, /unknown field\(s\) line/],
    [[1, 2], /JSON object/],
  ])("refuses %j with a message that says what is expected", (body, message) => {
    expect(() => parseBackfillRequest(body, NOW)).toThrow(BackfillRequestError);
    expect(() => parseBackfillRequest(body, NOW)).toThrow(message);
  });
});

const call: Call = {
  id: "ACcall1",
  phoneNumberId: "PNa",
  userId: "USa",
  direction: "incoming",
  status: "completed",
  participants: ["+15551110001", "+15550000001"],
  createdAt: "2026-02-01T10:00:00Z",
  updatedAt: "2026-02-01T10:05:00Z",
  answeredAt: "2026-02-01T10:00:05Z",
  completedAt: "2026-02-01T10:05:00Z",
  answeredBy: "USa",
  initiatedBy: null,
  callRoute: "phone-number",
  duration: 295,
  forwardedFrom: null,
  forwardedTo: null,
  aiHandled: null,
};

describe("the synthetic webhook a backfilled item becomes", () => {
  it("is a call.completed event keyed by the call id, carrying the REST object", () => {
    const event = callEvent("PNa", "run1", call, NOW);
    expect(event).toMatchObject({ type: "webhook", lineId: "PNa", eventId: "backfill:ACcall1", eventType: "call.completed", receivedAt: NOW });
    expect(event.envelope).toEqual({
      id: "backfill:ACcall1",
      object: "event",
      apiVersion: "v1-backfill",
      createdAt: call.createdAt,
      type: "call.completed",
      source: "backfill",
      backfillRunId: "run1",
      data: { object: { ...call, object: "call" } },
    });
  });

  it("is message.received or message.delivered by direction", () => {
    const message: Message = {
      id: "ACmsg1",
      to: ["+15550000001"],
      from: "+15551110001",
      text: "hi",
      phoneNumberId: "PNa",
      direction: "incoming",
      userId: "USa",
      status: "delivered",
      createdAt: "2026-02-01T10:00:00Z",
      updatedAt: "2026-02-01T10:00:00Z",
    };
    expect(messageEvent("PNa", "r", message, NOW).eventType).toBe("message.received");
    expect(messageEvent("PNa", "r", { ...message, direction: "outgoing" }, NOW)).toMatchObject({ eventType: "message.delivered", eventId: "backfill:ACmsg1" });
  });
});
