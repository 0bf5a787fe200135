import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BackfillDeps } from "../../src/backfill/deps";
import { backfillOpenPhoneClient } from "../../src/backfill/deps";
import type { BackfillProgress } from "../../src/backfill/progress";
import { runBackfillJob } from "../../src/backfill/runner";
import { reviveIdleChains, startBackfill, startSweep } from "../../src/backfill/start";
import { loadConfig } from "../../src/config";
import { lineFilterOf, type LineFilter } from "../../src/line-filter/filter";
import { getRun } from "../../src/db/backfill-runs";
import worker from "../../src/index";
import type { BackfillMessage, SyncMessage } from "../../src/queue/messages";
import { BACKFILL_CRON } from "../../src/scheduled";
import type { Call, Message, PhoneNumber } from "../../src/openphone/client";
import { openphone } from "./emulators";
import { flush, line } from "./line-harness";

/** What a test put in the OpenPhone emulator's workspace: its lines, calls and texts. */
interface Workspace {
  lines: PhoneNumber[];
  calls: Call[];
  messages: Message[];
}

const DAY = 86_400_000;
/** Each test gets a fresh OpenPhone workspace from a seed of its own: other line, call and text ids. */
let seed = 5100;

/**
 * A fresh OpenPhone workspace of `lines` lines; on each, `people` one-to-one conversations and one group conversation
 * of the first two people. Every person has `callsEach` past calls and every conversation `messagesEach` past texts,
 * spread over the last 80 days, at least an hour ago. `unfinishedCallOnLine` (1-based) also has a call still in
 * progress, from half an hour ago.
 */
async function buildWorkspace(options: { lines: number; people: number; callsEach: number; messagesEach: number; now: number; unfinishedCallOnLine?: number }): Promise<Workspace> {
  await openphone.control("POST", "reset", { seed: ++seed, lines: options.lines });
  const { data: lines } = await openphone.api<{ data: PhoneNumber[] }>("/v1/phone-numbers");
  const ws: Workspace = { lines, calls: [], messages: [] };
  let k = 0;
  // Spread over the last 80 days, at least an hour ago (a prime step, so conversations interleave in time).
  const at = (n: number) => new Date(options.now - ((n * 7_919_000) % (80 * DAY)) - 3_600_000).toISOString();
  const addCall = async (body: Record<string, unknown>) => {
    const { callId } = await openphone.control<{ callId: string }>("POST", "calls", body);
    ws.calls.push((await openphone.api<{ data: Call }>(`/v1/calls/${callId}`)).data);
  };
  for (const [i, line] of lines.entries()) {
    const people = Array.from({ length: options.people }, (_, p) => `+1555${i + 1}${String(p).padStart(6, "0")}`);
    const groups = [...people.map((p) => [p]), ...(people.length >= 2 ? [people.slice(0, 2)] : [])];
    for (const participants of groups) {
      if (participants.length === 1) {
        for (let c = 0; c < options.callsEach; c++) {
          await addCall({ phoneNumberId: line.id, participant: participants[0], direction: c % 2 ? "outgoing" : "incoming", status: "completed", durationSeconds: 1 + (c % 4), at: at(++k) });
        }
      }
      for (let m = 0; m < options.messagesEach; m++) {
        const direction = m % 2 ? "outgoing" : "incoming";
        const { messageId } = await openphone.control<{ messageId: string }>("POST", "messages", { phoneNumberId: line.id, participant: participants[0], alsoTo: participants.slice(1), direction, text: `text ${++k}`, ...(direction === "outgoing" && { status: "delivered" }), at: at(k) });
        ws.messages.push({ id: messageId, phoneNumberId: line.id, createdAt: at(k) } as Message);
      }
    }
    if (options.unfinishedCallOnLine === i + 1 && people[0]) {
      await addCall({ phoneNumberId: line.id, participant: people[0], direction: "incoming", status: "in-progress", at: new Date(options.now - 30 * 60_000).toISOString() });
    }
  }
  await countFromHere();
  return ws;
}

/**
 * The OpenPhone requests since `countFromHere()`: in all, by path (or operation), and those refused with 400 or 429.
 * They are the backfill's listings and the lookups of the lines it handed items to, which credit them to its run.
 */
