import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { recordDeadLetters } from "../../src/db/dead-letters";
import type { SyncMessage, WebhookMessage } from "../../src/queue/messages";

const ADMIN_TOKEN = "admin-token-for-tests-VALUE-0123456789";
const secrets = {
  OPENPHONE_API_KEY: "sandbox-openphone-key-VALUE",
  NOTION_TOKEN: "sandbox-notion-token-VALUE",
  ADMIN_TOKEN,
  NOTION_CALLS_DATABASE_ID: "0123456789abcdef0123456789abcdef",
  NOTION_MESSAGES_DATABASE_ID: "fedcba9876543210fedcba9876543210",
  OPENPHONE_WEBHOOK_KEYS: "ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=",
  MEDIA_SIGNING_KEYS: "media-signing-key-VALUE-0001",
};

/** The Worker with a queue that records every `sendBatch` call. */
function admin(overrides: Record<string, unknown> = {}) {
  const batches: SyncMessage[][] = [];
  const queue = {
    send: async () => {
      throw new Error("the admin API sends in batches");
    },
    sendBatch: async (messages: Iterable<{ body: SyncMessage }>) => {
      batches.push([...messages].map((m) => m.body));
    },
  } as unknown as Queue;
  const testEnv = { ...env, ...secrets, SYNC_QUEUE: queue, ...overrides } as Env;
  async function call(method: string, path: string, options: { token?: string | null; body?: string } = {}) {
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request(`http://worker${path}`, { method, headers, body: options.body }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }
  return { batches, call };
}

function failedEvent(eventId: string): WebhookMessage {
  return {
    type: "webhook",
    lineId: "PNadmin0001",
    eventId,
    eventType: "call.completed",
    receivedAt: 1_700_000_000_000,
    envelope: { id: eventId, type: "call.completed", data: { object: { id: `AC${eventId}`, phoneNumberId: "PNadmin0001", status: "completed" } } },
  };
}

async function openDeadLetterIds(): Promise<number[]> {
  const { results } = await env.DB.prepare("SELECT id FROM dead_letters WHERE replayed_at IS NULL ORDER BY id").all<{ id: number }>();
  return results.map((r) => r.id);
}

beforeEach(async () => {
  await env.DB.prepare("DELETE FROM dead_letters").run();
});

describe("admin authentication", () => {
  it("answers 503 when ADMIN_TOKEN is not configured, whatever is sent", async () => {
    const { call } = admin({ ADMIN_TOKEN: "" });
    const response = await call("GET", "/admin/stats");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: "admin_disabled" });
  });

  it("answers 401 without a token or with a wrong one, and never echoes the token", async () => {
    const { call, batches } = admin();
    const missing = await call("GET", "/admin/dead-letters", { token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("WWW-Authenticate")).toContain("Bearer");
    const wrong = await call("POST", "/admin/dead-letters/replay", { token: `${ADMIN_TOKEN}x` });
    const text = await wrong.text();
    expect(wrong.status).toBe(401);
    expect(text).not.toContain(ADMIN_TOKEN);
    const basic = await call("GET", "/admin/stats", { token: null });
    expect(basic.status).toBe(401);
    expect(batches).toEqual([]);
  });

  it("protects routes that do not exist too", async () => {
    const { call } = admin();
    expect((await call("GET", "/admin/nothing-here", { token: null })).status).toBe(401);
    expect((await call("GET", "/admin/nothing-here")).status).toBe(404);
  });
});

