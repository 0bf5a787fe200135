import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { applyContactWebhook } from "../../src/contacts/apply-webhook";
import type { WebhookMessage } from "../../src/queue/messages";
import { fakeApis, notionRequests } from "./fake-apis";
import { flush, lineWithSettings } from "./line-harness";

const CALLER = "+16175552722";

function message(eventId: string, type: string, object: Record<string, unknown>): WebhookMessage {
  return { type: "webhook", lineId: "PNnames1", eventId, eventType: type, receivedAt: Date.now(), envelope: { id: eventId, object: "event", apiVersion: "v4", createdAt: new Date().toISOString(), type, data: { object } } };
}

const text = (value: unknown) => ((value as { rich_text?: { text: { content: string } }[] }).rich_text ?? (value as { title: { text: { content: string } }[] }).title).map((r) => r.text.content).join("");

beforeEach(() => fakeApis.reset());

describe("a caller known only to OpenPhone", () => {
  it("gets the contact's name in the title and a Contact property, at no extra request", async () => {
    await applyContactWebhook(env.DB, "contact.updated", { id: "ct-hana", firstName: "Hana", lastName: "Rossi", company: "Rossi Design", phoneNumbers: [{ value: CALLER, type: "phone-number" }], emails: [] }, { defaultRegion: "US" });
    const stub = await lineWithSettings("PNnames1");
    const call = { id: "ACnames1", object: "call", direction: "incoming", participants: [CALLER], phoneNumberId: "PNnames1", userId: "US1", createdAt: "2026-03-02T10:00:00.000Z" };
    await stub.ingest([message("EVnames1", "call.completed", { ...call, status: "completed", answeredAt: "2026-03-02T10:00:04.000Z", answeredBy: "US1", completedAt: "2026-03-02T10:01:00.000Z", duration: 56 })]);
    await flush(stub);
    const state = await fakeApis.state();
    const page = state.pages.find((p) => text(p.properties["Call ID"]) === "ACnames1")!;
    expect(text(page.properties["Name"])).toBe("Incoming call from Hana Rossi · 56s");
    expect(text(page.properties["Contact"])).toBe("Hana Rossi (Rossi Design)");
    expect(page.properties["Canvas"]).toBeUndefined();
    // The name comes from D1: one data source lookup and one create, as for any call.
    expect(notionRequests(state).filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("a caller no one knows keeps the number and no Contact", async () => {
    const stub = await lineWithSettings("PNnames2");
    const call = { id: "ACnames2", object: "call", direction: "incoming", participants: ["+16175550000"], phoneNumberId: "PNnames2", userId: "US1", createdAt: "2026-03-02T10:00:00.000Z" };
    await stub.ingest([message("EVnames2", "call.completed", { ...call, status: "completed", answeredAt: "2026-03-02T10:00:04.000Z", answeredBy: "US1", completedAt: "2026-03-02T10:01:00.000Z", duration: 56 })]);
    await flush(stub);
    const page = (await fakeApis.state()).pages.find((p) => text(p.properties["Call ID"]) === "ACnames2")!;
    expect(text(page.properties["Name"])).toBe("Incoming call from +16175550000 · 56s");
    expect(page.properties["Contact"]).toBeUndefined();
  });
});
