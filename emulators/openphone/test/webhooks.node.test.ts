/**
 * Webhook deliveries as a receiver sees them: signed (checked with an independent verifier), in the order of a
 * call's life, retried until the receiver answers 2xx (even one that starts late), duplicated and shuffled on demand.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./harness.ts";
import { type Delivery, WebhookReceiver } from "./receiver.ts";
import { verifyWithWebCrypto } from "./independent-verifier.ts";

type Envelope = { id: string; object: string; apiVersion: string; createdAt: string; type: string; data: { object: Record<string, unknown> } };
type Received = Delivery<Envelope>;
const signatureOf = (delivery: Received) => String(delivery.headers["openphone-signature"]);

describe("webhook deliveries", () => {
  let harness: Harness;
  let receiver: WebhookReceiver<Envelope>;
  let receiverUrl: string;
  const keys = new Map<string, string>();

  async function register(family: string, path: string, events: string[]): Promise<string> {
    const response = await harness.api(`/v1/webhooks/${family}`, { method: "POST", body: JSON.stringify({ url: receiverUrl + path, events }) });
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as { data: { id: string; key: string } };
    keys.set(path, data.key);
    return data.key;
  }

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness?.running.close());
  afterEach(async () => {
    await receiver?.close();
    await harness.control("POST", "/_emulator/reset");
    harness.running.emulator.updateConfig({ rateLimitPerSecond: 0 });
    keys.clear();
  });

  async function freshReceiver(): Promise<void> {
    receiver = new WebhookReceiver<Envelope>();
    receiverUrl = await receiver.listen();
  }

  it("sends a call's events in order, each signed so that an independent verifier accepts it", async () => {
    await freshReceiver();
    const key = await register("calls", "/calls", ["call.ringing", "call.completed", "call.recording.completed"]);
    expect(Buffer.from(key, "base64").length).toBe(32);
    await register("call-transcripts", "/transcripts", ["call.transcript.completed"]);
    await register("call-summaries", "/summaries", ["call.summary.completed"]);
    await harness.control("PUT", "/_emulator/config", { timeFactor: 100 });
    const { callId, events } = await harness.control<{ callId: string; events: { id: string; type: string }[] }>("POST", "/_emulator/calls", {
      direction: "incoming",
      status: "answered",
      recording: { segments: 2, bytes: 5000 },
      transcript: { chars: 2000 },
      summary: true,
    });
    const order = ["call.ringing", "call.completed", "call.recording.completed", "call.transcript.completed", "call.summary.completed"];
    expect(events.map((e) => e.type)).toEqual(order);
    const received = await receiver.waitFor(5);
    expect(received.map((r) => r.envelope.type)).toEqual(order);
    expect(received.map((r) => r.envelope.id)).toEqual(events.map((e) => e.id));
    for (const delivery of received) {
      expect(signatureOf(delivery)).toMatch(/^hmac;1;\d{13};[A-Za-z0-9+/]+=*$/);
      expect(await verifyWithWebCrypto(signatureOf(delivery), keys.get(delivery.path)!, delivery.raw)).toBe(true);
      expect(delivery.envelope).toMatchObject({ object: "event", apiVersion: "v4" });
      expect(delivery.envelope.id).toMatch(/^EV/);
    }
    expect(received[1]!.envelope.data.object).toMatchObject({ id: callId, object: "call", status: "completed" });
    const recording = received[2]!.envelope.data.object as { media: { url: string }[] };
    expect(recording.media).toHaveLength(2);
    expect(recording.media[0]!.url.startsWith(`${harness.url}/media/`)).toBe(true);
    expect(received[3]!.envelope.data.object).toMatchObject({ callId, object: "callTranscript", status: "completed" });
    expect(received[4]!.envelope.data.object).toMatchObject({ callId, object: "callSummary", status: "completed" });
    // A signature made with another webhook's key does not verify.
    expect(await verifyWithWebCrypto(signatureOf(received[3]!), keys.get("/calls")!, received[3]!.raw)).toBe(false);
  });

  it("sends a seeded call's webhooks on request, its finished artifacts at once", async () => {
    await freshReceiver();
    await register("calls", "/calls", ["call.ringing", "call.completed", "call.recording.completed"]);
    const seeded = await harness.control<{ callIds: string[] }>("POST", "/_emulator/seed", { days: 3, callsPerDay: 10, messagesPerDay: 0 });
    const callId = seeded.callIds[0]!;
    const { events } = await harness.control<{ callId: string; events: { id: string; type: string }[] }>("POST", `/_emulator/calls/${callId}/webhooks`);
    expect(events.map((e) => e.type)).toContain("call.completed");
    // Only the call family is registered here: transcript and summary events have no subscriber.
    const subscribed = events.filter((e) => e.type.startsWith("call.") && !/transcript|summary/.test(e.type));
    const received = await receiver.waitFor(subscribed.length);
    expect(received.map((r) => r.envelope.id)).toEqual(subscribed.map((e) => e.id));
    expect(received.find((r) => r.envelope.type === "call.completed")!.envelope.data.object).toMatchObject({ id: callId, object: "call" });
    const missing = await fetch(`${harness.url}/_emulator/calls/ACnosuchcall/webhooks`, { method: "POST" });
    expect(missing.status).toBe(404);
  });

  it("retries a delivery the receiver refuses, with the same event id, until it is accepted", async () => {
    await freshReceiver();
    await register("messages", "/messages", ["message.received"]);
    await harness.control("PUT", "/_emulator/config", { webhook: { retryBaseMs: 50 } });
    receiver.failures = [500, 503];
    const { events } = await harness.control<{ events: { id: string }[] }>("POST", "/_emulator/messages", { direction: "incoming", text: "Grüße 👋" });
    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.envelope.id).toBe(events[0]!.id);
    expect((delivery!.envelope.data.object as { text: string }).text).toBe("Grüße 👋");
    expect(await harness.running.emulator.dispatcher.whenIdle(5_000)).toBe(true);
    const stats = await harness.control<{ webhooks: Record<string, number> }>("GET", "/_emulator/stats");
    expect(stats.webhooks).toMatchObject({ delivered: 1, failed: 0, pending: 0 });
    expect(stats.webhooks.retried).toBeGreaterThanOrEqual(2);
    expect(stats.webhooks.sent).toBe(stats.webhooks.retried! + 1);
  });

  it("delivers to a receiver that starts after the event (connection refused, then retried)", async () => {
    const placeholder = new WebhookReceiver<Envelope>();
    receiverUrl = await placeholder.listen();
    const port = Number(new URL(receiverUrl).port);
    await placeholder.close();
    await register("messages", "/late", ["message.received"]);
    await harness.control("PUT", "/_emulator/config", { webhook: { retryBaseMs: 100, retryMaxMs: 200 } });
    await harness.control("POST", "/_emulator/messages", { direction: "incoming" });
    await new Promise((resolve) => setTimeout(resolve, 400));
    receiver = new WebhookReceiver<Envelope>();
    await receiver.listen(port);
    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.envelope.type).toBe("message.received");
    expect(await harness.running.emulator.dispatcher.whenIdle(5_000)).toBe(true);
    const stats = await harness.control<{ webhooks: Record<string, number> }>("GET", "/_emulator/stats");
    expect(stats.webhooks.retried).toBeGreaterThanOrEqual(1);
    expect(stats.webhooks.delivered).toBe(1);
  });

  it("sends duplicates with the same event id when asked", async () => {
    await freshReceiver();
    await register("messages", "/dup", ["message.received", "message.delivered"]);
    await harness.control("PUT", "/_emulator/config", { webhook: { duplicates: 2 } });
    await harness.control("POST", "/_emulator/messages", { direction: "incoming" });
    const received = await receiver.waitFor(3);
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.envelope.id)).size).toBe(1);
  });

  it("shuffles a call's events when asked, and still delivers all of them", async () => {
    await freshReceiver();
    await register("calls", "/calls", ["call.completed", "call.recording.completed"]);
    await register("call-transcripts", "/transcripts", ["call.transcript.completed"]);
    await register("call-summaries", "/summaries", ["call.summary.completed"]);
    await harness.control("PUT", "/_emulator/config", { timeFactor: 1000, webhook: { shuffle: true } });
    const calls = 4;
    const nominal = ["call.completed", "call.recording.completed", "call.transcript.completed", "call.summary.completed"];
    const ids: string[] = [];
    for (let i = 0; i < calls; i++) ids.push((await harness.control<{ callId: string }>("POST", "/_emulator/calls", { status: "answered", recording: { segments: 1 }, transcript: { chars: 300 }, summary: true })).callId);
    const received = await receiver.waitFor(calls * 4);
    expect(received).toHaveLength(calls * 4);
    const orders = ids.map((id) => received.filter((r) => (r.envelope.data.object.id ?? r.envelope.data.object.callId) === id).map((r) => r.envelope.type));
    for (const order of orders) expect([...order].sort()).toEqual([...nominal].sort());
    expect(orders.some((order) => order.join() !== nominal.join())).toBe(true);
  });

  it("announces a text sent through the API as delivered, and the API then reads it as delivered", async () => {
    await freshReceiver();
    await register("messages", "/sent", ["message.delivered"]);
    await harness.control("PUT", "/_emulator/config", { timeFactor: 20 });
    const line = harness.running.emulator.store.workspace.phoneNumbers[0]!;
    const sent = await harness.api("/v1/messages", { method: "POST", body: JSON.stringify({ content: "On my way", from: line.number, to: ["+14155550142"] }) });
    expect(sent.status).toBe(202);
    const { data } = (await sent.json()) as { data: { id: string; status: string } };
    expect(data.status).toBe("queued");
    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.envelope.data.object).toMatchObject({ id: data.id, status: "delivered", object: "message" });
    const after = (await (await harness.api(`/v1/messages/${data.id}`)).json()) as { data: { status: string } };
    expect(after.data.status).toBe("delivered");
  });
});
