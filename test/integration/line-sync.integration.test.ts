import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { WebhookMessage } from "../../src/queue/messages";
import type { MediaItem } from "../../src/media/plan";
import type { LineStorage } from "../../src/line/storage";
import { FAKE_APIS_URL, fakeApis, notionRequests, TEST_SETTINGS } from "./fake-apis";
import { flush, lineWithSettings } from "./line-harness";

const CALL = {
  id: "AC100",
  object: "call",
  direction: "incoming",
  participants: ["+12125550101"],
  phoneNumberId: "PNsync1",
  userId: "US1",
  createdAt: "2026-03-02T10:00:00.000Z",
};

function message(eventId: string, type: string, object: Record<string, unknown>, lineId = "PNsync1"): WebhookMessage {
  return { type: "webhook", lineId, eventId, eventType: type, receivedAt: Date.now(), envelope: { id: eventId, object: "event", apiVersion: "v4", createdAt: new Date().toISOString(), type, data: { object } } };
}

function callEvents(callId: string, lineId = "PNsync1"): WebhookMessage[] {
  const call = { ...CALL, id: callId, phoneNumberId: lineId };
  const completed = { ...call, status: "completed", answeredAt: "2026-03-02T10:00:04.000Z", answeredBy: "US1", completedAt: "2026-03-02T10:03:00.000Z", duration: 176 };
  return [
    message(`EV${callId}r`, "call.ringing", { ...call, status: "ringing", answeredAt: null, completedAt: null, duration: 0 }, lineId),
    message(`EV${callId}c`, "call.completed", completed, lineId),
    message(`EV${callId}rec`, "call.recording.completed", completed, lineId),
    message(`EV${callId}t`, "callTranscript", { callId, object: "callTranscript", status: "completed", dialogue: [{ content: "Hello, it's Ada", start: 1.2, end: 3, identifier: "+12125550101", userId: null }, { content: "Hi Ada", start: 4, end: 5, identifier: "+13055550100", userId: "US1" }] }, lineId),
    message(`EV${callId}s`, "call.summary.completed", { callId, object: "callSummary", status: "completed", summary: ["Ada asked for a quote."], nextSteps: ["Send the quote", "Call back Friday"] }, lineId),
  ];
}

const text = (value: unknown) => ((value as { rich_text?: { text: { content: string } }[]; title?: { text: { content: string } }[] }).rich_text ?? (value as { title: { text: { content: string } }[] }).title).map((r) => r.text.content).join("");

beforeEach(() => fakeApis.reset());

