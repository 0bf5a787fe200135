import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { SyncMessage, WebhookMessage } from "../../src/queue/messages";

const LINE = "PNpoison01";

function text(n: number): WebhookMessage {
  const eventId = `EVpoison${String(n).padStart(3, "0")}`;
  return {
    type: "webhook",
    lineId: LINE,
    eventId,
    eventType: "message.received",
    receivedAt: Date.now(),
    envelope: {
      id: eventId,
      type: "message.received",
      createdAt: "2026-04-20T10:00:00.000Z",
      data: { object: { id: `ACpoison${n}`, object: "message", from: "+15555550100", to: ["+15555550101"], direction: "incoming", text: `text ${n}`, status: "received", phoneNumberId: LINE, createdAt: "2026-04-20T10:00:00.000Z" } },
    },
  };
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/**
 * The batch as the runtime would hand it over when one message's body fails to deserialise: reading `body` throws.
 * Everything else (ids, ack, retry, the recorded outcome) is the real test batch.
 */
function withUnreadableBody<T>(batch: MessageBatch<T>, id: string): MessageBatch<T> {
  const pass = (target: object, prop: string | symbol) => {
    const value = Reflect.get(target, prop, target);
    return typeof value === "function" ? value.bind(target) : value;
  };
  const messages = batch.messages.map((m) =>
    m.id !== id
      ? m
      : new Proxy(m, {
          get(target, prop) {
            if (prop === "body") throw new RangeError("Maximum call stack size exceeded");
            return pass(target, prop);
          },
        }),
  );
  return new Proxy(batch, { get: (target, prop) => (prop === "messages" ? messages : pass(target, prop)) });
}

interface QueueResult {
  ackAll: boolean;
  explicitAcks: string[];
  retryMessages: { msgId: string }[];
}

async function deadLetter(messageId: string) {
  return env.DB.prepare("SELECT queue, reason, body FROM dead_letters WHERE message_id = ?1").bind(messageId).first<{ queue: string; reason: string; body: string }>();
}

describe("poison messages on sync-events", () => {
  it("processes 20 ordinary texts beside an unreadable body and a body nested 1,000 deep, and records both poisons", async () => {
    const messages = Array.from({ length: 20 }, (_, i) => ({ id: `t${i}`, timestamp: new Date(), attempts: 1, body: text(i) as SyncMessage }));
    messages.splice(7, 0, { id: "poison-unreadable", timestamp: new Date(), attempts: 1, body: text(900) });
    messages.splice(13, 0, { id: "poison-deep", timestamp: new Date(), attempts: 1, body: { ...text(901), envelope: nested(1_000) } });
    const batch = withUnreadableBody(createMessageBatch<SyncMessage>("sync-events", messages), "poison-unreadable");
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = (await getQueueResult(batch, ctx)) as QueueResult;

    expect(result.retryMessages).toEqual([]);
    expect([...result.explicitAcks].sort()).toEqual(messages.map((m) => m.id).sort());
    const line = env.LINE.get(env.LINE.idFromName(LINE));
    for (let i = 0; i < 20; i++) expect(await line.resource(`ACpoison${i}`), `text ${i}`).toMatchObject({ kind: "message" });
    expect(await line.resource("ACpoison900")).toBeUndefined();

    const unreadable = await deadLetter("poison-unreadable");
    expect(unreadable?.queue).toBe("sync-events");
    expect(unreadable?.reason).toContain("the message body cannot be read: RangeError: Maximum call stack size exceeded");
    const deep = await deadLetter("poison-deep");
    expect(deep?.reason).toContain("nests deeper than 68 levels");
  });
});

describe("poison messages on the dead-letter queue", () => {
  it("records every message, the unreadable one with its reason and id, and acks them all", async () => {
    const messages = [0, 1].map((i) => ({ id: `dlq${i}`, timestamp: new Date(), attempts: 1, body: text(100 + i) as SyncMessage }));
    messages.push({ id: "dlq-unreadable", timestamp: new Date(), attempts: 1, body: text(102) });
    const batch = withUnreadableBody(createMessageBatch<SyncMessage>("sync-events-dlq", messages), "dlq-unreadable");
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = (await getQueueResult(batch, ctx)) as QueueResult;

    expect(result.retryMessages).toEqual([]);
    expect(result.ackAll).toBe(true);
    expect(JSON.parse((await deadLetter("dlq0"))!.body).eventId).toBe("EVpoison100");
    const unreadable = await deadLetter("dlq-unreadable");
    expect(unreadable?.queue).toBe("sync-events-dlq");
    expect(unreadable?.reason).toBe("exhausted its retries on sync-events; the message body cannot be read: RangeError: Maximum call stack size exceeded");
    expect(unreadable?.body).toBe("null");
  });

  it("records message by message when D1 refuses the batch as a whole, and acks each one recorded", async () => {
    const messages = [0, 1, 2].map((i) => ({ id: `dlqone${i}`, timestamp: new Date(), attempts: 1, body: text(200 + i) as SyncMessage }));
    const batch = createMessageBatch<SyncMessage>("sync-events-dlq", messages);
    // D1 refusing a multi-row batch (too large, a constraint) while single rows still go in.
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") return (statements: D1PreparedStatement[]) => (statements.length > 1 ? Promise.reject(new Error("D1_ERROR: batch refused")) : target.batch(statements));
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, DB: db } as Env, ctx);
    const result = (await getQueueResult(batch, ctx)) as QueueResult;
    expect(result.retryMessages).toEqual([]);
    expect([...result.explicitAcks].sort()).toEqual(["dlqone0", "dlqone1", "dlqone2"]);
    for (const m of messages) expect((await deadLetter(m.id))?.reason).toBe("exhausted its retries on sync-events");
  });
});
