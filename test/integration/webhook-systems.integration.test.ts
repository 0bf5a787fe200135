/**
 * Both webhook systems through the intake and into a Line Durable Object: the intake queues what the object then
 * accepts (the same id, the same event), and one business event sent through both systems counts once.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { SyncMessage, WebhookMessage } from "../../src/queue/messages";
import { signOpenPhoneWebhook, signQuoWebhook } from "../../src/webhooks/signatures";
import { line as lineObject } from "./line-harness";

const SIGNING_KEY = btoa("systems-test-signing-key-000001");
const QUO_SECRET = `whsec_${btoa("systems-test-quo-secret-00001")}`;

function intake() {
  const queued: SyncMessage[] = [];
  const queue = { send: async (body: SyncMessage) => void queued.push(body), sendBatch: async () => undefined } as unknown as Queue;
  const testEnv = { ...env, OPENPHONE_API_KEY: "op-key", NOTION_TOKEN: "ntn", OPENPHONE_WEBHOOK_KEYS: SIGNING_KEY, QUO_WEBHOOK_SECRETS: QUO_SECRET, SYNC_QUEUE: queue } as Env;
  async function post(body: string, headers: Record<string, string>) {
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request("http://worker/webhooks/openphone", { method: "POST", body, headers: { "content-type": "application/json", ...headers } }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }
  return {
    queued,
    postLegacy: async (envelope: unknown) => {
      const body = JSON.stringify(envelope);
      return post(body, { "openphone-signature": await signOpenPhoneWebhook(body, SIGNING_KEY, Date.now()) });
    },
    postQuo: async (envelope: unknown, options: { secret?: string; at?: number; signature?: string } = {}) => {
      const body = JSON.stringify(envelope);
      const headers = await signQuoWebhook(body, options.secret ?? QUO_SECRET, `msg_${crypto.randomUUID().replace(/-/g, "")}`, Math.floor((options.at ?? Date.now()) / 1000));
      return post(body, options.signature === undefined ? headers : { ...headers, "webhook-signature": options.signature });
    },
  };
}

const line = "PNsystems01";
const quoCompleted = (callId: string, id: string | null = `EVq${callId}`) => ({
  ...(id === null ? {} : { id }),
  apiVersion: "2026-03-30",
  createdAt: "2026-04-13T12:00:55.000Z",
  type: "call.completed",
  data: {
    resource: { id: callId, direction: "incoming", status: "answered", createdAt: "2026-04-13T12:00:00.000Z", answeredAt: "2026-04-13T12:00:03.000Z", completedAt: "2026-04-13T12:00:55.000Z", duration: 52, hasVoicemail: false },
    context: { orgId: "OR1", phoneNumberId: line, userId: "US1", contacts: { ids: [], lookupStatus: "none" }, participants: { workspace: ["+15555550100"], external: ["+15555550199"], resolution: "available" } },
    links: { quo: null },
  },
});
const legacyCompleted = (callId: string, id: string | null = `EVv${callId}`) => ({
  ...(id === null ? {} : { id }),
  object: "event",
  apiVersion: "v4",
  createdAt: "2026-04-13T12:00:56.000Z",
  type: "call.completed",
  data: { object: { id: callId, object: "call", direction: "incoming", status: "completed", phoneNumberId: line, participants: ["+15555550199"], userId: "US1", createdAt: "2026-04-13T12:00:00.000Z", answeredAt: "2026-04-13T12:00:03.000Z", completedAt: "2026-04-13T12:00:55.000Z", duration: 52 } },
});

async function deadLetter(eventId: string) {
  return env.DB.prepare("SELECT queue, reason FROM dead_letters WHERE body LIKE ?1").bind(`%${eventId}%`).first<{ queue: string; reason: string }>();
}

describe("two webhook systems, one event model", () => {
  it("syncs a 2026-03-30 event: the intake queues it for its line and the Line Durable Object accepts it", async () => {
    const { queued, postQuo } = intake();
    expect((await postQuo(quoCompleted("ACsys0001"))).status).toBe(202);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ lineId: line, eventId: "EVqACsys0001", eventType: "call.completed" });
    const stub = lineObject(line);
    const result = await stub.ingest(queued);
    expect(result).toMatchObject({ accepted: 1, duplicates: 0, outcomes: [{ status: "done" }] });
    expect(await stub.resource("ACsys0001")).toMatchObject({ kind: "call", dirty: true, failedReason: null });
  });

  it("counts one call event once when it arrives through both systems, in either order", async () => {
    const { queued, postQuo, postLegacy } = intake();
    await postQuo(quoCompleted("ACsys0002"));
    await postLegacy(legacyCompleted("ACsys0002"));
    await postLegacy(legacyCompleted("ACsys0003"));
    await postQuo(quoCompleted("ACsys0003"));
    expect(queued).toHaveLength(4);
    const stub = lineObject(line);
    const result = await stub.ingest(queued);
    expect(result).toMatchObject({ accepted: 2, duplicates: 2 });
    // A redelivery of the second system's copy is still the duplicate it was.
    expect(await stub.ingest([queued[1]!])).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it("keys an id-less envelope the same on both sides, in either system", async () => {
    const { queued, postQuo, postLegacy } = intake();
    await postQuo(quoCompleted("ACsys0004", null));
    await postLegacy(legacyCompleted("ACsys0005", null));
    expect(queued.map((m) => (m as WebhookMessage).eventId)).toEqual([expect.stringMatching(/^sha256:/), expect.stringMatching(/^sha256:/)]);
    const stub = lineObject(line);
    expect(await stub.ingest(queued)).toMatchObject({ accepted: 2, outcomes: [{ status: "done" }, { status: "done" }] });
  });

  it("keeps an envelope of an unknown apiVersion in D1, answers 202 and queues nothing; the Durable Object refuses it too", async () => {
    const { queued, postQuo } = intake();
    const envelope = { ...quoCompleted("ACsys0006", "EVunknownversion01"), apiVersion: "2031-01-01" };
    const response = await postQuo(envelope);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ accepted: true, deadLettered: expect.stringContaining("2031-01-01") });
    expect(queued).toEqual([]);
    expect(await deadLetter("EVunknownversion01")).toMatchObject({ queue: "webhooks", reason: expect.stringContaining("apiVersion 2031-01-01") });
    const stub = lineObject(line);
    const message: WebhookMessage = { type: "webhook", lineId: line, eventId: "EVunknownversion01", eventType: "call.completed", receivedAt: Date.now(), envelope };
    expect((await stub.ingest([message])).outcomes).toEqual([{ status: "failed", reason: expect.stringContaining("2031-01-01") }]);
  });

  it("dead-letters a known type whose resource lacks its id, with the reason", async () => {
    const { queued, postQuo } = intake();
    const envelope = quoCompleted("ACsys0007", "EVnoresourceid01");
    delete (envelope.data.resource as { id?: string }).id;
    expect((await postQuo(envelope)).status).toBe(202);
    expect(queued).toEqual([]);
    expect((await deadLetter("EVnoresourceid01"))?.reason).toContain("data.resource.id");
  });

  it("401 and nothing queued on a wrong or missing signature, a stale timestamp or a secret not configured", async () => {
    const { queued, postQuo } = intake();
    const envelope = quoCompleted("ACsys0008");
    expect((await postQuo(envelope, { signature: "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" })).status).toBe(401);
    expect((await postQuo(envelope, { at: Date.now() - 6 * 60_000 })).status).toBe(401);
    expect((await postQuo(envelope, { secret: `whsec_${btoa("a-secret-nobody-configured-01")}` })).status).toBe(401);
    expect((await postQuo(envelope, { signature: "" })).status).toBe(401);
    expect(queued).toEqual([]);
  });
});