interface Requests {
  requests: number;
  byPath: Record<string, number>;
  badRequests: number;
  rateLimited: number;
}
let counted: { total: number; byOperation: Record<string, number>; byStatus: Record<string, number> };
const PATHS: Record<string, string> = { listPhoneNumbers_v1: "/v1/phone-numbers", listConversations_v1: "/v1/conversations", listCalls_v1: "/v1/calls", listMessages_v1: "/v1/messages" };

async function statsNow() {
  return (await openphone.control<{ requests: { total: number; byOperation: Record<string, number>; byStatus: Record<string, number> } }>("GET", "stats")).requests;
}
async function countFromHere(): Promise<void> {
  counted = await statsNow();
}
async function requestsSince(): Promise<Requests> {
  const now = await statsNow();
  const byPath: Record<string, number> = {};
  for (const [operation, n] of Object.entries(now.byOperation)) {
    const delta = n - (counted.byOperation[operation] ?? 0);
    if (delta > 0) byPath[PATHS[operation] ?? operation] = delta;
  }
  return { requests: now.total - counted.total, byPath, badRequests: (now.byStatus["400"] ?? 0) - (counted.byStatus["400"] ?? 0), rateLimited: (now.byStatus["429"] ?? 0) - (counted.byStatus["429"] ?? 0) };
}

/** `(555) 000-0002`: a line's number as a person would type it. */
const typed = (number: string) => `(${number.slice(2, 5)}) ${number.slice(5, 8)}-${number.slice(8)}`;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let ws: Workspace;

/**
 * A test's lines finish what they were handed (retries included, as time passing would have them) and their media
 * copies before the next test replaces the workspace: none of their work is left to land in another test's requests.
 */
afterEach(async () => {
  await openphone.control("PUT", "config", { rateLimitPerSecond: 0 });
  await Promise.all(
    (ws?.lines ?? []).map(async ({ id }) => {
      const stub = line(id);
      for (let i = 0; i < 100; i++) {
        const left = await runInDurableObject(stub, (_i, state) => {
          const sql = state.storage.sql;
          sql.exec("UPDATE resources SET due_at = ? WHERE dirty = 1 AND failed_at IS NULL AND due_at > ?", Date.now(), Date.now());
          const dirty = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM resources WHERE dirty = 1 AND failed_at IS NULL").one().n;
          return dirty + sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM media_copies WHERE copied_at IS NULL").one().n;
        });
        if (left === 0) return;
        await runDurableObjectAlarm(stub);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`line ${id} never finished its work`);
    }),
  );
});
afterAll(() => openphone.control("POST", "reset", {}));

interface Harness {
  deps: BackfillDeps;
  queue: BackfillMessage[];
  /** Distinct event ids the Line DOs were handed. */
  merged: Set<string>;
}

function harness(faults: { enqueueFailsEvery?: number; ingestFailsEvery?: number } = {}, lineFilter: LineFilter = { sync: [], skip: [] }): Harness {
  const { config } = loadConfig({ ...env, BACKFILL_SUBREQUEST_BUDGET: "24" });
  const queue: BackfillMessage[] = [];
  const merged = new Set<string>();
  let enqueues = 0;
  let ingests = 0;
  const deps: BackfillDeps = {
    db: env.DB,
    config,
    ingest: async (lineId: string, messages: SyncMessage[]) => {
      if (faults.ingestFailsEvery && ++ingests % faults.ingestFailsEvery === 0) throw new Error("Line DO restarted");
      const result = await env.LINE.get(env.LINE.idFromName(lineId)).ingest(messages);
      for (const m of messages) if (m.type === "webhook") merged.add(m.eventId);
      return result;
    },
    enqueue: async (messages: BackfillMessage[]) => {
      // Fails after the step was checkpointed: the message comes back and must resume from the checkpoint.
      if (faults.enqueueFailsEvery && ++enqueues % faults.enqueueFailsEvery === 0) throw new Error("queue unavailable");
      queue.push(...(JSON.parse(JSON.stringify(messages)) as BackfillMessage[]));
    },
    openphone: (counter) => backfillOpenPhoneClient(env, config, counter),
    lineFilter: async () => lineFilter,
    now: () => Date.now(),
  };
  return { deps, queue, merged };
}

