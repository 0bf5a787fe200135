/**
 * The 2026-03-30 surface, checked against the reference notes (quo-2026-03-30.md) and independently of the product:
 * the version header, the error envelope, webhook management, Standard Webhooks signatures verified with Web Crypto,
 * the envelope of every event type, the delivery log with its retry, the REST reads' cursor pages, and the switch
 * that sends each event through both systems.
 */
import http from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { standardWebhookSignature } from "../quo/signature.ts";
import { startHarness, type Harness } from "./harness.ts";
import { WebhookReceiver } from "./receiver.ts";

const VERSION = { "Quo-Api-Version": "2026-03-30" };

type Envelope = { id: string; apiVersion?: string; object?: string; createdAt: string; type: string; data: { resource?: Record<string, unknown>; context?: Record<string, unknown>; links?: unknown; object?: Record<string, unknown> } };

/** Standard Webhooks verification written from the spec with Web Crypto, sharing nothing with the emulator. */
async function verifyStandard(secret: string, headers: http.IncomingHttpHeaders, raw: string): Promise<boolean> {
  const id = String(headers["webhook-id"]);
  const ts = String(headers["webhook-timestamp"]);
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const key = await crypto.subtle.importKey("raw", Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${ts}.${raw}`)));
  const expected = btoa(String.fromCharCode(...mac));
  return String(headers["webhook-signature"]).split(" ").some((entry) => entry === `v1,${expected}`);
}

describe("the 2026-03-30 API", () => {
  let harness: Harness;
  let receiver: WebhookReceiver<Envelope>;
  let receiverUrl: string;
  const quo = (path: string, init: RequestInit & { key?: string | null } = {}) => harness.api(path, { ...init, headers: { ...VERSION, ...(init.headers as Record<string, string> | undefined) } });
  async function createWebhook(body: Record<string, unknown>) {
    const response = await quo("/webhooks", { method: "POST", body: JSON.stringify(body) });
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: { id: string; key: string; status: string; resourceIds: string[]; events: string[] } }).data;
  }

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness?.running.close());
  afterEach(async () => {
    await receiver?.close();
    await harness.control("POST", "/_emulator/reset");
    harness.running.emulator.updateConfig({ rateLimitPerSecond: 0 });
  });
  async function freshReceiver() {
    receiver = new WebhookReceiver<Envelope>();
    receiverUrl = await receiver.listen();
  }

  it("signs the reference test vector", () => {
    const body =
      '{"id":"EVtest0001","apiVersion":"2026-03-30","createdAt":"2026-03-31T23:33:19.000Z","type":"message.received","data":{"resource":{"id":"ACtest0001","direction":"incoming","text":"hi","media":[],"status":"received","createdAt":"2026-03-31T23:33:19.000Z"},"context":{"orgId":"ORtest0001","phoneNumberId":"PNtest0001","conversationId":"CNtest0001","userId":"UStest0001","contacts":{"ids":[],"lookupStatus":"none"},"senderIdentifier":"+15555550100","recipientIdentifiers":["+15555550101"]},"links":{"quo":null}}}';
    expect(standardWebhookSignature("whsec_cXVvLWVtdWxhdG9yLXRlc3Qtc2lnbmluZy1rZXktMDE=", "msg_test0000000000000000001", 1775000000, body)).toBe("v1,WTJQD+KPuIyfj908sxjN6NqziRmZhRxPnfTA/McFmeA=");
    expect(standardWebhookSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("answers 400 with the new error envelope without Quo-Api-Version, and 401 without the key", async () => {
    for (const headers of [{}, { "Quo-Api-Version": "2025-01-01" }, { "x-quo-api-version": "2026-03-30" }] as Record<string, string>[]) {
      const response = await harness.api("/webhooks", { headers });
      expect(response.status).toBe(400);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ title: "Bad Request", docs: "https://quo.com/docs", errors: [{ path: "/header/Quo-Api-Version" }] });
      expect(body).not.toHaveProperty("code");
      expect(body).not.toHaveProperty("status");
    }
    expect((await quo("/webhooks", { key: null })).status).toBe(401);
    expect((await harness.api("/v1/webhooks")).status).toBe(200);
  });

  it("creates, lists, gets, updates, rotates and deletes webhooks; the key only in the create and rotate answers", async () => {
    const created = await createWebhook({ url: "https://example.com/hook", events: ["call.completed", "message.failed"], label: "sync" });
    expect(created).toMatchObject({ id: expect.stringMatching(/^[0-9]+$/), status: "enabled", resourceIds: ["*"], apiVersion: "2026-03-30", orgId: expect.any(String) });
    expect(created.key).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(created).not.toHaveProperty("userId");
    const got = (await (await quo(`/webhooks/${created.id}`)).json()) as { data: Record<string, unknown> };
    expect(got.data).not.toHaveProperty("key");
    const listed = (await (await quo("/webhooks")).json()) as { data: { id: string }[] };
    expect(listed.data.map((w) => w.id)).toEqual([created.id]);
    const patched = await quo(`/webhooks/${created.id}`, { method: "PATCH", body: JSON.stringify({ status: "disabled", events: ["call.missed"], resourceIds: ["PNabc"] }) });
    expect(((await patched.json()) as { data: unknown }).data).toMatchObject({ status: "disabled", events: ["call.missed"], resourceIds: ["PNabc"] });
    expect((await quo(`/webhooks/${created.id}`, { method: "PATCH", body: JSON.stringify({}) })).status).toBe(400);
    expect((await quo(`/webhooks/${created.id}`, { method: "PATCH", body: JSON.stringify({ apiVersion: "2027-01-01" }) })).status).toBe(400);
    const rotated = (await (await quo(`/webhooks/${created.id}/rotate`, { method: "POST" })).json()) as { data: { key: string } };
    expect(rotated.data.key).toMatch(/^whsec_/);
    expect(rotated.data.key).not.toBe(created.key);
    expect((await quo(`/webhooks/${created.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await quo(`/webhooks/${created.id}`)).status).toBe(404);
    expect((await quo("/webhooks/WH123")).status).toBe(400);
    for (const bad of [{ url: "not a url", events: ["call.completed"] }, { url: "https://e.com", events: ["call.teleported"] }, { url: "https://e.com", events: [] }, { url: "https://e.com", events: ["call.completed"], userId: "US1" }]) {
      expect((await quo("/webhooks", { method: "POST", body: JSON.stringify(bad) })).status).toBe(400);
    }
  });

  it("delivers every event type of a call and a text, signed the Standard Webhooks way, in the documented envelope", async () => {
    await freshReceiver();
    harness.running.emulator.updateConfig({ timeFactor: 1000 });
    const all = ["call.ringing", "call.answered", "call.completed", "call.forwarded", "call.missed", "call.recording.completed", "call.transcript.completed", "call.summary.completed", "call.voicemail.completed", "message.received", "message.delivered", "message.failed"];
    const webhook = await createWebhook({ url: receiverUrl, events: all });
    const answered = await harness.control<{ callId: string }>("POST", "/_emulator/calls", { direction: "incoming", status: "answered", durationSeconds: 60, recording: { segments: 1 }, transcript: { chars: 300 }, summary: true });
    const voicemail = await harness.control<{ callId: string }>("POST", "/_emulator/calls", { direction: "incoming", status: "voicemail" });
    const forwarded = await harness.control<{ callId: string }>("POST", "/_emulator/calls", { direction: "incoming", status: "forwarded" });
    const failed = await harness.control<{ messageId: string }>("POST", "/_emulator/messages", { direction: "outgoing", status: "undelivered" });
    const received = await harness.control<{ messageId: string }>("POST", "/_emulator/messages", { direction: "incoming" });
    const byType = (type: string) => receiver.received.filter((r) => r.envelope.type === type);
    await receiver.waitFor(() => byType("call.summary.completed").length >= 1 && byType("call.voicemail.completed").length >= 1 && byType("message.failed").length >= 1 && byType("message.received").length >= 1 && byType("call.forwarded").length >= 1);

    for (const r of receiver.received) {
      expect(r.headers["webhook-id"]).toMatch(/^msg_/);
      expect(r.headers["webhook-timestamp"]).toMatch(/^[0-9]{10}$/);
      expect(r.headers["openphone-signature"]).toBeUndefined();
      expect(await verifyStandard(webhook.key, r.headers, r.raw)).toBe(true);
      expect(Object.keys(r.envelope).sort()).toEqual(["apiVersion", "createdAt", "data", "id", "type"]);
      expect(r.envelope.apiVersion).toBe("2026-03-30");
      expect(Object.keys(r.envelope.data).sort()).toEqual(["context", "links", "resource"]);
      expect(r.envelope.data.resource).not.toHaveProperty("object");
    }
    const one = (type: string, id: string) => receiver.received.find((r) => r.envelope.type === type && (r.envelope.data.resource!.id === id || r.envelope.data.resource!.callId === id))?.envelope.data;
    expect(one("call.completed", answered.callId)?.resource).toMatchObject({ status: "answered", hasVoicemail: false });
    expect(one("call.completed", answered.callId)?.context).toMatchObject({ phoneNumberId: expect.stringMatching(/^PN/), participants: { external: [expect.stringMatching(/^\+/)], resolution: "available" }, contacts: { lookupStatus: expect.any(String) } });
    expect(one("call.completed", answered.callId)?.resource).not.toHaveProperty("participants");
    expect(one("call.answered", answered.callId)?.resource).toMatchObject({ answeredAt: expect.any(String) });
    expect(one("call.recording.completed", answered.callId)?.resource).toMatchObject({ recordings: [{ url: expect.stringContaining("/media/") }] });
    expect(one("call.transcript.completed", answered.callId)?.resource).toMatchObject({ processingStatus: "completed", dialogue: expect.any(Array) });
    expect(one("call.summary.completed", answered.callId)?.resource).toMatchObject({ processingStatus: "completed", summary: expect.any(Array) });
    expect(one("call.summary.completed", answered.callId)?.resource).not.toHaveProperty("id");
    expect(one("call.ringing", answered.callId)?.context).not.toHaveProperty("contacts");
    expect(one("call.missed", voicemail.callId)?.resource).toEqual({ id: voicemail.callId, createdAt: expect.any(String), updatedAt: expect.any(String) });
    expect(one("call.completed", voicemail.callId)?.resource).toMatchObject({ status: "unanswered", hasVoicemail: true });
    expect(one("call.voicemail.completed", voicemail.callId)?.resource).toMatchObject({ callId: voicemail.callId, voicemailId: expect.stringMatching(/^VM/), transcript: expect.any(String), recordingUrl: expect.stringContaining("/media/") });
    expect(one("call.forwarded", forwarded.callId)?.resource).toHaveProperty("forwardedTo");
    expect(one("message.failed", failed.messageId)?.resource).toMatchObject({ status: "failed", errorCode: expect.any(String) });
    expect(one("message.failed", failed.messageId)?.resource).not.toHaveProperty("media");
    expect(one("message.received", received.messageId)?.context).toMatchObject({ senderIdentifier: expect.stringMatching(/^\+/), recipientIdentifiers: [expect.stringMatching(/^\+/)] });
    expect(one("message.received", received.messageId)?.resource).not.toHaveProperty("from");
    // Outgoing calls never fire call.missed.
    expect(byType("call.missed").every((r) => r.envelope.data.resource!.id !== answered.callId)).toBe(true);
  });

  it("filters by resourceIds, skips disabled webhooks, logs every delivery with its attempts, and retries on request", async () => {
    await freshReceiver();
    const lines = (await harness.control<{ phoneNumbers: { id: string }[] }>("GET", "/_emulator/workspace")).phoneNumbers;
    const mine = await createWebhook({ url: `${receiverUrl}/mine`, events: ["message.received"], resourceIds: [lines[0]!.id] });
    await createWebhook({ url: `${receiverUrl}/off`, events: ["message.received"], status: "disabled" });
    receiver.failures = [500];
    const text = await harness.control<{ messageId: string }>("POST", "/_emulator/messages", { direction: "incoming", phoneNumberId: lines[0]!.id });
    await harness.control("POST", "/_emulator/messages", { direction: "incoming", phoneNumberId: lines[1]!.id });
    await receiver.waitFor((r) => r.length >= 1);
    expect(await harness.running.emulator.dispatcher.whenIdle(20_000)).toBe(true);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.envelope.data.resource!.id).toBe(text.messageId);
    const list = (await (await quo(`/webhooks/${mine.id}/events?resourceId=${text.messageId}`)).json()) as { data: { id: string; status: string; eventId: string; eventType: string }[]; nextCursor: string | null };
    expect(list.data).toEqual([expect.objectContaining({ id: receiver.received[0]!.headers["webhook-id"], status: "success", eventType: "message.received", eventId: receiver.received[0]!.envelope.id })]);
    expect(list.nextCursor).toBeNull();
    const detail = (await (await quo(`/webhooks/${mine.id}/events/${list.data[0]!.id}`)).json()) as { data: { attempts: { responseStatusCode: number; triggerType: string; status: string }[]; requestBody: string } };
    expect(detail.data.attempts.map((a) => [a.responseStatusCode, a.status, a.triggerType])).toEqual([
      [500, "failed", "scheduled"],
      [200, "success", "scheduled"],
    ]);
    expect(detail.data.requestBody).toBe(receiver.received[0]!.raw);
    const retry = await quo(`/webhooks/${mine.id}/events/${list.data[0]!.id}/retry`, { method: "POST" });
    expect(retry.status).toBe(202);
    expect(await retry.json()).toEqual({});
    await receiver.waitFor((r) => r.length >= 2);
    expect(receiver.received[1]!.headers["webhook-id"]).toBe(receiver.received[0]!.headers["webhook-id"]);
    expect(receiver.received[1]!.envelope.id).toBe(receiver.received[0]!.envelope.id);
    const again = (await (await quo(`/webhooks/${mine.id}/events/${list.data[0]!.id}`)).json()) as { data: { attempts: { triggerType: string }[] } };
    expect(again.data.attempts.at(-1)!.triggerType).toBe("manual");
  });

  it("sends a signed test event with sample data and logs it", async () => {
    await freshReceiver();
    const webhook = await createWebhook({ url: receiverUrl, events: ["call.completed"] });
    const response = await quo(`/webhooks/${webhook.id}/events/test`, { method: "POST", body: JSON.stringify({ eventType: "message.received" }) });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { payload: { type: string } } };
    expect(data.payload.type).toBe("message.received");
    await receiver.waitFor((r) => r.length >= 1);
    expect(await verifyStandard(webhook.key, receiver.received[0]!.headers, receiver.received[0]!.raw)).toBe(true);
    const list = (await (await quo(`/webhooks/${webhook.id}/events`)).json()) as { data: { eventId: string | null; resourceId: string | null }[] };
    expect(list.data[0]).toMatchObject({ eventId: null, resourceId: null });
    expect((await quo(`/webhooks/${webhook.id}/events/test`, { method: "POST", body: JSON.stringify({ eventType: "nope" }) })).status).toBe(400);
  });

  it("sends each event through both systems to the webhooks of each, or through one when switched", async () => {
    await freshReceiver();
    const lines = (await harness.control<{ phoneNumbers: { id: string }[] }>("GET", "/_emulator/workspace")).phoneNumbers;
    await createWebhook({ url: `${receiverUrl}/quo`, events: ["message.received"] });
    expect((await harness.api("/v1/webhooks/messages", { method: "POST", body: JSON.stringify({ url: `${receiverUrl}/v1`, events: ["message.received"] }) })).status).toBe(201);
    const first = await harness.control<{ messageId: string }>("POST", "/_emulator/messages", { direction: "incoming", phoneNumberId: lines[0]!.id });
    await receiver.waitFor((r) => r.length >= 2);
    const copies = receiver.received.filter((r) => (r.envelope.data.resource ?? r.envelope.data.object)!.id === first.messageId);
    expect(copies.map((c) => (c.envelope.object === "event" ? "v1" : c.envelope.apiVersion)).sort()).toEqual(["2026-03-30", "v1"]);
    expect(copies[0]!.envelope.id).not.toBe(copies[1]!.envelope.id);
    for (const systems of ["v1", "quo"] as const) {
      await harness.control("PUT", "/_emulator/config", { webhook: { systems } });
      const before = receiver.received.length;
      await harness.control("POST", "/_emulator/messages", { direction: "incoming", phoneNumberId: lines[0]!.id });
      await receiver.waitFor((r) => r.length > before);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await harness.running.emulator.dispatcher.whenIdle(20_000)).toBe(true);
      const added = receiver.received.slice(before);
      expect(added).toHaveLength(1);
      expect(added[0]!.envelope.object === "event" ? "v1" : "quo").toBe(systems);
    }
  });

  it("reads users, phone numbers, calls, messages and contacts in cursor pages of 1 to 50", async () => {
    await harness.control("POST", "/_emulator/seed", { days: 2, callsPerDay: 20, messagesPerDay: 20 });
    for (const path of ["/users", "/phone-numbers", "/calls", "/messages", "/contacts"]) {
      const seen = new Set<string>();
      let after: string | null = null;
      let pages = 0;
      do {
        const response = await quo(`${path}?limit=7${after ? `&after=${after}` : ""}`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { data: { id: string }[]; nextCursor: string | null };
        expect(Object.keys(body).sort()).toEqual(["data", "nextCursor"]);
        expect(body.data.length).toBeLessThanOrEqual(7);
        for (const item of body.data) seen.add(item.id);
        after = body.nextCursor;
        pages++;
      } while (after && pages < 100);
      expect(after).toBeNull();
      expect(seen.size).toBeGreaterThan(0);
    }
    const call = ((await (await quo("/calls?limit=1")).json()) as { data: Record<string, unknown>[] }).data[0]!;
    expect(call).toMatchObject({ actorId: expect.any(String), participants: expect.arrayContaining([{ phoneNumber: expect.any(String), actorId: null }]) });
    const contact = ((await (await quo("/contacts?limit=1")).json()) as { data: Record<string, unknown>[] }).data[0]!;
    expect(contact).toHaveProperty("firstName");
    expect(contact).not.toHaveProperty("defaultFields");
    for (const limit of ["0", "51", "x"]) {
      const response = await quo(`/users?limit=${limit}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ errors: [{ path: "/query/limit" }] });
    }
    expect((await quo("/users?after=garbage")).status).toBe(400);
    expect((await quo("/users/US404")).status).toBe(404);
  });
});
