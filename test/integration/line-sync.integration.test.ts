import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { readMetrics } from "../../src/db/metrics";
import { timingFigures } from "../../src/observability/timings";
import { FLAGS_KV_KEY, forgetCachedFlags } from "../../src/flags/flags";
import type { WebhookMessage } from "../../src/queue/messages";
import type { MediaItem } from "../../src/media/plan";
import type { LineStorage } from "../../src/line/storage";
import type { Call } from "../../src/openphone/client";
import { mediaBytes } from "../fixtures/media-bytes";
import { NOTION, notion, openphone, plain, type EmulatedCall } from "./emulators";
import { flush, line as lineObject } from "./line-harness";

const CALLER = "+12125550101";
const MEDIA_SOURCE = env.MEDIA_SOURCE_BASE;

function message(eventId: string, type: string, object: Record<string, unknown>, lineId: string): WebhookMessage {
  return { type: "webhook", lineId, eventId, eventType: type, receivedAt: Date.now(), envelope: { id: eventId, object: "event", apiVersion: "v4", createdAt: new Date().toISOString(), type, data: { object } } };
}

/** A 2m 56s answered call from CALLER on the workspace's line `lineIndex`, its recording ready unless `held`. */
async function emulatedCall(lineIndex: number, options: { held?: boolean } = {}): Promise<EmulatedCall> {
  const onLine = await openphone.line(lineIndex);
  if (options.held) await openphone.control("PUT", "config", { eventGapsMs: { recording: 3_600_000 } });
  try {
    return await openphone.createCall({ phoneNumberId: onLine.id, participant: CALLER, direction: "incoming", status: "completed", durationSeconds: 176, recording: { segments: 1 }, transcript: false, summary: false });
  } finally {
    if (options.held) await openphone.control("PUT", "config", { eventGapsMs: { recording: 0 } });
  }
}

/** The call's five events: ringing, completed, recording completed, the transcript and the summary. */
function callEvents({ call, line }: EmulatedCall): WebhookMessage[] {
  const base = { ...call, object: "call" } as Record<string, unknown>;
  const completed = { ...base, status: "completed" };
  const lineId = call.phoneNumberId;
  return [
    message(`EV${call.id}r`, "call.ringing", { ...base, status: "ringing", answeredAt: null, answeredBy: null, completedAt: null, duration: 0 }, lineId),
    message(`EV${call.id}c`, "call.completed", completed, lineId),
    message(`EV${call.id}rec`, "call.recording.completed", completed, lineId),
    message(`EV${call.id}t`, "callTranscript", { callId: call.id, object: "callTranscript", status: "completed", dialogue: [{ content: "Hello, it's Ada", start: 1.2, end: 3, identifier: CALLER, userId: null }, { content: "Hi Ada", start: 4, end: 5, identifier: line.number, userId: call.userId }] }, lineId),
    message(`EV${call.id}s`, "call.summary.completed", { callId: call.id, object: "callSummary", status: "completed", summary: ["Ada asked for a quote."], nextSteps: ["Send the quote", "Call back Friday"] }, lineId),
  ];
}

const recordingOf = (page: { properties: Record<string, Record<string, any>> }) => page.properties["Recording"]?.url as string | null | undefined;
const lineLabel = (c: EmulatedCall) => `${c.line.name} (${c.line.number})`;

beforeEach(() => notion.resetCounters());
afterEach(() => notion.clearScript());