/** Delivers queued steps until none is left; `duplicates` delivers every message twice (at-least-once). */
async function drain(h: Harness, options: { duplicates?: boolean } = {}): Promise<number> {
  let deliveries = 0;
  while (h.queue.length > 0) {
    if (++deliveries > 2000) throw new Error("the backfill does not end");
    const message = h.queue.shift()!;
    try {
      const outcome = await runBackfillJob(message, h.deps);
      expect(outcome.status).toBe("done");
      if (options.duplicates) await runBackfillJob(JSON.parse(JSON.stringify(message)) as BackfillMessage, h.deps);
    } catch {
      h.queue.push(message); // the consumer retries a message whose step threw
    }
  }
  return deliveries;
}

function totals(workspace: Workspace) {
  return { calls: workspace.calls.filter((c) => c.status === "completed").length, messages: workspace.messages.length };
}

describe("backfill job chains", () => {
  it("leaves out the lines the line filter skips, whether named by id or by number", async () => {
    ws = await buildWorkspace({ lines: 3, people: 2, callsEach: 1, messagesEach: 1, now: Date.now() });
    const [line1, line2, line3] = ws.lines.map((l) => l.id) as [string, string, string];
    // Line 2 by its number as a person would type it; line 3 by its id.
    const h = harness({}, lineFilterOf({ SYNC_LINES: [], SKIP_LINES: [typed(ws.lines[1]!.number), line3] }, "US"));
    const started = await startBackfill(h.deps, {}, "admin");
    expect(started).toMatchObject({ started: true, lines: [line1] });
    await drain(h);
    const lineOf = new Map([...ws.calls, ...ws.messages].map((item) => [`backfill:${item.id}`, item.phoneNumberId]));
    expect(h.merged.size).toBeGreaterThan(0);
    expect(new Set([...h.merged].map((eventId) => lineOf.get(eventId)))).toEqual(new Set([line1]));

    await expect(startBackfill(harness({}, lineFilterOf({ SYNC_LINES: [line1], SKIP_LINES: [] }, "US")).deps, { lines: [line2] }, "admin")).rejects.toThrow(
      new RegExp(`line\\(s\\) not synced: ${line2} \\(SYNC_LINES does not name it\\)`),
    );
  });

  it("merges every call and text of every line once and moves each line's watermark to the run's start", async () => {
    ws = await buildWorkspace({ lines: 3, people: 4, callsEach: 2, messagesEach: 3, now: Date.now(), unfinishedCallOnLine: 2 });
    const { calls, messages } = totals(ws);
    const h = harness();
    const started = await startBackfill(h.deps, {}, "admin");
    expect(started).toMatchObject({ started: true, lines: expect.arrayContaining(ws.lines.map((l) => l.id)) });
    expect(started.lines).toHaveLength(3);
    expect(h.queue).toHaveLength(3);
    await drain(h);
    // The lines write what they were handed, and credit the run with what that cost.
    await Promise.all(ws.lines.map((l) => flush(line(l.id))));

    const found = (await getRun(env.DB, started.id))!;
    expect(found.run).toMatchObject({ status: "completed", handed: calls + messages, failed: 0, planned: 15, listed: 15, error: null });
    // Calls of the group conversation's two members are listed twice; the second listing merges nothing new.
    expect(found.run.fetched).toBe(found.run.handed + found.run.skipped);
    // The unfinished call's participant is also in the group conversation: it is held back twice.
    expect(found.run.skipped).toBe(3 * 2 * 2 + 2);
    expect(h.merged.size).toBe(calls + messages);
    const stats = await requestsSince();
    // Every request is the run's but each line's look-up of its own name and number (once a line, for no item).
    expect(stats.byPath.getPhoneNumberById_v1).toBe(3);
    expect(found.run.openphone_requests).toBe(stats.requests - 3);
    expect(stats.badRequests).toBe(0);
    expect(found.lines.map((l) => l.status)).toEqual(["completed", "completed", "completed"]);

    const mark = (id: string) => env.DB.prepare("SELECT number, backfill_watermark FROM lines WHERE phone_number_id = ?1").bind(id).first<{ number: string; backfill_watermark: number }>();
    const marks = await Promise.all(ws.lines.map((l) => mark(l.id)));
    expect(marks.map((r) => r?.number)).toEqual(ws.lines.map((l) => l.number));
    // Line 2 had a call still in progress: its watermark stays before it so the next run lists it again.
    const ringing = Date.parse(ws.calls.find((c) => c.status === "in-progress")!.createdAt);
    expect(marks[1]!.backfill_watermark).toBe(ringing - 1);
    expect(marks[0]!.backfill_watermark).toBeGreaterThanOrEqual(found.run.started_at);

    // A second run lists only what is new: the phone numbers, then one conversations page per line, nothing else.
    await countFromHere();
    const second = await startBackfill(h.deps, {}, "cron");
    await drain(h);
    const again = (await getRun(env.DB, second.id))!.run;
    console.log(`second backfill run: ${again.openphone_requests} OpenPhone requests (listing only), ${again.handed} new items`);
    expect(again).toMatchObject({ status: "completed", handed: 0, failed: 0 });
    const secondStats = await requestsSince();
    expect(secondStats.byPath["/v1/calls"] ?? 0).toBeLessThanOrEqual(1); // line 2's conversation with the unfinished call
    expect(again.openphone_requests).toBe(secondStats.requests);
    expect(again.openphone_requests).toBeLessThanOrEqual(1 + 3 + 2);
  }, 60_000);

  it("resumes a chain whose next step was lost (a restart that emptied the queue) from its checkpoint", async () => {
    ws = await buildWorkspace({ lines: 2, people: 4, callsEach: 2, messagesEach: 3, now: Date.now() });
    const { calls, messages } = totals(ws);
    const h = harness();
    const started = await startBackfill(h.deps, {}, "admin");
    // Two steps run, then the queue is lost with whatever was in it.
    for (let i = 0; i < 2; i++) await runBackfillJob(h.queue.shift()!, h.deps);
    h.queue.length = 0;
    expect(await reviveIdleChains(h.deps)).toBe(0);
    const later = { ...h.deps, now: () => Date.now() + h.deps.config.BACKFILL_IDLE_SECONDS * 1000 + 1000 };
    expect(await reviveIdleChains(later)).toBe(2);
    expect(await reviveIdleChains(later)).toBe(0);
    await drain(h);
    const run = (await getRun(env.DB, started.id))!.run;
    expect(run).toMatchObject({ status: "completed", handed: calls + messages, failed: 0, planned: 10, listed: 10 });
  }, 60_000);

  it("lists from the run's since, and keeps one running run per line", async () => {
    ws = await buildWorkspace({ lines: 2, people: 3, callsEach: 2, messagesEach: 2, now: Date.now() });
    const h = harness();
    const since = Date.now() - 20 * 86_400_000;
    const [line1, line2] = ws.lines as [PhoneNumber, PhoneNumber];
    const first = await startBackfill(h.deps, { since, lines: [line1.id] }, "admin");
    const overlapping = await startBackfill(h.deps, { lines: [line2.id, line1.id] }, "admin");
    expect(overlapping).toMatchObject({ id: first.id, started: false });
    await expect(startBackfill(h.deps, { lines: ["PNnope"] }, "admin")).rejects.toThrow(new RegExp(`unknown line\\(s\\) PNnope; this workspace's lines are: ${escape(`${line1.id} (${line1.number}), ${line2.id}`)}`));
    await drain(h);
    const run = (await getRun(env.DB, first.id))!.run;
    const inWindow = [...ws.calls, ...ws.messages].filter((i) => i.phoneNumberId === line1.id && Date.parse(i.createdAt) > since).length;
    expect(run).toMatchObject({ status: "completed", handed: inWindow, since });
    expect(inWindow).toBeLessThan(ws.calls.length + ws.messages.length);
  }, 60_000);
});