describe("Line Durable Object → Notion", () => {
  it("writes one complete page for a call whose events arrive shuffled and twice, in two Notion requests", async () => {
    const stub = await lineWithSettings("PNsync1");
    const events = callEvents("AC100");
    const shuffled = [events[3]!, events[1]!, events[4]!, events[0]!, events[2]!];
    const first = await stub.ingest([...shuffled, ...shuffled]);
    expect(first).toMatchObject({ accepted: 5, duplicates: 5 });
    expect(first.outcomes.every((o) => o.status === "done")).toBe(true);
    await flush(stub);

    const state = await fakeApis.state();
    expect(state.pages).toHaveLength(1);
    const page = state.pages[0]!;
    expect(page.parent).toEqual({ type: "data_source_id", data_source_id: "ds-0123456789abcdef0123456789abcdef" });
    expect(text(page.properties["Name"])).toBe("Incoming call from +12125550101 · 2m 56s");
    expect(text(page.properties["Call ID"])).toBe("AC100");
    expect(text(page.properties["User"])).toBe("Maya Rossi");
    expect(text(page.properties["Line"])).toBe("Sales (+13055550100)");
    expect(text(page.properties["Summary"])).toBe("Ada asked for a quote.");
    expect(page.properties["Transcript Status"]).toEqual({ select: { name: "completed" } });
    expect((page.properties["Recording"] as { url: string }).url).toMatch(/^https:\/\/sync\.test\/media\/recordings\/2026\/03\/02\/AC100\/CR1\.mp3\?sig=/);
    const body = JSON.stringify(page.children);
    expect(page.children.filter((b) => b.type === "to_do")).toHaveLength(2);
    expect(body).toContain("[00:01] +12125550101: Hello, it's Ada");
    expect(body).toContain("[00:04] Maya Rossi: Hi Ada");
    expect(page.children.some((b) => b.type === "audio")).toBe(true);
    // One data source lookup (cached from then on) and one create; copying the recording after it costs Notion nothing.
    expect(notionRequests(state).map((r) => `${r.method} ${r.path}`)).toEqual(["GET notion:/v1/databases/0123456789abcdef0123456789abcdef", "POST notion:/v1/pages"]);
    const stored = await env.MEDIA.get("recordings/2026/03/02/AC100/CR1.mp3");
    expect(await stored?.text()).toBe("fake recording AC100");

    const history = await env.DB.prepare("SELECT outcome, notion_requests, latency_ms FROM sync_history WHERE resource_id = 'AC100'").all<{ outcome: string; notion_requests: number; latency_ms: number }>();
    expect(history.results).toEqual([{ outcome: "created", notion_requests: 2, latency_ms: expect.any(Number) }]);
    const mirror = await env.DB.prepare("SELECT notion_page_id, participant FROM resources WHERE resource_id = 'AC100'").first();
    expect(mirror).toEqual({ notion_page_id: page.id, participant: "+12125550101" });

    // A late duplicate changes nothing and costs nothing.
    await stub.ingest([events[4]!]);
    await flush(stub);
    expect(notionRequests(await fakeApis.state())).toHaveLength(2);
  });

  it("updates only what changed when a text is delivered later", async () => {
    const stub = await lineWithSettings("PNsync2");
    const sms = { id: "AC200", object: "message", from: "+13055550100", to: "+12125550101", direction: "outgoing", text: "See you at 3", status: "sent", createdAt: "2026-03-02T11:00:00.000Z", userId: "US1", phoneNumberId: "PNsync2" };
    await stub.ingest([message("EV200a", "message.delivered", sms, "PNsync2")]);
    await flush(stub);
    await stub.ingest([message("EV200b", "message.delivered", { ...sms, status: "delivered" }, "PNsync2")]);
    await flush(stub);
    const state = await fakeApis.state();
    const writes = notionRequests(state).filter((r) => r.method !== "GET");
    expect(writes.map((r) => r.method)).toEqual(["POST", "PATCH"]);
    expect(Object.keys((writes[1]!.body as { properties: object }).properties).sort()).toEqual(["Status", "Synced At"]);
    const page = state.pages[0]!;
    expect(page.properties["Status"]).toEqual({ select: { name: "delivered" } });
    expect(text(page.properties["To"])).toBe("+12125550101");
  });

  it("finds the page instead of creating a second one when a create's outcome was unknown", async () => {
    const stub = await lineWithSettings("PNsync3");
    await fakeApis.configure({ createFaults: [{ status: 504, code: "gateway_timeout", message: "Gateway timed out", afterWrite: true }] });
    await stub.ingest(callEvents("AC300", "PNsync3"));
    await flush(stub);
    const record = await stub.resource("AC300");
    expect(record?.claim).toBe("creating");
    expect(record?.pageId).toBeNull();
    // The retry is due after a backoff; bring it forward.
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE resources SET due_at = 0"));
    await flush(stub);
    const state = await fakeApis.state();
    expect(state.pages).toHaveLength(1);
    expect((await stub.resource("AC300"))?.pageId).toBe(state.pages[0]!.id);
    expect(notionRequests(state).filter((r) => r.method === "POST" && r.path === "notion:/v1/pages")).toHaveLength(1);
  });

  it("dead-letters a Notion 400 with the property, shows it on /health, and completes after the fix and a replay", async () => {
    const stub = await lineWithSettings("PNsync4");
    const { CALL_PROPERTIES } = await import("../../src/notion/schema");
    await fakeApis.configure({ knownProperties: CALL_PROPERTIES.map((p) => p.name).filter((n) => n !== "Transcript Status") });
    const events = callEvents("AC400", "PNsync4");
    await stub.ingest(events);
    await flush(stub);
    expect((await fakeApis.state()).pages).toHaveLength(0);
    const letters = await env.DB.prepare("SELECT message_id, reason, property, body FROM dead_letters WHERE resource_id = 'AC400'").all<{ message_id: string; reason: string; property: string; body: string }>();
    expect(letters.results).toHaveLength(5);
    expect(letters.results[0]).toMatchObject({ property: "Transcript Status", reason: expect.stringContaining("Transcript Status is not a property that exists") });

    const health = await worker.fetch(new Request("http://worker/health"), { ...env, ...TEST_SETTINGS } as unknown as Env, createExecutionContext());
    expect(health.status).toBe(503);
    expect(await health.text()).toContain('property \\"Transcript Status\\"');

    // The user restores the property; replaying the dead letters sends the same events again.
    await fakeApis.configure({ knownProperties: null });
    const replayed = letters.results.map((l) => JSON.parse(l.body) as WebhookMessage);
    const result = await stub.ingest(replayed);
    expect(result.duplicates).toBe(5);
    await flush(stub);
    const pages = (await fakeApis.state()).pages;
    expect(pages).toHaveLength(1);
    expect(pages[0]!.properties["Transcript Status"]).toEqual({ select: { name: "completed" } });
    const healthAfter = await worker.fetch(new Request("http://worker/health"), { ...env, ...TEST_SETTINGS } as unknown as Env, createExecutionContext());
    expect(await healthAfter.text()).not.toContain("Transcript Status");
  });

  it("keeps the events and retries later when Notion answers 503 before writing", async () => {
    const stub = await lineWithSettings("PNsync5");
    await fakeApis.configure({ createFaults: [{ status: 503, code: "service_unavailable", message: "Service unavailable" }, { status: 429, code: "rate_limited", message: "Slow down" }] });
    await stub.ingest(callEvents("AC500", "PNsync5"));
    await flush(stub);
    expect(await stub.pendingEvents()).toBe(5);
    const dead = await env.DB.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE resource_id = 'AC500'").first<{ n: number }>();
    expect(dead?.n).toBe(0);
    for (let i = 0; i < 3 && (await fakeApis.state()).pages.length === 0; i++) {
      // Time passes: the backoff is over, and the 503'd create ended long enough ago that its page would show in queries.
      await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE resources SET due_at = 0, claimed_at = 0, claim_unknown_at = 0"));
      await flush(stub);
    }
    expect((await fakeApis.state()).pages).toHaveLength(1);
    expect(await stub.pendingEvents()).toBe(0);
  });

  it("hands a summary that arrived before its call's line was known to that line, where one page is written", async () => {
    // The intake routes a summary whose call it has not seen yet by the call id; OpenPhone says the call is on PN700.
    const parked = await lineWithSettings("call:AC700");
    const line = await lineWithSettings("PN700");
    const [ringing, completed, recording, transcript, summary] = callEvents("AC700", "PN700");
    await parked.ingest([{ ...summary!, lineId: "call:AC700" }]);
    await flush(parked);
    expect(await parked.pendingEvents()).toBe(0);
    await line.ingest([ringing!, completed!, recording!, transcript!]);
    await flush(line);
    const pages = (await fakeApis.state()).pages;
    expect(pages).toHaveLength(1);
    expect(text(pages[0]!.properties["Summary"])).toBe("Ada asked for a quote.");
    expect(text(pages[0]!.properties["Line"])).toBe("Sales (+13055550100)");
  });

  it("refuses a payload without an id with the reason, and ignores unknown event types", async () => {
    const stub = await lineWithSettings("PNsync6");
    const result = await stub.ingest([
      message("EVbad", "call.completed", { ...CALL, id: undefined, phoneNumberId: "PNsync6" }, "PNsync6"),
      message("EVcontact", "contact.updated", { id: "CT1", object: "contact" }, "PNsync6"),
    ]);
    expect(result.outcomes[0]).toMatchObject({ status: "failed", reason: expect.stringContaining("data.object.id") });
    expect(result.outcomes[1]).toEqual({ status: "done" });
    expect(await stub.pendingEvents()).toBe(0);
  });
  it("copies the media an object was copying when it died, when its alarm fires again", async () => {
    const stub = await lineWithSettings("PNsync9");
    const item: MediaItem = {
      kind: "recording",
      key: "recordings/2026/03/02/ACdied/CR1.mp3",
      sourceUrl: `${FAKE_APIS_URL}/openphone/media/ACdied.mp3`,
      contentType: "audio/mpeg",
      resourceId: "ACdied",
      mediaId: "CR1",
      durationSeconds: 170,
    };
    // The state a crash mid-copy leaves: the copy requested after the page write, and the alarm the flush set.
    await runInDurableObject(stub, async (instance, state) => {
      (instance as unknown as { store: LineStorage }).store.requestMediaCopies([item], Date.now());
      await state.storage.setAlarm(Date.now() + 600_000);
    });
    expect(await env.MEDIA.head(item.key)).toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await (await env.MEDIA.get(item.key))?.text()).toBe("fake recording ACdied");
    const pending = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM media_copies WHERE copied_at IS NULL").one().n);
    expect(pending).toBe(0);
    expect(notionRequests(await fakeApis.state())).toEqual([]);
  });

  it("forgets media copies finished more than a week ago at its alarm, and keeps recent and pending ones", async () => {
    const stub = await lineWithSettings("PNsync10");
    const day = 86_400_000;
    const now = Date.now();
    await runInDurableObject(stub, async (_i, state) => {
      const insert = "INSERT INTO media_copies (key, resource_id, item, requested_at, copied_at) VALUES (?, ?, ?, ?, ?)";
      state.storage.sql.exec(insert, "recordings/old.mp3", "ACold", "{}", now - 9 * day, now - 8 * day);
      state.storage.sql.exec(insert, "recordings/recent.mp3", "ACrecent", "{}", now - 2 * day, now - day);
      // Requested long ago and never copied: this alarm copies it, and the row stays.
      const pending: MediaItem = { kind: "recording", key: "recordings/2026/03/02/ACpending/CR1.mp3", sourceUrl: `${FAKE_APIS_URL}/openphone/media/ACpending.mp3`, contentType: "audio/mpeg", resourceId: "ACpending", mediaId: "CR1", durationSeconds: 10 };
      state.storage.sql.exec(insert, pending.key, pending.resourceId, JSON.stringify(pending), now - 9 * day, null);
      await state.storage.setAlarm(now + 600_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const rows = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ key: string; copied: number }>("SELECT key, copied_at IS NOT NULL AS copied FROM media_copies ORDER BY key").toArray());
    expect(rows).toEqual([
      { key: "recordings/2026/03/02/ACpending/CR1.mp3", copied: 1 },
      { key: "recordings/recent.mp3", copied: 1 },
    ]);
    expect(await (await env.MEDIA.get("recordings/2026/03/02/ACpending/CR1.mp3"))?.text()).toBe("fake recording ACpending");
  });

  describe("a call page left without the recording OpenPhone has", () => {
    /** The call's recording.completed event is lost, and when the call was flushed OpenPhone still listed none. */
    async function pageWithoutRecording(callId: string, lineId: string) {
      const line = await lineWithSettings(lineId);
      const [ringing, completed, , transcript, summary] = callEvents(callId, lineId);
      await fakeApis.configure({ recordingsPending: [callId] });
      await line.ingest([ringing!, completed!, transcript!, summary!]);
      await flush(line);
      const before = (await fakeApis.state()).pages;
      expect(before).toHaveLength(1);
      expect(before[0]!.properties["Recording"]).toBeUndefined();
      // OpenPhone has finished the recording since; no event will say so.
      await fakeApis.configure({ recordingsPending: [] });
      return line;
    }

    const admin = (path: string, init: RequestInit = {}) =>
      worker.fetch(new Request(`http://worker${path}`, { method: "POST", ...init, headers: { Authorization: `Bearer ${TEST_SETTINGS.ADMIN_TOKEN}`, "Content-Type": "application/json" } }), { ...env, ...TEST_SETTINGS } as unknown as Env, createExecutionContext());

    it("gets the Recording link back from a re-sync, which asks OpenPhone for the recordings again", async () => {
      // The fake OpenPhone places call ACx on line PNx.
      const line = await pageWithoutRecording("AC900", "PN900");
      const asked = (await fakeApis.state()).requests.length;
      const response = await admin("/admin/resync", { body: JSON.stringify({ id: "AC900" }) });
      expect(response.status).toBe(202);
      await flush(line);
      const state = await fakeApis.state();
      expect(state.requests.slice(asked).filter((r) => r.path === "openphone:/v1/call-recordings/AC900")).toHaveLength(1);
      expect(state.pages).toHaveLength(1);
      expect((state.pages[0]!.properties["Recording"] as { url: string }).url).toContain("/media/");
      const update = state.requests.slice(asked).filter((r) => r.method === "PATCH" && r.path.startsWith("notion:/v1/pages/"));
      expect(update).toHaveLength(1);
      expect(Object.keys((update[0]!.body as { properties: object }).properties)).toContain("Recording");
    });

    it("gets the Recording link from an operator's media copy, which asks the line to flush the call", async () => {
      const line = await pageWithoutRecording("AC901", "PN901");
      const response = await admin("/admin/media/calls/AC901");
      expect(response.status).toBe(200);
      expect(((await response.json()) as { page: { status: string } }).page.status).toBe("flush requested");
      await flush(line);
      const pages = (await fakeApis.state()).pages;
      expect(pages).toHaveLength(1);
      expect((pages[0]!.properties["Recording"] as { url: string }).url).toContain("/media/");
    });
  });

  describe("one message id that OpenPhone reports on two lines", () => {
    const sms = (id: string, lineId: string) => ({ id, object: "message", from: "+12125550101", to: "+13055550100", direction: "incoming", text: "Is the quote ready?", status: "received", createdAt: "2026-03-02T12:00:00.000Z", userId: "US1", phoneNumberId: lineId });

    it("gets one page, on the line that wrote it first, when the second line sees the id later", async () => {
      const first = await lineWithSettings("PNtwinA1");
      const second = await lineWithSettings("PNtwinB1");
      await first.ingest([message("EVtwin1a", "message.received", sms("ACtwin1", "PNtwinA1"), "PNtwinA1")]);
      await flush(first);
      await second.ingest([message("EVtwin1b", "message.received", sms("ACtwin1", "PNtwinB1"), "PNtwinB1")]);
      await flush(second);
      await flush(first);
      const pages = (await fakeApis.state()).pages;
      expect(pages).toHaveLength(1);
      expect(await second.pendingEvents()).toBe(0);
      expect((await second.resource("ACtwin1"))?.pageId).toBeNull();
      // The event the second line saw was handed to the first, where it changed nothing.
      expect(await first.pendingEvents()).toBe(0);
      const owner = await env.DB.prepare("SELECT phone_number_id, notion_page_id FROM resources WHERE resource_id = 'ACtwin1'").first<{ phone_number_id: string; notion_page_id: string }>();
      expect(owner).toEqual({ phone_number_id: "PNtwinA1", notion_page_id: pages[0]!.id });
    });

    it("gets one page when both lines flush the id before either has written it", async () => {
      const first = await lineWithSettings("PNtwinA2");
      const second = await lineWithSettings("PNtwinB2");
      await first.ingest([message("EVtwin2a", "message.received", sms("ACtwin2", "PNtwinA2"), "PNtwinA2")]);
      await second.ingest([message("EVtwin2b", "message.received", sms("ACtwin2", "PNtwinB2"), "PNtwinB2")]);
      await Promise.all([flush(first), flush(second)]);
      await Promise.all([flush(first), flush(second)]);
      const pages = (await fakeApis.state()).pages;
      expect(pages).toHaveLength(1);
      expect(notionRequests(await fakeApis.state()).filter((r) => r.method === "POST" && r.path === "notion:/v1/pages")).toHaveLength(1);
      const owner = (await env.DB.prepare("SELECT phone_number_id FROM resources WHERE resource_id = 'ACtwin2'").first<{ phone_number_id: string }>())!.phone_number_id;
      const holder = owner === "PNtwinA2" ? first : second;
      expect((await holder.resource("ACtwin2"))?.pageId).toBe(pages[0]!.id);
    });
  });
});