describe("Line Durable Object → Notion", () => {
  it("writes one complete page for a call whose events arrive shuffled and twice, in two Notion requests", async () => {
    const emulated = await emulatedCall(2);
    const { call } = emulated;
    const stub = lineObject(call.phoneNumberId);
    const events = callEvents(emulated);
    const shuffled = [events[3]!, events[1]!, events[4]!, events[0]!, events[2]!];
    const first = await stub.ingest([...shuffled, ...shuffled]);
    expect(first).toMatchObject({ accepted: 5, duplicates: 5 });
    expect(first.outcomes.every((o) => o.status === "done")).toBe(true);
    await flush(stub);

    const pages = await notion.pagesWith("Call ID", call.id);
    expect(pages).toHaveLength(1);
    const page = pages[0]!;
    expect(page.parent).toMatchObject({ type: "data_source_id", data_source_id: NOTION.callsDataSourceId });
    expect(plain(page.properties["Name"])).toBe(`Incoming call from ${CALLER} · 2m 56s`);
    expect(plain(page.properties["User"])).toBe(emulated.userName);
    expect(plain(page.properties["Line"])).toBe(lineLabel(emulated));
    expect(plain(page.properties["Summary"])).toBe("Ada asked for a quote.");
    expect(page.properties["Transcript Status"]).toMatchObject({ select: { name: "completed" } });
    const { data: recordings } = await openphone.api<{ data: { id: string; url: string }[] }>(`/v1/call-recordings/${call.id}`);
    const key = `recordings/${call.createdAt.slice(0, 10).replace(/-/g, "/")}/${call.id}/${recordings[0]!.id}.mp3`;
    expect(recordingOf(page)).toMatch(new RegExp(`^https://sync\\.test/media/${key.replace(/\./g, "\\.")}\\?sig=`));
    const body = JSON.stringify(page.content);
    expect(page.content.filter((b) => b.type === "to_do")).toHaveLength(2);
    expect(body).toContain(`[00:01] ${CALLER}: Hello, it's Ada`);
    expect(body).toContain(`[00:04] ${emulated.userName}: Hi Ada`);
    expect(page.content.some((b) => b.type === "audio")).toBe(true);
    // One data source lookup (cached from then on) and one create; copying the recording after it costs Notion nothing.
    expect((await notion.requests()).map((r) => `${r.method} ${r.operation}`)).toEqual(["GET databases.retrieve", "POST pages.create"]);
    const stored = await env.MEDIA.get(key);
    const original = await (await fetch(recordings[0]!.url)).arrayBuffer();
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(new Uint8Array(original));

    const history = await env.DB.prepare("SELECT outcome, notion_requests, latency_ms FROM sync_history WHERE resource_id = ?1").bind(call.id).all<{ outcome: string; notion_requests: number; latency_ms: number }>();
    expect(history.results).toEqual([{ outcome: "created", notion_requests: 2, latency_ms: expect.any(Number) }]);
    const mirror = await env.DB.prepare("SELECT notion_page_id, participant FROM resources WHERE resource_id = ?1").bind(call.id).first();
    expect(mirror).toEqual({ notion_page_id: page.id, participant: CALLER });

    // A late duplicate changes nothing and costs nothing.
    await stub.ingest([events[4]!]);
    await flush(stub);
    expect(await notion.requests()).toHaveLength(2);
    // The line's own timings (observability/timings.ts): the call's processing, the recording's upload, and the first
    // flush's D1 write, counted with the second one's.
    const timings = timingFigures(await readMetrics(env.DB, 0));
    expect(timings.itemsProcessed).toBeGreaterThanOrEqual(1);
    expect(timings.processingMsPerItem).toEqual(expect.any(Number));
    expect(timings.d1Writes).toBeGreaterThanOrEqual(1);
    expect(timings.mediaBytes).toBeGreaterThanOrEqual(original.byteLength);
  });

  it("updates only what changed when a text is delivered later", async () => {
    const onLine = await openphone.line(3);
    const stub = lineObject(onLine.id);
    const sms = { id: "ACsync200", object: "message", from: onLine.number, to: CALLER, direction: "outgoing", text: "See you at 3", status: "sent", createdAt: "2026-03-02T11:00:00.000Z", userId: "US1", phoneNumberId: onLine.id };
    await stub.ingest([message("EVsync200a", "message.delivered", sms, onLine.id)]);
    await flush(stub);
    await stub.ingest([message("EVsync200b", "message.delivered", { ...sms, status: "delivered" }, onLine.id)]);
    await flush(stub);
    const writes = (await notion.requests()).filter((r) => r.method !== "GET");
    expect(writes.map((r) => r.method)).toEqual(["POST", "PATCH"]);
    expect(Object.keys((writes[1]!.body as { properties: object }).properties).sort()).toEqual(["Status", "Synced At"]);
    const [page] = await notion.pagesWith("Message ID", "ACsync200");
    expect(page!.properties["Status"]).toMatchObject({ select: { name: "delivered" } });
    expect(plain(page!.properties["To"])).toBe(CALLER);
  });

  it("finds the page instead of creating a second one when a create's outcome was unknown", async () => {
    const emulated = await emulatedCall(4);
    const { call } = emulated;
    const stub = lineObject(call.phoneNumberId);
    await notion.script({ operation: "pages.create", status: 504, afterWrite: true });
    await stub.ingest(callEvents(emulated));
    await flush(stub);
    const record = await stub.resource(call.id);
    expect(record?.claim).toBe("creating");
    expect(record?.pageId).toBeNull();
    // The retry is due after a backoff; bring it forward.
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE resources SET due_at = 0"));
    await flush(stub);
    const pages = await notion.pagesWith("Call ID", call.id);
    expect(pages).toHaveLength(1);
    expect((await stub.resource(call.id))?.pageId).toBe(pages[0]!.id);
    expect((await notion.requests()).filter((r) => r.operation === "pages.create")).toHaveLength(1);
  });

  it("dead-letters a Notion 400 with the property, shows it on /health, and completes after the fix and a replay", async () => {
    const emulated = await emulatedCall(5);
    const { call } = emulated;
    const stub = lineObject(call.phoneNumberId);
    // The user renames the property in Notion.
    const rename = (from: string, to: string) => notion.api("PATCH", `/v1/data_sources/${NOTION.callsDataSourceId}`, { properties: { [from]: { name: to } } });
    await rename("Transcript Status", "Transcript state");
    try {
      await stub.ingest(callEvents(emulated));
      await flush(stub);
      expect(await notion.pagesWith("Call ID", call.id)).toHaveLength(0);
    } finally {
      // The user restores the property.
      await rename("Transcript state", "Transcript Status");
    }
    const letters = await env.DB.prepare("SELECT message_id, reason, property, body FROM dead_letters WHERE resource_id = ?1").bind(call.id).all<{ message_id: string; reason: string; property: string; body: string }>();
    expect(letters.results).toHaveLength(5);
    expect(letters.results[0]).toMatchObject({ property: "Transcript Status", reason: expect.stringContaining("Transcript Status is not a property that exists") });

    const health = await worker.fetch(new Request("http://worker/health"), env, createExecutionContext());
    expect(health.status).toBe(503);
    expect(await health.text()).toContain('property \\"Transcript Status\\"');

    // Replaying the dead letters sends the same events again.
    const replayed = letters.results.map((l) => JSON.parse(l.body) as WebhookMessage);
    const result = await stub.ingest(replayed);
    expect(result.duplicates).toBe(5);
    await flush(stub);
    const pages = await notion.pagesWith("Call ID", call.id);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.properties["Transcript Status"]).toMatchObject({ select: { name: "completed" } });
    const healthAfter = await worker.fetch(new Request("http://worker/health"), env, createExecutionContext());
    expect(await healthAfter.text()).not.toContain("Transcript Status");
  });

  it("keeps the events and retries later when Notion answers 503 before writing", async () => {
    const emulated = await emulatedCall(6);
    const { call } = emulated;
    const stub = lineObject(call.phoneNumberId);
    await notion.script({ operation: "pages.create", status: 503 }, { operation: "pages.create", status: 429 });
    await stub.ingest(callEvents(emulated));
    await flush(stub);
    expect(await stub.pendingEvents()).toBe(5);
    const dead = await env.DB.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE resource_id = ?1").bind(call.id).first<{ n: number }>();
    expect(dead?.n).toBe(0);
    for (let i = 0; i < 3 && (await notion.pagesWith("Call ID", call.id)).length === 0; i++) {
      // Time passes: the backoff is over, and the 503'd create ended long enough ago that its page would show in queries.
      await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE resources SET due_at = 0, claimed_at = 0, claim_unknown_at = 0"));
      await flush(stub);
    }
    expect(await notion.pagesWith("Call ID", call.id)).toHaveLength(1);
    expect(await stub.pendingEvents()).toBe(0);
  });

  it("hands a summary that arrived before its call's line was known to that line, where one page is written", async () => {
    // The intake routes a summary whose call it has not seen yet by the call id; OpenPhone says which line it is on.
    const emulated = await emulatedCall(7);
    const { call } = emulated;
    const parked = lineObject(`call:${call.id}`);
    const line = lineObject(call.phoneNumberId);
    const [ringing, completed, recording, transcript, summary] = callEvents(emulated);
    await parked.ingest([{ ...summary!, lineId: `call:${call.id}` }]);
    await flush(parked);
    expect(await parked.pendingEvents()).toBe(0);
    await line.ingest([ringing!, completed!, recording!, transcript!]);
    await flush(line);
    const pages = await notion.pagesWith("Call ID", call.id);
    expect(pages).toHaveLength(1);
    expect(plain(pages[0]!.properties["Summary"])).toBe("Ada asked for a quote.");
    expect(plain(pages[0]!.properties["Line"])).toBe(lineLabel(emulated));
  });

  it("refuses a payload without an id with the reason, and ignores unknown event types", async () => {
    const onLine = await openphone.line(8);
    const stub = lineObject(onLine.id);
    const call = { id: undefined, object: "call", direction: "incoming", participants: [CALLER], phoneNumberId: onLine.id, userId: "US1", createdAt: "2026-03-02T10:00:00.000Z" };
    const result = await stub.ingest([message("EVbad", "call.completed", call, onLine.id), message("EVcontact", "contact.updated", { id: "CT1", object: "contact" }, onLine.id)]);
    expect(result.outcomes[0]).toMatchObject({ status: "failed", reason: expect.stringContaining("data.object.id") });
    expect(result.outcomes[1]).toEqual({ status: "done" });
    expect(await stub.pendingEvents()).toBe(0);
  });

  /** A recording file of the test media source, and the bytes it serves. */
  const sourceFile = (name: string) => ({ url: `${MEDIA_SOURCE}/files/${name}?size=4096`, bytes: mediaBytes(name, 0, 4096) });

  it("copies the media an object was copying when it died, when its alarm fires again", async () => {
    const stub = lineObject((await openphone.line(9)).id);
    const file = sourceFile("ACdied.mp3");
    const item: MediaItem = { kind: "recording", key: "recordings/2026/03/02/ACdied/CR1.mp3", sourceUrl: file.url, contentType: "audio/mpeg", resourceId: "ACdied", mediaId: "CR1", durationSeconds: 170 };
    // The state a crash mid-copy leaves: the copy requested after the page write, and the alarm the flush set.
    await runInDurableObject(stub, async (instance, state) => {
      (instance as unknown as { store: LineStorage }).store.requestMediaCopies([item], Date.now());
      await state.storage.setAlarm(Date.now() + 600_000);
    });
    expect(await env.MEDIA.head(item.key)).toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(new Uint8Array(await (await env.MEDIA.get(item.key))!.arrayBuffer())).toEqual(file.bytes);
    const pending = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM media_copies WHERE copied_at IS NULL").one().n);
    expect(pending).toBe(0);
    expect(await notion.requests()).toEqual([]);
  });

  it("forgets media copies finished more than a week ago at its alarm, and keeps recent and pending ones", async () => {
    const stub = lineObject((await openphone.line(10)).id);
    const day = 86_400_000;
    const now = Date.now();
    const file = sourceFile("ACpending.mp3");
    await runInDurableObject(stub, async (_i, state) => {
      const insert = "INSERT INTO media_copies (key, resource_id, item, requested_at, copied_at) VALUES (?, ?, ?, ?, ?)";
      state.storage.sql.exec(insert, "recordings/old.mp3", "ACold", "{}", now - 9 * day, now - 8 * day);
      state.storage.sql.exec(insert, "recordings/recent.mp3", "ACrecent", "{}", now - 2 * day, now - day);
      // Requested long ago and never copied: this alarm copies it, and the row stays.
      const pending: MediaItem = { kind: "recording", key: "recordings/2026/03/02/ACpending/CR1.mp3", sourceUrl: file.url, contentType: "audio/mpeg", resourceId: "ACpending", mediaId: "CR1", durationSeconds: 10 };
      state.storage.sql.exec(insert, pending.key, pending.resourceId, JSON.stringify(pending), now - 9 * day, null);
      await state.storage.setAlarm(now + 600_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const rows = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ key: string; copied: number }>("SELECT key, copied_at IS NOT NULL AS copied FROM media_copies ORDER BY key").toArray());
    expect(rows).toEqual([
      { key: "recordings/2026/03/02/ACpending/CR1.mp3", copied: 1 },
      { key: "recordings/recent.mp3", copied: 1 },
    ]);
    expect(new Uint8Array(await (await env.MEDIA.get("recordings/2026/03/02/ACpending/CR1.mp3"))!.arrayBuffer())).toEqual(file.bytes);
  });

  describe("a call page left without the recording OpenPhone has", () => {
    /** The call's recording.completed event is lost, and when the call was flushed OpenPhone was still processing it. */
    async function pageWithoutRecording(lineIndex: number) {
      const emulated = await emulatedCall(lineIndex, { held: true });
      const { call } = emulated;
      const line = lineObject(call.phoneNumberId);
      const [ringing, completed, , transcript, summary] = callEvents(emulated);
      await line.ingest([ringing!, completed!, transcript!, summary!]);
      await flush(line);
      const before = await notion.pagesWith("Call ID", call.id);
      expect(before).toHaveLength(1);
      expect(recordingOf(before[0]!) ?? null).toBeNull();
      // OpenPhone has finished the recording since; no event will say so.
      await openphone.control("POST", `calls/${call.id}/ready`);
      return { line, call };
    }

    const admin = (path: string, init: RequestInit = {}) =>
      worker.fetch(new Request(`http://worker${path}`, { method: "POST", ...init, headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" } }), env, createExecutionContext());

    it("gets the Recording link back from a re-sync, which asks OpenPhone for the recordings again", async () => {
      const { line, call } = await pageWithoutRecording(11);
      const asked = (await openphone.requestsByOperation()).getCallRecordings_v1 ?? 0;
      await notion.resetCounters();
      const response = await admin("/admin/resync", { body: JSON.stringify({ id: call.id }) });
      expect(response.status).toBe(202);
      await flush(line);
      expect(((await openphone.requestsByOperation()).getCallRecordings_v1 ?? 0) - asked).toBe(1);
      const pages = await notion.pagesWith("Call ID", call.id);
      expect(pages).toHaveLength(1);
      expect(recordingOf(pages[0]!)).toContain("/media/");
      const update = (await notion.requests()).filter((r) => r.method === "PATCH" && r.path === `/v1/pages/${pages[0]!.id}`);
      expect(update).toHaveLength(1);
      expect(Object.keys((update[0]!.body as { properties: object }).properties)).toContain("Recording");
    });

    it("gets the Recording link from an operator's media copy, which asks the line to flush the call", async () => {
      const { line, call } = await pageWithoutRecording(12);
      const response = await admin(`/admin/media/calls/${call.id}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { page: { status: string } }).page.status).toBe("flush requested");
      await flush(line);
      const pages = await notion.pagesWith("Call ID", call.id);
      expect(pages).toHaveLength(1);
      expect(recordingOf(pages[0]!)).toContain("/media/");
    });
  });

  describe("one message id that OpenPhone reports on two lines", () => {
    const sms = (id: string, onLine: { id: string; number: string }) => ({ id, object: "message", from: CALLER, to: onLine.number, direction: "incoming", text: "Is the quote ready?", status: "received", createdAt: "2026-03-02T12:00:00.000Z", userId: "US1", phoneNumberId: onLine.id });

    it("gets one page, on the line that wrote it first, when the second line sees the id later", async () => {
      const [lineA, lineB] = [await openphone.line(13), await openphone.line(14)];
      const first = lineObject(lineA.id);
      const second = lineObject(lineB.id);
      await first.ingest([message("EVtwin1a", "message.received", sms("ACtwin1", lineA), lineA.id)]);
      await flush(first);
      await second.ingest([message("EVtwin1b", "message.received", sms("ACtwin1", lineB), lineB.id)]);
      await flush(second);
      await flush(first);
      const pages = await notion.pagesWith("Message ID", "ACtwin1");
      expect(pages).toHaveLength(1);
      expect(await second.pendingEvents()).toBe(0);
      expect((await second.resource("ACtwin1"))?.pageId).toBeNull();
      // The event the second line saw was handed to the first, where it changed nothing.
      expect(await first.pendingEvents()).toBe(0);
      const owner = await env.DB.prepare("SELECT phone_number_id, notion_page_id FROM resources WHERE resource_id = 'ACtwin1'").first<{ phone_number_id: string; notion_page_id: string }>();
      expect(owner).toEqual({ phone_number_id: lineA.id, notion_page_id: pages[0]!.id });
    });

    it("gets one page when both lines flush the id before either has written it", async () => {
      const [lineA, lineB] = [await openphone.line(15), await openphone.line(16)];
      const first = lineObject(lineA.id);
      const second = lineObject(lineB.id);
      await first.ingest([message("EVtwin2a", "message.received", sms("ACtwin2", lineA), lineA.id)]);
      await second.ingest([message("EVtwin2b", "message.received", sms("ACtwin2", lineB), lineB.id)]);
      await Promise.all([flush(first), flush(second)]);
      await Promise.all([flush(first), flush(second)]);
      const pages = await notion.pagesWith("Message ID", "ACtwin2");
      expect(pages).toHaveLength(1);
      expect((await notion.requests()).filter((r) => r.operation === "pages.create")).toHaveLength(1);
      const owner = (await env.DB.prepare("SELECT phone_number_id FROM resources WHERE resource_id = 'ACtwin2'").first<{ phone_number_id: string }>())!.phone_number_id;
      const holder = owner === lineA.id ? first : second;
      expect((await holder.resource("ACtwin2"))?.pageId).toBe(pages[0]!.id);
    });
  });
});

describe("D1_BATCHING_ENABLED", () => {
  /** Sets the runtime flag in KV and has the line's object read it now (it rereads the flags once a minute). */
  async function setBatching(stub: ReturnType<typeof lineObject>, enabled: boolean) {
    if (enabled) await env.FLAGS.delete(FLAGS_KV_KEY);
    else await env.FLAGS.put(FLAGS_KV_KEY, JSON.stringify({ D1_BATCHING_ENABLED: "false" }));
    await runInDurableObject(stub, (instance) => forgetCachedFlags((instance as unknown as { env: Env }).env));
  }
  const rowsOf = async (callId: string) => ({
    history: (await env.DB.prepare("SELECT kind, source, outcome FROM sync_history WHERE resource_id = ?1").bind(callId).all()).results,
    resource: await env.DB.prepare("SELECT kind, participant, status, notion_page_id IS NOT NULL AS has_page FROM resources WHERE resource_id = ?1").bind(callId).first(),
  });
  /** The flush writes and their D1 round trips, counted by the line itself (observability/timings.ts). */
  const d1Counts = async () => {
    const metrics = await readMetrics(env.DB, 0);
    return { writes: timingFigures(metrics).d1Writes, roundTrips: metrics["d1.flush_round_trips"] ?? 0 };
  };
  afterEach(() => env.FLAGS.delete(FLAGS_KV_KEY));

  it("off: a flush records the same rows in D1, one statement per round trip instead of one batch", async () => {
    const first = await emulatedCall(0);
    const second = await emulatedCall(0);
    const stub = lineObject(first.call.phoneNumberId);
    await setBatching(stub, true);
    const start = await d1Counts();
    await stub.ingest(callEvents(first));
    await flush(stub);
    await setBatching(stub, false);
    await stub.ingest(callEvents(second));
    await flush(stub);
    // Timings ride along with the next write: one more flush (nothing new to write costs no D1 write) reports them.
    await setBatching(stub, true);
    await stub.ingest([callEvents(second)[4]!]);
    await flush(stub);
    const third = await emulatedCall(0);
    await stub.ingest(callEvents(third));
    await flush(stub);
    const end = await d1Counts();

    const [a, b] = [await rowsOf(first.call.id), await rowsOf(second.call.id)];
    expect(a.history).toEqual([{ kind: "call", source: "webhook", outcome: "created" }]);
    expect(b).toEqual(a);
    // Batched, a write is one round trip; the write with batching off took one per statement.
    const writes = end.writes - start.writes;
    const roundTrips = end.roundTrips - start.roundTrips;
    expect(writes).toBeGreaterThanOrEqual(2);
    expect(roundTrips).toBeGreaterThan(writes);
  });
});