describe("the frequent sweep", () => {
  /** Sweeps are workspace-wide and spaced SWEEP_MINUTES apart: age the earlier ones so the next may start. */
  const ageSweeps = () => env.DB.prepare("UPDATE backfill_runs SET started_at = started_at - 600000 WHERE trigger = 'sweep'").run();
  beforeEach(ageSweeps);
  /** A text sent from the app a minute ago: OpenPhone sends no webhook for "sent", so only a listing finds it. */
  async function sendFromApp(workspace: Workspace, lineIndex: number): Promise<string> {
    const line = workspace.lines[lineIndex]!;
    const at = new Date(Date.now() - 60_000).toISOString();
    const participant = `+1555${lineIndex + 1}000000`;
    const { messageId } = await openphone.control<{ messageId: string }>("POST", "messages", { phoneNumberId: line.id, participant, direction: "outgoing", text: "sent from the app", status: "sent", at });
    workspace.messages.push({ id: messageId, phoneNumberId: line.id, createdAt: at } as Message);
    return messageId;
  }

  it("finds what no webhook announced since the line's last run, moves only its own watermark, and waits SWEEP_MINUTES", async () => {
    ws = await buildWorkspace({ lines: 2, people: 3, callsEach: 1, messagesEach: 2, now: Date.now() });
    const h = harness();
    const first = await startBackfill(h.deps, {}, "admin");
    await drain(h);
    const marks = () => env.DB.prepare("SELECT backfill_watermark AS backfill, sweep_watermark AS sweep FROM lines WHERE phone_number_id = ?1").bind(ws.lines[0]!.id).first<{ backfill: number; sweep: number | null }>();
    const before = (await marks())!;
    expect(before.sweep).toBeNull();

    const sent = await sendFromApp(ws, 0);
    await countFromHere();
    const swept = await startSweep(h.deps, 5);
    expect(swept).toMatchObject({ started: true });
    await drain(h);
    const run = (await getRun(env.DB, swept!.id))!.run;
    // Only the new text is handed; the one conversation it is in is listed again, nothing older.
    expect(run).toMatchObject({ trigger: "sweep", status: "completed", handed: 1, failed: 0 });
    expect(h.merged.has(`backfill:${sent}`)).toBe(true);
    const stats = await requestsSince();
    expect(stats.byPath["/v1/conversations"]).toBe(2);
    expect(stats.byPath["/v1/messages"]).toBe(1);
    const after = (await marks())!;
    expect(after.backfill).toBe(before.backfill);
    expect(after.sweep).toBeGreaterThanOrEqual(run.started_at);

    // Too soon for another; the backfill list keeps sweeps apart.
    expect(await startSweep(h.deps, 5)).toBeNull();
    const listed = await worker.fetch(new Request("http://worker/admin/backfill", { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } }), env, createExecutionContext());
    const body = await listed.json<{ runs: BackfillProgress[]; sweeps: BackfillProgress[] }>();
    expect(body.runs.map((r) => r.id)).toContain(first.id);
    expect(body.runs.map((r) => r.id)).not.toContain(swept!.id);
    expect(body.sweeps[0]).toMatchObject({ id: swept!.id, handed: 1 });
  }, 60_000);

  it("on a line never backfilled, looks back one hour only; a backfill started during a sweep ends the sweep and runs", async () => {
    ws = await buildWorkspace({ lines: 1, people: 2, callsEach: 1, messagesEach: 2, now: Date.now() });
    await sendFromApp(ws, 0);
    const h = harness();
    const sweep = await startSweep(h.deps, 5);
    expect(sweep).toMatchObject({ started: true });
    // Everything else is more than an hour old: the sweep leaves it to the backfill.
    const backfill = await startBackfill(h.deps, {}, "cli");
    expect(backfill).toMatchObject({ started: true });
    expect((await getRun(env.DB, sweep!.id))!.run).toMatchObject({ status: "cancelled", error: expect.stringMatching(/ended for a cli backfill/) });
    await drain(h);
    const { calls, messages } = totals(ws);
    expect((await getRun(env.DB, backfill.id))!.run).toMatchObject({ status: "completed", handed: calls + messages });
    expect((await getRun(env.DB, sweep!.id))!.run.handed).toBe(0);

    // A later sweep, with the backfill's watermark, starts just before it and finds nothing new.
    await ageSweeps();
    const next = await startSweep(h.deps, 5);
    await drain(h);
    expect((await getRun(env.DB, next!.id))!.run).toMatchObject({ status: "completed", handed: 0 });
  }, 60_000);

  it("does not run with SWEEP_MINUTES=0, and never blocks a running backfill", async () => {
    ws = await buildWorkspace({ lines: 1, people: 1, callsEach: 1, messagesEach: 1, now: Date.now() });
    const h = harness();
    expect(await startSweep(h.deps, 0)).toBeNull();
    const backfill = await startBackfill(h.deps, {}, "admin");
    await ageSweeps();
    expect(await startSweep(h.deps, 5)).toMatchObject({ id: backfill.id, started: false });
    await drain(h);
  }, 60_000);
});