describe("dead letters", () => {
  it("lists the open ones with their reason and property", async () => {
    await recordDeadLetters(env.DB, [
      { queue: "sync-events", resourceId: "ACEVdl1", body: failedEvent("EVdl1"), reason: "Notion 400: Status is not a property that exists", property: "Status", attempts: 1 },
      { queue: "sync-events-dlq", resourceId: "ACEVdl2", body: failedEvent("EVdl2"), reason: "exhausted its retries on sync-events", attempts: 10 },
    ]);
    const { call } = admin();
    const response = await call("GET", "/admin/dead-letters");
    expect(response.status).toBe(200);
    const body = await response.json<{ open: number; items: { item: string; kind: string; reason: string; property: string | null; events: { eventType: string; eventId: string }[] }[] }>();
    expect(body.open).toBe(2);
    expect(body.items.map((i) => [i.item, i.kind, i.property, i.events.map((e) => e.eventType)])).toEqual([
      ["ACEVdl1", "call", "Status", ["call.completed"]],
      ["ACEVdl2", "call", null, ["call.completed"]],
    ]);
    expect(body.items[0]!.reason).toContain("Status is not a property");
  });

  it("shows each call once with its events, however often they failed, and replays it whole", async () => {
    const event = (eventId: string, callId: string, eventType: string): WebhookMessage => ({ ...failedEvent(eventId), eventType, envelope: { id: eventId, type: eventType, data: { object: { id: callId } } } });
    const letter = (eventId: string, callId: string, eventType: string, reason: string) => ({ queue: "sync-events", resourceId: callId, body: event(eventId, callId, eventType), reason, property: "Summary", attempts: 0 });
    // Two calls, three events each; every flush of a call dead-letters all its events again.
    for (const round of [1, 2, 3]) {
      await recordDeadLetters(env.DB, [
        letter("EVg1", "ACgroup1", "call.completed", `Notion 400 (round ${round})`),
        letter("EVg2", "ACgroup1", "call.recording.completed", `Notion 400 (round ${round})`),
        letter("EVg3", "ACgroup1", "call.summary.completed", `Notion 400 (round ${round})`),
        letter("EVg4", "ACgroup2", "call.completed", `Notion 400 (round ${round})`),
        letter("EVg5", "ACgroup2", "call.transcript.completed", `Notion 400 (round ${round})`),
      ]);
    }
    const { call, batches } = admin();
    const listed = await (await call("GET", "/admin/dead-letters")).json<{ open: number; openLetters: number; items: { item: string; reason: string; events: { eventId: string; eventType: string }[] }[] }>();
    expect(listed).toMatchObject({ open: 2, openLetters: 5 });
    expect(listed.items.map((i) => [i.item, i.reason, i.events.map((e) => `${e.eventId} ${e.eventType}`)])).toEqual([
      ["ACgroup1", "Notion 400 (round 3)", ["EVg1 call.completed", "EVg2 call.recording.completed", "EVg3 call.summary.completed"]],
      ["ACgroup2", "Notion 400 (round 3)", ["EVg4 call.completed", "EVg5 call.transcript.completed"]],
    ]);

    const replay = await call("POST", "/admin/dead-letters/replay", { body: JSON.stringify({ items: ["ACgroup1", "ACnothing"] }) });
    expect(await replay.json()).toMatchObject({ replayed: 3, notFound: ["ACnothing"], remaining: 2 });
    expect(batches.map((b) => b.map((m) => (m as WebhookMessage).eventId))).toEqual([["EVg1", "EVg2", "EVg3"]]);
    const after = await (await call("GET", "/admin/dead-letters")).json<{ open: number; items: { item: string }[] }>();
    expect(after.items.map((i) => i.item)).toEqual(["ACgroup2"]);

    // The replayed call fails again: one new open letter per event, not one per past failure.
    await recordDeadLetters(env.DB, [letter("EVg1", "ACgroup1", "call.completed", "Notion 400 again")]);
    const again = await (await call("GET", "/admin/dead-letters")).json<{ items: { item: string; events: unknown[] }[] }>();
    expect(again.items.map((i) => [i.item, i.events.length])).toEqual([["ACgroup2", 2], ["ACgroup1", 1]]);
  });

  it("replays every open dead letter: the original bodies go back onto the queue and are marked replayed", async () => {
    const letters = ["EVr1", "EVr2", "EVr3"].map((id) => ({ queue: "sync-events", body: failedEvent(id), reason: "Notion 400", attempts: 1 }));
    await recordDeadLetters(env.DB, letters);
    const { call, batches } = admin();
    const response = await call("POST", "/admin/dead-letters/replay");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ replayed: 3, notFound: [], alreadyReplayed: [], remaining: 0 });
    expect(batches).toEqual([letters.map((l) => l.body)]);
    expect(await openDeadLetterIds()).toEqual([]);

    const again = await call("POST", "/admin/dead-letters/replay", { body: "{}" });
    expect(await again.json()).toMatchObject({ replayed: 0, remaining: 0 });
    expect(batches).toHaveLength(1);
  });

  it("replays chosen ids only and says which were missing or done already", async () => {
    await recordDeadLetters(
      env.DB,
      ["EVc1", "EVc2", "EVc3"].map((id) => ({ queue: "sync-events", body: failedEvent(id), reason: "Notion 400", attempts: 1 })),
    );
    const [first, second, third] = await openDeadLetterIds();
    const { call, batches } = admin();
    await call("POST", "/admin/dead-letters/replay", { body: JSON.stringify({ ids: [first] }) });
    const response = await call("POST", "/admin/dead-letters/replay", { body: JSON.stringify({ ids: [first, second, 999_999] }) });
    expect(await response.json()).toMatchObject({ replayed: 1, replayedIds: [second], notFound: [999_999], alreadyReplayed: [first], remaining: 1 });
    expect(batches.map((b) => b.map((m) => (m as WebhookMessage).eventId))).toEqual([["EVc1"], ["EVc2"]]);
    expect(await openDeadLetterIds()).toEqual([third]);
  });

  it("sends at most 100 messages per sendBatch", async () => {
    await recordDeadLetters(
      env.DB,
      Array.from({ length: 150 }, (_, i) => ({ queue: "sync-events", body: failedEvent(`EVmany${i}`), reason: "Notion 400", attempts: 1 })),
    );
    const { call, batches } = admin();
    const response = await call("POST", "/admin/dead-letters/replay");
    expect(await response.json()).toMatchObject({ replayed: 150, remaining: 0 });
    expect(batches.map((b) => b.length)).toEqual([100, 50]);
  });

  it("leaves the letters open and answers 503 when the queue refuses", async () => {
    await recordDeadLetters(env.DB, [{ queue: "sync-events", body: failedEvent("EVq1"), reason: "Notion 400", attempts: 1 }]);
    const failing = { sendBatch: async () => Promise.reject(new Error("queue unavailable")) } as unknown as Queue;
    const { call } = admin({ SYNC_QUEUE: failing });
    const response = await call("POST", "/admin/dead-letters/replay");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ replayed: 0, remaining: 1 });
    expect(await openDeadLetterIds()).toHaveLength(1);
  });

  it("answers 400 to a body that is not {ids: number[]}", async () => {
    const { call, batches } = admin();
    for (const body of ["not json", '{"ids": "all"}', '{"ids": [1.5]}', '{"everything": true}']) {
      const response = await call("POST", "/admin/dead-letters/replay", { body });
      expect(response.status, body).toBe(400);
    }
    expect(batches).toEqual([]);
  });
});

