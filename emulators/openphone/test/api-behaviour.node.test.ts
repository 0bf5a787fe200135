/**
 * What a client of the API notices beyond the schemas: the key, the rate limit, pagination and date filters, the
 * start-up workspace made of the shared roster, the counters, and bad input to the control API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateRoster, SANDBOX_ROSTER_SIZE, SANDBOX_SEED } from "../../shared/roster.ts";
import { query, startHarness, TEST_KEY, type Harness } from "./harness.ts";

interface Page<T> {
  data: T[];
  totalItems: number;
  nextPageToken: string | null;
}

describe("OpenPhone emulator API", () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness?.running.close());

  it("answers 401 with the error envelope without the key, with a wrong key and with a Bearer prefix", async () => {
    for (const key of [null, "wrong", `Bearer ${TEST_KEY}`]) {
      const response = await harness.api("/v1/phone-numbers", { key });
      expect(response.status).toBe(401);
      const body = (await response.json()) as { code: string; status: number; title: string };
      expect(body).toMatchObject({ code: "0400401", status: 401, title: "Unauthorized" });
    }
    expect((await harness.api("/v1/phone-numbers")).status).toBe(200);
  });

  it("answers 400 for GET /v1/calls without participants, naming the parameter", async () => {
    const { phoneNumbers } = harness.running.emulator.store.workspace;
    const response = await harness.api(`/v1/calls${query({ phoneNumberId: phoneNumbers[0]!.id, maxResults: 10 })}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { path: string }[] };
    expect(body.errors.map((e) => e.path)).toContain("query.participants");
  });

  it("starts with a workspace: lines, users and the shared roster as contacts", async () => {
    const lines = (await (await harness.api("/v1/phone-numbers")).json()) as { data: { id: string; number: string }[] };
    expect(lines.data.length).toBe(3);
    expect(lines.data.every((l) => l.id.startsWith("PN"))).toBe(true);
    const contacts: { defaultFields: { phoneNumbers: { value: string }[] } }[] = [];
    let pageToken: string | undefined;
    do {
      const page = (await (await harness.api(`/v1/contacts${query({ maxResults: 15, pageToken })}`)).json()) as Page<(typeof contacts)[number]>;
      contacts.push(...page.data);
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
    const roster = generateRoster(SANDBOX_SEED, SANDBOX_ROSTER_SIZE);
    expect(contacts.length).toBe(roster.length);
    expect(contacts.map((c) => c.defaultFields.phoneNumbers[0]!.value)).toEqual(roster.map((p) => p.phone));
  });

  it("pages through calls with pageToken, without repeats or gaps, and filters by createdAfter/createdBefore", async () => {
    const { emulator } = harness.running;
    const line = emulator.store.workspace.phoneNumbers[0]!;
    const participant = "+13125550123";
    for (let i = 0; i < 23; i++) emulator.createCall({ phoneNumberId: line.id, participant, ringing: false });
    const seen: { id: string; createdAt: string }[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = (await (await harness.api(`/v1/calls${query({ phoneNumberId: line.id, participants: [participant], maxResults: 10, pageToken })}`)).json()) as Page<{ id: string; createdAt: string }>;
      seen.push(...page.data);
      pageToken = page.nextPageToken ?? undefined;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(new Set(seen.map((c) => c.id)).size).toBe(23);
    const middle = [...seen].sort((a, b) => a.createdAt.localeCompare(b.createdAt))[11]!.createdAt;
    const after = (await (await harness.api(`/v1/calls${query({ phoneNumberId: line.id, participants: [participant], maxResults: 100, createdAfter: middle })}`)).json()) as Page<{ createdAt: string }>;
    expect(after.data.every((c) => c.createdAt > middle)).toBe(true);
    expect(after.data.length).toBe(seen.filter((c) => c.createdAt > middle).length);
    const bad = await harness.api(`/v1/calls${query({ phoneNumberId: line.id, participants: [participant], maxResults: 10, pageToken: "garbage" })}`);
    expect(bad.status).toBe(400);
  });

  it("answers 429 with Retry-After on the 11th request within one second, then serves the next second", async () => {
    const { emulator } = harness.running;
    emulator.updateConfig({ rateLimitPerSecond: 10 });
    try {
      // A burst of 11 sent together just after a window starts; on a busy machine a burst can straddle two windows,
      // so it is tried again until one lands in a single second.
      let burst: { status: number; retryAfter: string | null; body: unknown }[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
        burst = await Promise.all(
          Array.from({ length: 11 }, async () => {
            const response = await harness.api("/v1/phone-numbers");
            return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() };
          }),
        );
        if (burst.some((r) => r.status === 429)) break;
      }
      expect(burst.filter((r) => r.status === 200)).toHaveLength(10);
      const limited = burst.filter((r) => r.status === 429);
      expect(limited).toHaveLength(1);
      expect(limited[0]!.body).toMatchObject({ status: 429, title: "Too Many Requests" });
      expect(Number(limited[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
      expect((await harness.api("/v1/phone-numbers")).status).toBe(200);
      // The control API is neither limited nor counted.
      for (let i = 0; i < 15; i++) await harness.control("GET", "/_emulator/stats");
    } finally {
      emulator.updateConfig({ rateLimitPerSecond: 0 });
    }
  });

  it("counts requests by operation and status", async () => {
    await harness.control("POST", "/_emulator/reset");
    harness.running.emulator.updateConfig({ rateLimitPerSecond: 0 });
    await harness.api("/v1/phone-numbers");
    await harness.api("/v1/phone-numbers", { key: null });
    await harness.api("/v1/users?maxResults=5");
    const stats = await harness.control<{ requests: { total: number; byOperation: Record<string, number>; byStatus: Record<string, number> } }>("GET", "/_emulator/stats");
    expect(stats.requests).toEqual({ total: 3, byOperation: { listPhoneNumbers_v1: 2, listUsers_v1: 1 }, byStatus: { "200": 2, "401": 1 } });
  });

  it("gives bad control input the error envelope, never a crash", async () => {
    const broken = await fetch(`${harness.url}/_emulator/calls`, { method: "POST", body: "{not json" });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ status: 400, title: "Bad Request" });
    const wrongField = await fetch(`${harness.url}/_emulator/config`, { method: "PUT", body: JSON.stringify({ timeFactor: -1 }) });
    expect(wrongField.status).toBe(400);
    expect(((await wrongField.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe("body.timeFactor");
    const unknown = await fetch(`${harness.url}/_emulator/nothing`);
    expect(unknown.status).toBe(404);
    const unknownApi = await harness.api("/v2/calls");
    expect(unknownApi.status).toBe(404);
    expect(await unknownApi.json()).toMatchObject({ status: 404, title: "Not Found" });
    expect((await fetch(`${harness.url}/_emulator/stats`)).status).toBe(200);
  });

  it("seeds deterministic history: the same seed gives the same ids", async () => {
    const body = { seed: 11, days: 3, callsPerDay: 4, messagesPerDay: 5, now: "2026-01-15T12:00:00.000Z" };
    await harness.control("POST", "/_emulator/reset");
    const first = await harness.control<{ counts: Record<string, number>; callIds: string[]; messageIds: string[] }>("POST", "/_emulator/seed", body);
    await harness.control("POST", "/_emulator/reset");
    const second = await harness.control<typeof first>("POST", "/_emulator/seed", body);
    expect(first.counts).toEqual({ lines: 3, contacts: SANDBOX_ROSTER_SIZE, calls: 12, messages: 15 });
    expect(second.callIds).toEqual(first.callIds);
    expect(second.messageIds).toEqual(first.messageIds);
    const call = (await (await harness.api(`/v1/calls/${first.callIds[0]}`)).json()) as { data: { participants: string[] } };
    expect(call.data.participants.length).toBe(2);
  });

  it("draws most participants from the shared roster and some from unknown numbers", async () => {
    await harness.control("POST", "/_emulator/reset");
    await harness.control("POST", "/_emulator/seed", { seed: 3, days: 5, callsPerDay: 20, messagesPerDay: 0 });
    const { store } = harness.running.emulator;
    const lines = new Set(store.workspace.phoneNumbers.map((p) => p.number));
    const roster = new Set(generateRoster(SANDBOX_SEED, SANDBOX_ROSTER_SIZE).map((p) => p.phone));
    const externals = [...store.calls.values()].map((r) => r.call.participants.find((p) => !lines.has(p))!);
    const known = externals.filter((n) => roster.has(n)).length / externals.length;
    console.log(`participants from the roster: ${(known * 100).toFixed(0)} % of ${externals.length} calls`);
    expect(known).toBeGreaterThan(0.7);
    expect(known).toBeLessThan(1);
  });

  it("injects latency and server errors when configured", async () => {
    await harness.control("PUT", "/_emulator/config", { latencyMs: 150, errorRate: 1 });
    try {
      // How long the delayed answer takes is measured by `npm run bench` (scripts/lib/emulator-latency.ts), not here.
      const response = await harness.api("/v1/phone-numbers");
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ status: 500, code: "0401500", title: "Unknown" });
    } finally {
      await harness.control("PUT", "/_emulator/config", { latencyMs: 0, errorRate: 0 });
    }
  });

  it("lists a recording as processing while OpenPhone holds it back, and with its URL once the call is made ready", async () => {
    await harness.control("PUT", "/_emulator/config", { eventGapsMs: { recording: 3_600_000 } });
    try {
      const { callId } = await harness.control<{ callId: string }>("POST", "/_emulator/calls", { status: "completed", durationSeconds: 60, recording: { segments: 1 } });
      const before = (await (await harness.api(`/v1/call-recordings/${callId}`)).json()) as { data: { status: string; url: string | null }[] };
      expect(before.data).toEqual([expect.objectContaining({ status: "processing", url: null })]);
      expect(await harness.control("POST", `/_emulator/calls/${callId}/ready`)).toMatchObject({ callId });
      const after = (await (await harness.api(`/v1/call-recordings/${callId}`)).json()) as { data: { status: string; url: string | null }[] };
      expect(after.data).toEqual([expect.objectContaining({ status: "completed", url: expect.stringContaining("/media/") })]);
      await expect(harness.control("POST", "/_emulator/calls/ACnosuchcall/ready")).rejects.toThrow(/404/);
    } finally {
      await harness.control("PUT", "/_emulator/config", { eventGapsMs: { recording: 5_000 } });
    }
  });

  it("makes a fresh workspace from another seed on reset, and adds past calls and texts as history without webhooks", async () => {
    const startUp = harness.running.emulator.store.workspace.phoneNumbers.map((p) => p.id);
    await harness.control("POST", "/_emulator/reset", { seed: 7, lines: 2 });
    try {
      const lines = (await (await harness.api("/v1/phone-numbers")).json()) as { data: { id: string; number: string }[] };
      expect(lines.data).toHaveLength(2);
      expect(startUp).not.toContain(lines.data[0]!.id);
      const at = "2026-01-05T10:00:00.000Z";
      const call = await harness.control<{ callId: string; events: unknown[] }>("POST", "/_emulator/calls", { phoneNumberId: lines.data[0]!.id, participant: "+14155550111", status: "completed", durationSeconds: 30, at });
      expect(call.events).toEqual([]);
      const { data } = (await (await harness.api(`/v1/calls/${call.callId}`)).json()) as { data: { completedAt: string } };
      expect(data.completedAt).toBe(at);
      const text = await harness.control<{ messageId: string; events: unknown[] }>("POST", "/_emulator/messages", { phoneNumberId: lines.data[0]!.id, participant: "+14155550111", direction: "outgoing", status: "sent", at });
      expect(text.events).toEqual([]);
      const conversations = (await (await harness.api(`/v1/conversations${query({ phoneNumbers: [lines.data[0]!.id], maxResults: 10 })}`)).json()) as { data: { participants: string[]; lastActivityAt: string }[] };
      expect(conversations.data).toEqual([expect.objectContaining({ participants: ["+14155550111"], lastActivityAt: at })]);
      await expect(harness.control("POST", "/_emulator/reset", { seed: "seven" })).rejects.toThrow(/400/);
    } finally {
      await harness.control("POST", "/_emulator/reset");
    }
    expect(harness.running.emulator.store.workspace.phoneNumbers.map((p) => p.id)).toEqual(startUp);
  });

  it("gives out no call id twice, even after a reset to the start-up workspace", async () => {
    const call = async () => {
      const [line] = ((await (await harness.api("/v1/phone-numbers")).json()) as { data: { id: string }[] }).data;
      return (await harness.control<{ callId: string }>("POST", "/_emulator/calls", { phoneNumberId: line!.id, participant: "+14155550111", status: "completed", durationSeconds: 30 })).callId;
    };
    await harness.control("POST", "/_emulator/reset");
    const lines = harness.running.emulator.store.workspace.phoneNumbers.map((p) => p.id);
    const before = await call();
    await harness.control("POST", "/_emulator/reset");
    const after = await call();
    expect(harness.running.emulator.store.workspace.phoneNumbers.map((p) => p.id)).toEqual(lines);
    expect(after).not.toBe(before);
    expect((await harness.api(`/v1/calls/${before}`)).status).toBe(404);
    expect((await harness.api(`/v1/calls/${after}`)).status).toBe(200);
  });

  it("generates live traffic for the requested duration, then stops", async () => {
    await harness.control("POST", "/_emulator/reset");
    const started = await harness.control<{ until: string }>("POST", "/_emulator/traffic", { callsPerMinute: 600, messagesPerMinute: 600, durationSeconds: 1 });
    expect(Date.parse(started.until)).toBeGreaterThan(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    const { emulator } = harness.running;
    const calls = emulator.store.calls.size;
    const messages = emulator.store.messages.size;
    expect(calls).toBeGreaterThan(0);
    expect(messages).toBeGreaterThan(0);
    expect((await harness.control<{ running: boolean }>("GET", "/_emulator/traffic")).running).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emulator.store.calls.size).toBe(calls);
  });
});
