import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { SyncMessage, WebhookMessage } from "../../src/queue/messages";

const secrets = {
  OPENPHONE_API_KEY: "sandbox-openphone-key-VALUE",
  NOTION_TOKEN: "sandbox-notion-token-VALUE",
  ADMIN_TOKEN: "sandbox-admin-token-VALUE",
  NOTION_CALLS_DATABASE_ID: "0123456789abcdef0123456789abcdef",
  NOTION_MESSAGES_DATABASE_ID: "fedcba9876543210fedcba9876543210",
  OPENPHONE_WEBHOOK_KEYS: "ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=",
  MEDIA_SIGNING_KEYS: "media-signing-key-VALUE-0001",
};

function webhook(eventId: string, lineId = "PNline0001"): WebhookMessage {
  return {
    type: "webhook",
    lineId,
    eventId,
    eventType: "message.received",
    receivedAt: Date.now(),
    envelope: { id: eventId, type: "message.received", data: { object: { id: `AC${eventId}`, phoneNumberId: lineId } } },
  };
}

describe("D1", () => {
  it("has the first migration's tables and views", async () => {
    const { results } = await env.DB.prepare("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name").all<{ name: string; type: string }>();
    const names = results.map((r) => r.name);
    for (const table of ["lines", "resources", "sync_history", "canvas_pages", "canvas_index", "metrics", "dead_letters", "backfill_runs"]) {
      expect(names).toContain(table);
    }
    expect(results.filter((r) => r.type === "view").map((r) => r.name)).toEqual(expect.arrayContaining(["canvas_hit_ratio", "sync_stats_today"]));
  });

  it("computes today's stats and the Canvas hit ratio from the views", async () => {
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO sync_history (resource_id, kind, outcome, notion_requests, latency_ms, at) VALUES ('AC1', 'call', 'created', 1, 1000, ?1)").bind(now),
      env.DB.prepare("INSERT INTO sync_history (resource_id, kind, outcome, notion_requests, latency_ms, at) VALUES ('AC2', 'call', 'created', 2, 3000, ?1)").bind(now),
      env.DB.prepare("INSERT INTO sync_history (resource_id, kind, outcome, notion_requests, latency_ms, at) VALUES ('AC3', 'call', 'created', 1, 1000, ?1)").bind(now - 3 * 86_400_000),
      env.DB.prepare("INSERT INTO metrics (name, bucket, value) VALUES ('canvas.lookup.memory', ?1, 6), ('canvas.lookup.d1', ?1, 2), ('canvas.lookup.notion', ?1, 2)").bind(Math.floor(now / 3_600_000) * 3_600_000),
    ]);
    const stats = await env.DB.prepare("SELECT * FROM sync_stats_today WHERE kind = 'call' AND outcome = 'created'").first<{ syncs: number; notion_requests: number; avg_latency_ms: number }>();
    expect(stats).toMatchObject({ syncs: 2, notion_requests: 3, avg_latency_ms: 2000 });
    const ratio = await env.DB.prepare("SELECT * FROM canvas_hit_ratio").first<{ hit_ratio: number; notion_lookups: number }>();
    expect(ratio).toMatchObject({ hit_ratio: 0.8, notion_lookups: 2 });
  });
});

describe("R2", () => {
  it("stores and returns an object with its metadata", async () => {
    const bytes = new Uint8Array(1024).map((_, i) => i % 251);
    await env.MEDIA.put("recordings/2026/01/02/ACx/CRy.mp3", bytes, { httpMetadata: { contentType: "audio/mpeg" }, customMetadata: { callId: "ACx" } });
    const object = await env.MEDIA.get("recordings/2026/01/02/ACx/CRy.mp3");
    expect(object?.size).toBe(1024);
    expect(object?.httpMetadata?.contentType).toBe("audio/mpeg");
    expect(object?.customMetadata).toEqual({ callId: "ACx" });
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(bytes);
  });
});

describe("Line Durable Object", () => {
  it("stores each event once over RPC and keeps them while the configuration is incomplete", async () => {
    const stub = env.LINE.get(env.LINE.idFromName("PNline0001"));
    const first = await stub.ingest([webhook("EV1"), webhook("EV2")]);
    expect(first).toMatchObject({ accepted: 2, duplicates: 0 });
    const again = await stub.ingest([webhook("EV1")]);
    expect(again).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await stub.pendingEvents()).toBe(2);
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now());
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // No Notion token or database ids in this runtime: nothing can be written, nothing is lost.
    expect(await stub.pendingEvents()).toBe(2);
  });
});

