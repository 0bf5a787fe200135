import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { SyncMessage, WebhookMessage } from "../../src/queue/messages";
import { loadWebhookEnvelope } from "../../src/webhooks/envelope-store";
import { signOpenPhoneWebhook, signQuoWebhook } from "../../src/webhooks/signatures";

const SIGNING_KEY = "ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=";
const SECOND_KEY = btoa("second-registered-webhook-key-02");
const QUO_SECRET = `whsec_${btoa("quo-intake-test-secret-000001")}`;
const secrets = {
  OPENPHONE_API_KEY: "sandbox-openphone-key-VALUE",
  NOTION_TOKEN: "sandbox-notion-token-VALUE",
  ADMIN_TOKEN: "sandbox-admin-token-VALUE",
  NOTION_CALLS_DATABASE_ID: "0123456789abcdef0123456789abcdef",
  NOTION_MESSAGES_DATABASE_ID: "fedcba9876543210fedcba9876543210",
  OPENPHONE_WEBHOOK_KEYS: `${SECOND_KEY},${SIGNING_KEY}`,
  QUO_WEBHOOK_SECRETS: QUO_SECRET,
  MEDIA_SIGNING_KEYS: "media-signing-key-VALUE-0001",
};

/** The Worker with a recording queue in front of the real one: every message sent is kept for the assertions. */
function intake(overrides: Record<string, unknown> = {}) {
  const queued: SyncMessage[] = [];
  const queue = {
    send: async (body: SyncMessage) => {
      queued.push(body);
    },
    sendBatch: async (messages: Iterable<{ body: SyncMessage }>) => {
      for (const m of messages) queued.push(m.body);
    },
  } as unknown as Queue;
  const testEnv = { ...env, ...secrets, SYNC_QUEUE: queue, ...overrides } as Env;
  async function post(body: BodyInit, headers: Record<string, string> = {}) {
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request("http://worker/webhooks/openphone", { method: "POST", body, headers }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }
  async function postSigned(envelope: unknown, at = Date.now()) {
    const body = typeof envelope === "string" ? envelope : JSON.stringify(envelope);
    return post(body, { "content-type": "application/json", "openphone-signature": await signOpenPhoneWebhook(body, SIGNING_KEY, at) });
  }
  return { queued, post, postSigned, env: testEnv };
}

function messageReceived(id: string, line = "PNintake01") {
  return {
    id,
    object: "event",
    apiVersion: "v4",
    createdAt: "2026-04-20T10:00:00.000Z",
    type: "message.received",
    data: { object: { id: `AC${id}`, object: "message", from: "+15555550100", to: "+15555550101", direction: "incoming", text: "hi", status: "received", phoneNumberId: line } },
  };
}

async function metric(name: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COALESCE(SUM(value), 0) AS n FROM metrics WHERE name = ?1").bind(name).first<{ n: number }>();
  return row?.n ?? 0;
}

async function errorBody(response: Response) {
  return response.json<{ error: string; reason: string; message: string }>();
}

describe("POST /webhooks/openphone: accepted", () => {
  it("verifies, queues the whole envelope for its line and answers 202 with the event id", async () => {
    const { queued, postSigned } = intake();
    const envelope = messageReceived("EVok0001");
    const response = await postSigned(envelope);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: true, id: "EVok0001" });
    expect(queued).toHaveLength(1);
    const message = queued[0] as WebhookMessage;
    expect(message).toMatchObject({ type: "webhook", lineId: "PNintake01", eventId: "EVok0001", eventType: "message.received" });
    expect(message.envelope).toEqual(envelope);
    expect(Math.abs(message.receivedAt - Date.now())).toBeLessThan(10_000);
  });

  it("accepts the Quo (Standard Webhooks) scheme", async () => {
    const { queued, post } = intake();
    const body = JSON.stringify(messageReceived("EVquo0001"));
    const response = await post(body, await signQuoWebhook(body, QUO_SECRET, "msg_intake_0001"));
    expect(response.status).toBe(202);
    expect(queued.map((m) => (m as WebhookMessage).eventId)).toEqual(["EVquo0001"]);
  });

  it("routes a summary, which has no line, to the line of its call, and names aliases by their subscription name", async () => {
    const { queued, postSigned } = intake();
    const call = { id: "EVcall0001", type: "call.completed", data: { object: { id: "ACroute0001", object: "call", phoneNumberId: "PNcalls0001", status: "completed" } } };
    const summary = { id: "EVsum0001", type: "callSummary", data: { object: { callId: "ACroute0001", object: "callSummary", status: "completed", summary: ["Talked"], nextSteps: [] } } };
    expect((await postSigned(call)).status).toBe(202);
    expect((await postSigned(summary)).status).toBe(202);
    expect(queued.map((m) => [m.lineId, (m as WebhookMessage).eventType])).toEqual([
      ["PNcalls0001", "call.completed"],
      ["PNcalls0001", "call.summary.completed"],
    ]);
    const route = await env.DB.prepare("SELECT phone_number_id FROM webhook_routes WHERE resource_id = 'ACroute0001'").first();
    expect(route).toEqual({ phone_number_id: "PNcalls0001" });
  });

  it("routes by the synced resources mirror, and by call id when the line is not known yet", async () => {
    await env.DB.prepare("INSERT INTO resources (resource_id, kind, phone_number_id, updated_at) VALUES ('ACmirror01', 'call', 'PNmirror01', ?1)").bind(Date.now()).run();
    const { queued, postSigned } = intake();
    const transcript = (eventId: string, callId: string) => ({
      id: eventId,
      type: "call.transcript.completed",
      data: { object: { callId, object: "callTranscript", status: "completed", dialogue: [{ content: "Hello", start: 0, end: 1, identifier: "+15555550100" }] } },
    });
    await postSigned(transcript("EVtr0001", "ACmirror01"));
    await postSigned(transcript("EVtr0002", "ACnotseen01"));
    await postSigned({ id: "EVsum0002", type: "call.summary.completed", data: { object: { callId: "ACnotseen01", status: "completed" } } });
    expect(queued.map((m) => m.lineId)).toEqual(["PNmirror01", "call:ACnotseen01", "call:ACnotseen01"]);
  });

  it("keys an envelope without an id by its bytes, so a redelivery gets the same key", async () => {
    const { queued, postSigned } = intake();
    const { id: _, ...withoutId } = messageReceived("EVnoid");
    await postSigned(withoutId);
    await postSigned(withoutId);
    const ids = queued.map((m) => (m as WebhookMessage).eventId);
    expect(ids[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it("stores an envelope too large for a queue message in R2 and queues a small message that points to it", async () => {
    const { queued, postSigned } = intake();
    const dialogue = Array.from({ length: 1500 }, (_, i) => ({ content: `Turn ${i}: ${"words ".repeat(30)}`, start: i * 5, end: i * 5 + 4, identifier: "+15555550100" }));
    const envelope = { id: "EVlong0001", type: "call.transcript.completed", data: { object: { callId: "AClong0001", object: "callTranscript", status: "completed", dialogue } } };
    const response = await postSigned(envelope);
    expect(response.status).toBe(202);
    expect(JSON.stringify(envelope).length).toBeGreaterThan(256 * 1024);
    const message = queued[0] as WebhookMessage;
    expect(message.envelopeKey).toMatch(/^webhooks\/\d{4}\/\d{2}\/\d{2}\/EVlong0001\.json$/);
    // Queues refuse messages over 128 KB.
    expect(JSON.stringify(message).length).toBeLessThan(2048);
    expect(message.lineId).toBe("call:AClong0001");
    expect(await loadWebhookEnvelope(env.MEDIA, message)).toEqual(envelope);
  });

  it("answers 202 to an unknown event type, counts it and queues nothing", async () => {
    const { queued, postSigned } = intake();
    const before = await metric("webhook.unknown_type");
    const response = await postSigned({ id: "EVunknown01", type: "call.teleported", data: { object: { id: "ACx", phoneNumberId: "PNintake01" } } });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ accepted: true, id: "EVunknown01", ignored: 'unknown event type "call.teleported"' });
    expect(queued).toEqual([]);
    await vi.waitFor(async () => expect(await metric("webhook.unknown_type")).toBe(before + 1), { timeout: 20_000, interval: 100 });
  });

  it("queues a text whose createdAt is not a date, counting webhook.bad_date", async () => {
    const { queued, postSigned } = intake();
    const before = await metric("webhook.bad_date");
    const envelope = messageReceived("EVbaddate01");
    const response = await postSigned({ ...envelope, data: { object: { ...envelope.data.object, createdAt: "not-a-date" } } });
    expect(response.status).toBe(202);
    expect(queued).toHaveLength(1);
    await vi.waitFor(async () => expect(await metric("webhook.bad_date")).toBe(before + 1), { timeout: 20_000, interval: 100 });
  });

  it("dead-letters a known event that names neither a line nor a resource, and queues nothing", async () => {
    const { queued, postSigned } = intake();
    const response = await postSigned({ id: "EVnoroute01", type: "message.delivered", data: { object: { text: "orphan" } } });
    expect(response.status).toBe(202);
    expect(queued).toEqual([]);
    const row = await env.DB.prepare("SELECT queue, reason, body FROM dead_letters WHERE body LIKE '%EVnoroute01%'").first<{ queue: string; reason: string; body: string }>();
    expect(row?.queue).toBe("webhooks");
    expect(row?.reason).toContain("data.object.id");
    expect(JSON.parse(row!.body).envelope.id).toBe("EVnoroute01");
  });
});

describe("POST /webhooks/openphone: refused, nothing queued", () => {
  /** A validly signed text whose envelope carries one field nested `depth` levels deep. */
  function nestedText(id: string, depth: number): string {
    const deep = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    return JSON.stringify(messageReceived(id)).replace('"text":"hi"', `"text":"hi","extra":${deep}`);
  }

  it("400 too_deep on a validly signed event nested 3,000 and 10,000 levels deep, counted", async () => {
    const { queued, postSigned } = intake();
    const before = await metric("webhook.too_deep");
    for (const depth of [3_000, 10_000]) {
      const response = await postSigned(nestedText(`EVdeep${depth}`, depth));
      expect(response.status).toBe(400);
      const body = await errorBody(response);
      expect(body).toMatchObject({ error: "bad_request", reason: "too_deep" });
      expect(body.message).toContain("deeper than 64 levels");
    }
    expect(queued).toEqual([]);
    await vi.waitFor(async () => expect(await metric("webhook.too_deep")).toBe(before + 2), { timeout: 20_000, interval: 100 });
  });

  it("accepts structure at the limit and brackets inside strings, which are text", async () => {
    const { queued, postSigned } = intake();
    // The envelope itself takes 3 levels (envelope, data, object) and the field 1 more each.
    const atLimit = await postSigned(nestedText("EVdeepok", 64 - 3));
    expect(atLimit.status).toBe(202);
    const brackets = messageReceived("EVbrackets");
    brackets.data.object.text = `${"[{".repeat(5_000)} \\" ]}`;
    const inString = await postSigned(brackets);
    expect(inString.status).toBe(202);
    expect(queued).toHaveLength(2);
    expect((queued[1] as WebhookMessage).envelope).toEqual(brackets);
  });

  it("401 on a bad signature, without echoing any key", async () => {
    const { queued, post } = intake();
    const body = JSON.stringify(messageReceived("EVbad0001"));
    const forged = await signOpenPhoneWebhook(body, btoa("an-attacker-guessed-key-000000001"), Date.now());
    const response = await post(body, { "openphone-signature": forged });
    const text = await response.text();
    expect(response.status).toBe(401);
    expect(JSON.parse(text)).toMatchObject({ error: "unauthorized", reason: "bad_signature" });
    for (const secret of [SIGNING_KEY, SECOND_KEY, QUO_SECRET]) expect(text).not.toContain(secret);
    expect(queued).toEqual([]);
  });

  it("401 on a tampered body", async () => {
    const { queued, post } = intake();
    const body = JSON.stringify(messageReceived("EVtamper01"));
    const signature = await signOpenPhoneWebhook(body, SIGNING_KEY, Date.now());
    const response = await post(body.replace('"hi"', '"bye"'), { "openphone-signature": signature });
    expect(response.status).toBe(401);
    expect(queued).toEqual([]);
  });

  it("401 on a stale or future timestamp", async () => {
    const { queued, postSigned } = intake();
    const stale = await postSigned(messageReceived("EVstale01"), Date.now() - 6 * 60_000);
    expect(stale.status).toBe(401);
    expect((await errorBody(stale)).reason).toBe("stale_timestamp");
    const future = await postSigned(messageReceived("EVfuture01"), Date.now() + 6 * 60_000);
    expect(future.status).toBe(401);
    expect((await errorBody(future)).reason).toBe("stale_timestamp");
    expect(queued).toEqual([]);
  });

  it("401 when no signing key is configured (fail closed), even for a correctly signed request", async () => {
    const { queued, postSigned } = intake({ OPENPHONE_WEBHOOK_KEYS: "", QUO_WEBHOOK_SECRETS: "" });
    const response = await postSigned(messageReceived("EVnokey01"));
    expect(response.status).toBe(401);
    const body = await errorBody(response);
    expect(body.reason).toBe("no_signing_key");
    expect(body.message).toContain("OPENPHONE_WEBHOOK_KEYS");
    expect(queued).toEqual([]);
  });

  it("401 without a signature header", async () => {
    const { queued, post } = intake();
    const response = await post(JSON.stringify(messageReceived("EVunsigned1")), { "content-type": "application/json" });
    expect(response.status).toBe(401);
    expect((await errorBody(response)).reason).toBe("missing_signature");
    expect(queued).toEqual([]);
  });

  it("413 on a 2 MB body, declared or streamed without a length", async () => {
    const { queued, post } = intake();
    const big = "x".repeat(2 * 1024 * 1024);
    const declared = await post(big, { "openphone-signature": await signOpenPhoneWebhook(big, SIGNING_KEY) });
    expect(declared.status).toBe(413);
    expect((await errorBody(declared)).reason).toBe("too_large");

    const chunk = new Uint8Array(64 * 1024).fill(120);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 2 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const streamed = await post(stream, { "openphone-signature": "hmac;1;1;AAAA" });
    expect(streamed.status).toBe(413);
    // Reading stopped soon after the limit instead of draining the whole body.
    expect(sent).toBeLessThan(2 * 1024 * 1024);
    expect(queued).toEqual([]);
  });

  it("400 with a clear message on malformed JSON or a body that is not an object", async () => {
    const { queued, postSigned } = intake();
    const malformed = await postSigned('{"id": "EVbroken", "type": ');
    expect(malformed.status).toBe(400);
    const malformedBody = await errorBody(malformed);
    expect(malformedBody.reason).toBe("malformed_json");
    expect(malformedBody.message).toMatch(/^The webhook body is not valid JSON: /);
    for (const [body, kind] of [["[1, 2]", "an array"], ["null", "null"], ['"text"', "a string"]] as const) {
      const response = await postSigned(body);
      expect(response.status).toBe(400);
      const json = await errorBody(response);
      expect(json.reason).toBe("not_an_object");
      expect(json.message).toContain(`not ${kind}`);
    }
    expect(queued).toEqual([]);
  });

  it("503 when the queue refuses, so the sender delivers again", async () => {
    const failing = { send: async () => Promise.reject(new Error("queue unavailable")) } as unknown as Queue;
    const { postSigned } = intake({ SYNC_QUEUE: failing });
    const response = await postSigned(messageReceived("EVqueue503"));
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("30");
  });
});

describe("intake counters", () => {
  it("counts received, verified and rejected requests in D1 metrics", async () => {
    const names = ["webhook.received", "webhook.verified", "webhook.rejected", "webhook.rejected.bad_signature", "webhook.enqueued"];
    const before = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await metric(n)] as const)));
    const { post, postSigned } = intake();
    await postSigned(messageReceived("EVcount01"));
    await postSigned(messageReceived("EVcount02"));
    await post("{}", { "openphone-signature": "hmac;1;" + Date.now() + ";" + btoa("x".repeat(32)) });
    // Counters are flushed in batches after the responses; a flush started by an earlier request may carry them.
    await vi.waitFor(
      async () => {
        const after = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await metric(n)] as const)));
        expect(after["webhook.received"]! - before["webhook.received"]!).toBe(3);
        expect(after["webhook.verified"]! - before["webhook.verified"]!).toBe(2);
        expect(after["webhook.enqueued"]! - before["webhook.enqueued"]!).toBe(2);
        expect(after["webhook.rejected"]! - before["webhook.rejected"]!).toBe(1);
        expect(after["webhook.rejected.bad_signature"]! - before["webhook.rejected.bad_signature"]!).toBe(1);
      },
      { timeout: 20_000, interval: 100 },
    );
  });
});

