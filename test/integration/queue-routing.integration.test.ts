import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { SyncMessage, WebhookMessage } from "../../src/queue/messages";

function summaryEvent(eventId: string, callId: string, lineId: string): WebhookMessage {
  return {
    type: "webhook",
    lineId,
    eventId,
    eventType: "call.summary.completed",
    receivedAt: Date.now(),
    envelope: { id: eventId, type: "call.summary.completed", data: { object: { object: "callSummary", callId, summary: ["Talked"], nextSteps: [] } } },
  };
}

describe("routing events that do not name their line", () => {
  it("sends a summary keyed by its call to the line the call's other events went to", async () => {
    await env.DB.prepare("INSERT INTO webhook_routes (resource_id, phone_number_id, first_seen_at) VALUES ('ACrouted1', 'PNroutedline', 1)").run();
    const batch = createMessageBatch<SyncMessage>("sync-events", [{ id: "r1", timestamp: new Date(), attempts: 1, body: summaryEvent("EVsum1", "ACrouted1", "call:ACrouted1") }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = (await getQueueResult(batch, ctx)) as { explicitAcks: string[] };
    expect(result.explicitAcks).toEqual(["r1"]);
    const line = env.LINE.get(env.LINE.idFromName("PNroutedline"));
    const orphan = env.LINE.get(env.LINE.idFromName("call:ACrouted1"));
    expect(await line.pendingEvents()).toBe(1);
    expect(await orphan.pendingEvents()).toBe(0);
  });

  it("retries the event when the call's line cannot be learnt yet", async () => {
    const batch = createMessageBatch<SyncMessage>("sync-events", [{ id: "r2", timestamp: new Date(), attempts: 1, body: summaryEvent("EVsum2", "ACunknown2", "call:ACunknown2") }]);
    const ctx = createExecutionContext();
    // Nothing answers at this OpenPhone address, so the lookup fails for now and the event must come back later.
    await worker.queue(batch, { ...env, OPENPHONE_API_BASE: "http://127.0.0.1:9" } as unknown as Env, ctx);
    const result = (await getQueueResult(batch, ctx)) as { explicitAcks: string[]; retryMessages: { msgId: string }[] };
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["r2"]);
  });
});