describe("Gate Durable Object", () => {
  it("spaces permits at the configured rate after the burst and pauses on a 429", async () => {
    const gate = env.GATE.get(env.GATE.idFromName("test-gate"));
    await gate.configure({ ratePerSecond: 4, burst: 2, breakerFailures: 2, breakerCooldownMs: 5000 });
    const waits = [];
    for (let i = 0; i < 4; i++) {
      const permit = await gate.acquire();
      expect(permit.ok).toBe(true);
      if (permit.ok) waits.push(permit.waitMs);
    }
    expect(waits[0]).toBe(0);
    expect(waits[1]).toBe(0);
    expect(waits[2]).toBeGreaterThan(150);
    expect(waits[3]).toBeGreaterThan(waits[2]! + 150);
    await gate.report({ outcome: "rate_limited", retryAfterMs: 400 });
    const paused = await gate.acquire();
    expect(paused.ok && paused.waitMs).toBeGreaterThanOrEqual(350);
    // One 429 is a burst edge: the rate stays. So do the 429s of requests that left before the pause began.
    expect((await gate.stats()).rate).toBe(4);
    await gate.report({ outcome: "rate_limited", retryAfterMs: 400 });
    expect((await gate.stats()).rate).toBe(4);
    // Another episode, after the pause, among so few permits means the rate is too high.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await gate.report({ outcome: "rate_limited", retryAfterMs: 400 });
    expect((await gate.stats()).rate).toBe(3);
  });

  it("keeps its rate through rare 429s among many permits, and slows down when they pass 0.5 %", async () => {
    const gate = env.GATE.get(env.GATE.idFromName("busy-gate"));
    const settings = { ratePerSecond: 1000, burst: 1000, breakerFailures: 5, breakerCooldownMs: 5000 };
    // A thousand permits of one request each, as the gated fetch asks for them, sent a hundred at a time.
    for (let sent = 0; sent < 1000; sent += 100) {
      const permits = await Promise.all(Array.from({ length: 100 }, () => gate.acquire(1, 60_000, settings)));
      expect(permits.every((permit) => permit.ok)).toBe(true);
    }
    expect((await gate.stats()).granted).toBe(1000);
    for (let i = 0; i < 5; i++) await gate.report({ outcome: "rate_limited", retryAfterMs: 0 });
    expect((await gate.stats()).rate).toBe(1000);
    await gate.report({ outcome: "rate_limited", retryAfterMs: 0 });
    expect((await gate.stats()).rate).toBe(750);
  });

  it("opens the breaker after consecutive failures", async () => {
    const gate = env.GATE.get(env.GATE.idFromName("breaker-gate"));
    await gate.configure({ ratePerSecond: 10, burst: 10, breakerFailures: 2, breakerCooldownMs: 5000 });
    await gate.report({ outcome: "failure" });
    expect((await gate.acquire()).ok).toBe(true);
    await gate.report({ outcome: "failure" });
    const refused = await gate.acquire();
    expect(refused).toMatchObject({ ok: false, reason: "circuit breaker open" });
  });
});

describe("queue consumer", () => {
  it("acks stored events and retries messages whose line cannot take them", async () => {
    const batch = createMessageBatch<SyncMessage>("sync-events", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: webhook("EVq1", "PNqueue1") },
      { id: "m2", timestamp: new Date(), attempts: 1, body: { type: "backfill", lineId: "PNqueue1", runId: "r1", job: {} } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = (await getQueueResult(batch, ctx)) as { explicitAcks: string[]; retryMessages: { msgId: string }[] };
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2"]);
    const dead = await env.DB.prepare("SELECT message_id, reason FROM dead_letters WHERE message_id = 'm2'").first<{ reason: string }>();
    expect(dead?.reason).toContain("malformed backfill job");
  });

  it("records dead-lettered messages with their reason", async () => {
    const batch = createMessageBatch<SyncMessage>("sync-events-dlq", [{ id: "d1", timestamp: new Date(), attempts: 1, body: webhook("EVdead") }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = (await getQueueResult(batch, ctx)) as { ackAll: boolean };
    expect(result.ackAll).toBe(true);
    const row = await env.DB.prepare("SELECT resource_id, reason FROM dead_letters WHERE message_id = 'd1'").first<{ resource_id: string; reason: string }>();
    expect(row).toEqual({ resource_id: "ACEVdead", reason: "exhausted its retries on sync-events" });
  });
});

describe("scheduled", () => {
  it("runs the cron handler", async () => {
    const controller = createScheduledController({ scheduledTime: new Date(), cron: "*/5 * * * *" });
    await worker.scheduled(controller, env, createExecutionContext());
    const row = await env.DB.prepare("SELECT SUM(value) AS n FROM metrics WHERE name = 'cron.frequent'").first<{ n: number }>();
    expect(row?.n).toBe(1);
  });
});

describe("/health", () => {
  it("answers 200 with component status when the configuration is complete", async () => {
    const response = await worker.fetch(new Request("http://worker/health"), { ...env, ...secrets }, createExecutionContext());
    const body = await response.json<{ status: string; components: Record<string, { ok: boolean }> }>();
    expect(response.status).toBe(200);
    expect(body.status).toBe("ok");
    expect(Object.keys(body.components).sort()).toEqual(["config", "d1", "lines", "notion_schema", "queue", "r2"]);
  });

  it("answers 503 naming a missing secret, without any secret value", async () => {
    const { NOTION_TOKEN: _, ...withoutNotion } = secrets;
    const response = await worker.fetch(new Request("http://worker/health"), { ...env, ...withoutNotion }, createExecutionContext());
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text).problems).toEqual([{ setting: "NOTION_TOKEN", problem: "missing" }]);
    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
  });

  it("answers 503 naming a malformed secret, without its value", async () => {
    const response = await worker.fetch(
      new Request("http://worker/health"),
      { ...env, ...secrets, OPENPHONE_WEBHOOK_KEYS: "not base64 !! key-VALUE" },
      createExecutionContext(),
    );
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text).problems[0].setting).toBe("OPENPHONE_WEBHOOK_KEYS");
    expect(text).not.toContain("key-VALUE");
    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
  });

  it("is served through the Worker's own fetch", async () => {
    const response = await exports.default.fetch("http://worker/health");
    expect([200, 503]).toContain(response.status);
  });
});
