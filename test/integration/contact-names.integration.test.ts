import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { applyContactWebhook } from "../../src/contacts/apply-webhook";
import type { WebhookMessage } from "../../src/queue/messages";
import { notion, openphone, plain } from "./emulators";
import { flush, line } from "./line-harness";

const CALLER = "+16175552722";

function message(eventId: string, type: string, object: Record<string, unknown>): WebhookMessage {
  return { type: "webhook", lineId: object.phoneNumberId as string, eventId, eventType: type, receivedAt: Date.now(), envelope: { id: eventId, object: "event", apiVersion: "v4", createdAt: new Date().toISOString(), type, data: { object } } };
}

/** A 56 s answered call from `participant` on the workspace's line `lineIndex`, and its completed event. */
async function answeredCall(lineIndex: number, participant: string) {
  const onLine = await openphone.line(lineIndex);
  const { call } = await openphone.createCall({ phoneNumberId: onLine.id, participant, direction: "incoming", status: "completed", durationSeconds: 56, recording: { segments: 0 }, transcript: false, summary: false });
  return { call, event: message(`EV${call.id}`, "call.completed", { ...call, object: "call" }) };
}

/** The call's one page (a second page with its Call ID fails the test). */
async function pageOf(callId: string) {
  const pages = await notion.pagesWith("Call ID", callId);
  expect(pages).toHaveLength(1);
  return pages[0]!;
}

beforeEach(() => notion.resetCounters());

describe("a caller known only to OpenPhone", () => {
  it("gets the contact's name in the title and a Contact property, at no extra request", async () => {
    await applyContactWebhook(env.DB, "contact.updated", { id: "ct-hana", firstName: "Hana", lastName: "Rossi", company: "Rossi Design", phoneNumbers: [{ value: CALLER, type: "phone-number" }], emails: [] }, { defaultRegion: "US" });
    const { call, event } = await answeredCall(0, CALLER);
    const stub = line(call.phoneNumberId);
    await stub.ingest([event]);
    await flush(stub);
    const page = await pageOf(call.id);
    expect(plain(page.properties["Name"])).toBe("Incoming call from Hana Rossi · 56s");
    expect(plain(page.properties["Contact"])).toBe("Hana Rossi (Rossi Design)");
    expect(page.properties["Canvas"]?.relation ?? []).toEqual([]);
    // The name comes from D1: one data source lookup and one create, as for any call.
    expect((await notion.requests()).map((r) => r.operation)).toEqual(["databases.retrieve", "pages.create"]);
  });

  it("a caller no one knows keeps the number and no Contact", async () => {
    const { call, event } = await answeredCall(1, "+16175550000");
    const stub = line(call.phoneNumberId);
    await stub.ingest([event]);
    await flush(stub);
    const page = await pageOf(call.id);
    expect(plain(page.properties["Name"])).toBe("Incoming call from +16175550000 · 56s");
    expect(plain(page.properties["Contact"])).toBe("");
  });
});