describe("/admin/backfill and the cron, through the real queue", () => {
  const admin = (path: string, init: RequestInit = {}, token = env.ADMIN_TOKEN!) =>
    worker.fetch(new Request(`http://worker/admin/backfill${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" } }), env, createExecutionContext());

  async function waitForEnd(id: string): Promise<BackfillProgress> {
    for (let i = 0; i < 120; i++) {
      const progress = await (await admin(`/${id}`)).json<BackfillProgress>();
      if (progress.status !== "running") return progress;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`run ${id} did not end`);
  }

  it("refuses a wrong token and bad input with a clear message", async () => {
    ws = await buildWorkspace({ lines: 1, people: 1, callsEach: 1, messagesEach: 1, now: Date.now() });
    expect((await admin("", { method: "POST", body: "{}" }, "wrong")).status).toBe(401);
    const badSince = await admin("", { method: "POST", body: JSON.stringify({ since: "last week" }) });
    expect(badSince.status).toBe(400);
    expect((await badSince.json<{ message: string }>()).message).toMatch(/since must be a date/);
    const notJson = await admin("", { method: "POST", body: "since=2026" });
    expect(notJson.status).toBe(400);
    const badLine = await admin("", { method: "POST", body: JSON.stringify({ lines: ["PNmissing"] }) });
    expect(badLine.status).toBe(400);
    expect((await badLine.json<{ message: string }>()).message).toMatch(/unknown line\(s\) PNmissing/);
    expect((await admin("/no-such-run")).status).toBe(404);
  });

  it("starts a run, answers the running id to a second request, shows progress until it completes; the cron adds nothing new", async () => {
    ws = await buildWorkspace({ lines: 2, people: 3, callsEach: 2, messagesEach: 2, now: Date.now() });
    const { calls, messages } = totals(ws);
    const created = await admin("", { method: "POST", body: JSON.stringify({ since: new Date(Date.now() - 85 * 86_400_000).toISOString().slice(0, 10) }) });
    expect(created.status).toBe(202);
    const { id } = await created.json<{ id: string }>();
    const second = await admin("", { method: "POST", body: "" });
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ id, alreadyRunning: true });

    const done = await waitForEnd(id);
    expect(done).toMatchObject({ status: "completed", handed: calls + messages, failed: 0, trigger: "admin" });
    expect(done.lines.map((l) => l.status)).toEqual(["completed", "completed"]);
    expect(done.requests.openphone).toBeGreaterThan(0);

    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: BACKFILL_CRON }), env, createExecutionContext());
    const latest = await env.DB.prepare("SELECT id FROM backfill_runs WHERE trigger = 'cron' ORDER BY started_at DESC LIMIT 1").first<{ id: string }>();
    expect(latest).not.toBeNull();
    const cron = await waitForEnd(latest!.id);
    expect(cron).toMatchObject({ status: "completed", handed: 0 });
  }, 90_000);
});

// Last: the 429s it provokes slow the shared OpenPhone gate down for a minute, as they should.
describe("faults", () => {
  it("ends with the same exact set under duplicate deliveries, lost continuations, a Line DO restart and 429s", async () => {
    ws = await buildWorkspace({ lines: 3, people: 4, callsEach: 2, messagesEach: 3, now: Date.now() });
    const { calls, messages } = totals(ws);
    // OpenPhone's rate limit, well below what the gate lets through: a share of the listings is answered 429.
    await openphone.control("PUT", "config", { rateLimitPerSecond: 5 });
    const h = harness({ enqueueFailsEvery: 3, ingestFailsEvery: 5 });
    const started = await startBackfill(h.deps, {}, "admin").catch(async () => startBackfill(h.deps, {}, "admin"));
    await drain(h, { duplicates: true });
    const run = (await getRun(env.DB, started.id))!.run;
    expect(run.status).toBe("completed");
    expect(h.merged.size).toBe(calls + messages);
    // Counters are added once per step, whichever copy of it ran: the listing is exactly the clean one.
    expect(run).toMatchObject({ listed: 15, planned: 15, failed: 0 });
    expect(run.fetched).toBe(calls + messages + 3 * 2 * 2);
    expect(run.handed).toBeLessThanOrEqual(calls + messages);
    expect(run.handed + run.skipped).toBe(run.fetched);
    expect((await requestsSince()).rateLimited).toBeGreaterThan(0);
  }, 90_000);

});