describe("stats", () => {
  it("reports today's syncs, the Canvas hit ratio, 24 h of counters, open dead letters and both gates", async () => {
    const now = Date.now();
    const hour = Math.floor(now / 3_600_000) * 3_600_000;
    await env.DB.batch([
      env.DB.prepare("INSERT INTO sync_history (resource_id, kind, outcome, notion_requests, latency_ms, at) VALUES ('ACs1', 'call', 'created', 1, 1200, ?1)").bind(now),
      env.DB.prepare("INSERT INTO metrics (name, bucket, value) VALUES ('stats.test.recent', ?1, 4), ('stats.test.old', ?2, 9)").bind(hour, hour - 3 * 86_400_000),
    ]);
    await recordDeadLetters(env.DB, [{ queue: "sync-events", body: failedEvent("EVs1"), reason: "Notion 400", attempts: 1 }]);
    const { call } = admin();
    const response = await call("GET", "/admin/stats");
    expect(response.status).toBe(200);
    const stats = await response.json<{
      today: { kind: string; outcome: string; syncs: number }[];
      canvas: { hit_ratio: number | null };
      metrics24h: Record<string, number>;
      deadLetters: { open: number };
      gates: Record<string, { configuredRate?: number; error?: string }>;
    }>();
    expect(stats.today).toContainEqual(expect.objectContaining({ kind: "call", outcome: "created", syncs: 1 }));
    expect(stats.canvas).toHaveProperty("hit_ratio");
    expect(stats.metrics24h["stats.test.recent"]).toBe(4);
    expect(stats.metrics24h).not.toHaveProperty("stats.test.old");
    expect(stats.deadLetters.open).toBe(1);
    expect(Object.keys(stats.gates).sort()).toEqual(["notion", "openphone"]);
    expect(typeof stats.gates.notion!.configuredRate).toBe("number");
  });
});