describe("D1_BATCHING_ENABLED", () => {
  /** The line's object with a D1 that counts its batches, and the settings plus `overrides`. */
  async function countedLine(name: string, overrides: Record<string, string>) {
    const counts = { batches: 0 };
    const db = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") return (statements: D1PreparedStatement[]) => (counts.batches++, target.batch(statements));
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const stub = env.LINE.get(env.LINE.idFromName(name));
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { env: Env }).env = { ...env, ...TEST_SETTINGS, ...overrides, DB: db } as unknown as Env;
    });
    return { stub, counts };
  }

  it("off: a flush records the same rows in D1 with one statement per round trip instead of a batch", async () => {
    const rowsOf = async (callId: string) => ({
      history: (await env.DB.prepare("SELECT kind, source, outcome FROM sync_history WHERE resource_id = ?1").bind(callId).all()).results,
      resource: await env.DB.prepare("SELECT kind, phone_number_id, participant, status FROM resources WHERE resource_id = ?1").bind(callId).first(),
    });
    const on = await countedLine("PNbatch1", {});
    await on.stub.ingest(callEvents("AC910", "PNbatch1"));
    await flush(on.stub);
    const off = await countedLine("PNbatch2", { D1_BATCHING_ENABLED: "false" });
    await off.stub.ingest(callEvents("AC911", "PNbatch2"));
    await flush(off.stub);

    const [a, b] = [await rowsOf("AC910"), await rowsOf("AC911")];
    expect(a.history).toEqual([{ kind: "call", source: "webhook", outcome: "created" }]);
    expect(b.history).toEqual(a.history);
    expect(b.resource).toEqual({ ...(a.resource as object), phone_number_id: "PNbatch2" });
    // The flush's own record is the batch the switch removes; other writes (counters, media outcomes) batch either way.
    expect(on.counts.batches).toBeGreaterThan(0);
    expect(off.counts.batches).toBeLessThan(on.counts.batches);
  });
});
