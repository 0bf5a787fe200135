import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { SyncMessage, WebhookMessage } from "../../src/queue/messages";

function callEvent(eventId: string, callId: string, lineId: string): WebhookMessage {
  return {
    type: "webhook",
    lineId,
    eventId,
    eventType: "call.completed",
    receivedAt: Date.now(),
    envelope: { id: eventId, type: "call.completed", data: { object: { id: callId, object: "call", phoneNumberId: lineId, direction: "incoming", status: "completed", participants: ["+15550100"] } } },
  };
}

/** The real Line namespace, except that one line's object fails every ingest (as when it is being reset). */
function lineNamespaceFailingFor(brokenLine: string): DurableObjectNamespace {
  return {
    idFromName: (name: string) => env.LINE.idFromName(name),
    get: (id: DurableObjectId) =>
      id.equals(env.LINE.idFromName(brokenLine))
        ? {
            ingest: async () => {
              throw new Error("the line object is unavailable");
            },
          }
        : env.LINE.get(id),
  } as unknown as DurableObjectNamespace;
}

describe("the queue consumer when a line's ingest throws", () => {
  it("retries that line's messages, acks the other line's, and files no dead letter", async () => {
    const batch = createMessageBatch<SyncMessage>("sync-events", [
      { id: "broken1", timestamp: new Date(), attempts: 3, body: callEvent("EVretry1", "ACretry1", "PNretrybroken") },
      { id: "broken2", timestamp: new Date(), attempts: 3, body: callEvent("EVretry2", "ACretry2", "PNretrybroken") },
      { id: "fine1", timestamp: new Date(), attempts: 1, body: callEvent("EVretry3", "ACretry3", "PNretryfine") },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, LINE: lineNamespaceFailingFor("PNretrybroken") } as unknown as Env, ctx);
    const result = (await getQueueResult(batch, ctx)) as { explicitAcks: string[]; retryMessages: { msgId: string }[] };

    expect(result.explicitAcks).toEqual(["fine1"]);
    expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual(["broken1", "broken2"]);
    expect(await env.LINE.get(env.LINE.idFromName("PNretryfine")).pendingEvents()).toBe(1);
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE message_id IN ('broken1', 'broken2')").first<{ n: number }>())!;
    expect(n).toBe(0);
  });
});