describe("a burst of webhooks", () => {
  it("queues each one and writes the counters of the whole burst in a few D1 round trips", async () => {
    let d1Batches = 0;
    const countingDb = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") {
          return (statements: D1PreparedStatement[]) => {
            d1Batches++;
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const { queued, postSigned } = intake({ DB: countingDb });
    const burst = 50;
    const started = performance.now();
    const responses = await Promise.all(Array.from({ length: burst }, (_, i) => postSigned(messageReceived(`EVburst${i}`, `PNburst${i % 5}`))));
    const elapsedMs = performance.now() - started;
    expect(responses.map((r) => r.status)).toEqual(Array(burst).fill(202));
    expect(new Set(queued.map((m) => (m as WebhookMessage).eventId)).size).toBe(burst);
    console.log(`intake: ${burst} signed webhooks in ${elapsedMs.toFixed(0)} ms including the counter flush; ${d1Batches} D1 batch(es) for their counters`);
    expect(d1Batches).toBeGreaterThanOrEqual(1);
    expect(d1Batches).toBeLessThanOrEqual(5);
  });
});

// Last in the file: requests through `exports.default` are not awaited by the test, so the counters they add are
// written on their own schedule and would blur the counts asserted above.
describe("the deployed Worker", () => {
  it("refuses through the deployed configuration too, which has no signing key", async () => {
    const body = JSON.stringify(messageReceived("EVdeployed1"));
    const response = await exports.default.fetch("http://worker/webhooks/openphone", {
      method: "POST",
      body,
      headers: { "openphone-signature": await signOpenPhoneWebhook(body, SIGNING_KEY) },
    });
    expect(response.status).toBe(401);
    expect((await errorBody(response)).reason).toBe("no_signing_key");
  });
});
