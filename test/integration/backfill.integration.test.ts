import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
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
import { answer, buildWorkspace, type FakeStats, type FakeWorkspace } from "./fake-openphone";


/** The secrets and database ids a deployment has (the workers project binds none). */
const TEST_SECRETS = {
  OPENPHONE_API_KEY: "test-openphone-key",
  NOTION_TOKEN: "test-notion-token",
  ADMIN_TOKEN: "test-admin-token",
  NOTION_CALLS_DATABASE_ID: "0123456789abcdef0123456789abcdef",
  NOTION_MESSAGES_DATABASE_ID: "fedcba9876543210fedcba9876543210",
  OPENPHONE_WEBHOOK_KEYS: "ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=",
  MEDIA_SIGNING_KEYS: "media-signing-key-for-tests-0001",
};

let ws: FakeWorkspace;
let stats: FakeStats;
let rateLimitEvery: number | undefined;

beforeEach(() => {
  stats = { requests: 0, byPath: {}, badRequests: [] };
  rateLimitEvery = undefined;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => answer(ws, stats, new Request(input, init), { rateLimitEvery }));
});
afterEach(() => vi.restoreAllMocks());

interface Harness {
  deps: BackfillDeps;
  queue: BackfillMessage[];
  /** Distinct event ids the Line DOs were handed. */
  merged: Set<string>;
}

function harness(faults: { enqueueFailsEvery?: number; ingestFailsEvery?: number } = {}, lineFilter: LineFilter = { sync: [], skip: [] }): Harness {
  const { config } = loadConfig({ ...env, ...TEST_SECRETS, BACKFILL_SUBREQUEST_BUDGET: "24" });
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

function totals(workspace: FakeWorkspace) {
  return { calls: workspace.calls.filter((c) => c.status === "completed").length, messages: workspace.messages.length };
}

describe("backfill job chains", () => {
  it("leaves out the lines the line filter skips, whether named by id or by number", async () => {
    ws = buildWorkspace({ prefix: "k", lines: 3, people: 2, callsEach: 1, messagesEach: 1, now: Date.now() });
    // Line 2 by its number as a person would type it; line 3 by its id.
    const h = harness({}, lineFilterOf({ SYNC_LINES: [], SKIP_LINES: ["(555) 000-0002", "PNkline3"] }, "US"));
    const started = await startBackfill(h.deps, {}, "admin");
    expect(started).toMatchObject({ started: true, lines: ["PNkline1"] });
    await drain(h);
    const lineOf = new Map([...ws.calls, ...ws.messages].map((item) => [`backfill:${item.id}`, item.phoneNumberId]));
    expect(h.merged.size).toBeGreaterThan(0);
    expect(new Set([...h.merged].map((eventId) => lineOf.get(eventId)))).toEqual(new Set(["PNkline1"]));

    await expect(startBackfill(harness({}, lineFilterOf({ SYNC_LINES: ["PNkline1"], SKIP_LINES: [] }, "US")).deps, { lines: ["PNkline2"] }, "admin")).rejects.toThrow(
      /line\(s\) not synced: PNkline2 \(SYNC_LINES does not name it\)/,
    );
  });

  it("merges every call and text of every line once and moves each line's watermark to the run's start", async () => {
    ws = buildWorkspace({ prefix: "a", lines: 3, people: 4, callsEach: 2, messagesEach: 3, now: Date.now(), unfinishedCallOnLine: 2 });
    const { calls, messages } = totals(ws);
    const h = harness();
    const started = await startBackfill(h.deps, {}, "admin");
    expect(started).toMatchObject({ started: true, lines: ["PNaline1", "PNaline2", "PNaline3"] });
    expect(h.queue).toHaveLength(3);
    await drain(h);

    const found = (await getRun(env.DB, started.id))!;
    expect(found.run).toMatchObject({ status: "completed", handed: calls + messages, failed: 0, planned: 15, listed: 15, error: null });
    // Calls of the group conversation's two members are listed twice; the second listing merges nothing new.
    expect(found.run.fetched).toBe(found.run.handed + found.run.skipped);
    // The unfinished call's participant is also in the group conversation: it is held back twice.
    expect(found.run.skipped).toBe(3 * 2 * 2 + 2);
    expect(h.merged.size).toBe(calls + messages);
    expect(found.run.openphone_requests).toBe(stats.requests);
    expect(stats.badRequests).toEqual([]);
    expect(found.lines.map((l) => l.status)).toEqual(["completed", "completed", "completed"]);

    const marks = await env.DB.prepare("SELECT phone_number_id, number, backfill_watermark FROM lines WHERE phone_number_id LIKE 'PNaline%' ORDER BY 1").all<{ phone_number_id: string; number: string; backfill_watermark: number }>();
    expect(marks.results.map((r) => r.number)).toEqual(["+15550000001", "+15550000002", "+15550000003"]);
    // Line 2 had a call still in progress: its watermark stays before it so the next run lists it again.
    const ringing = Date.parse(ws.calls.find((c) => c.id === "ACringing2")!.createdAt);
    expect(marks.results[1]!.backfill_watermark).toBe(ringing - 1);
    expect(marks.results[0]!.backfill_watermark).toBeGreaterThanOrEqual(found.run.started_at);

    // A second run lists only what is new: the phone numbers, then one conversations page per line, nothing else.
    stats.requests = 0;
    stats.byPath = {};
    const second = await startBackfill(h.deps, {}, "cron");
    await drain(h);
    const again = (await getRun(env.DB, second.id))!.run;
    console.log(`second backfill run: ${again.openphone_requests} OpenPhone requests (listing only), ${again.handed} new items`);
    expect(again).toMatchObject({ status: "completed", handed: 0, failed: 0 });
    expect(stats.byPath["/v1/calls"] ?? 0).toBeLessThanOrEqual(1); // line 2's conversation with the unfinished call
    expect(again.openphone_requests).toBe(stats.requests);
    expect(again.openphone_requests).toBeLessThanOrEqual(1 + 3 + 2);
  }, 60_000);

  it("resumes a chain whose next step was lost (a restart that emptied the queue) from its checkpoint", async () => {
    ws = buildWorkspace({ prefix: "f", lines: 2, people: 4, callsEach: 2, messagesEach: 3, now: Date.now() });
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
    ws = buildWorkspace({ prefix: "c", lines: 2, people: 3, callsEach: 2, messagesEach: 2, now: Date.now() });
    const h = harness();
    const since = Date.now() - 20 * 86_400_000;
    const first = await startBackfill(h.deps, { since, lines: ["PNcline1"] }, "admin");
    const overlapping = await startBackfill(h.deps, { lines: ["PNcline2", "PNcline1"] }, "admin");
    expect(overlapping).toMatchObject({ id: first.id, started: false });
    await expect(startBackfill(h.deps, { lines: ["PNnope"] }, "admin")).rejects.toThrow(/unknown line\(s\) PNnope; this workspace's lines are: PNcline1 \(\+15550000001\), PNcline2/);
    await drain(h);
    const run = (await getRun(env.DB, first.id))!.run;
    const inWindow = [...ws.calls, ...ws.messages].filter((i) => i.phoneNumberId === "PNcline1" && Date.parse(i.createdAt) > since).length;
    expect(run).toMatchObject({ status: "completed", handed: inWindow, since });
    expect(inWindow).toBeLessThan(ws.calls.length + ws.messages.length);
  }, 60_000);
});

describe("the frequent sweep", () => {
  /** Sweeps are workspace-wide and spaced SWEEP_MINUTES apart: age the earlier ones so the next may start. */
  const ageSweeps = () => env.DB.prepare("UPDATE backfill_runs SET started_at = started_at - 600000 WHERE trigger = 'sweep'").run();
  beforeEach(ageSweeps);
  /** A text sent from the app a minute ago: OpenPhone sends no webhook for "sent", so only a listing finds it. */
  function sendFromApp(workspace: FakeWorkspace, lineId: string, id: string): void {
    const line = workspace.lines.find((l) => l.id === lineId)!;
    const conversation = workspace.conversations.find((c) => c.phoneNumberId === lineId && c.participants.length === 1)!;
    const at = new Date(Date.now() - 60_000).toISOString();
    workspace.messages.push({ id, to: conversation.participants, from: line.number, text: "sent from the app", phoneNumberId: lineId, direction: "outgoing", userId: "USowner", status: "sent", createdAt: at, updatedAt: at });
    conversation.updatedAt = at;
  }

  it("finds what no webhook announced since the line's last run, moves only its own watermark, and waits SWEEP_MINUTES", async () => {
    ws = buildWorkspace({ prefix: "s", lines: 2, people: 3, callsEach: 1, messagesEach: 2, now: Date.now() });
    const h = harness();
    const first = await startBackfill(h.deps, {}, "admin");
    await drain(h);
    const marks = () => env.DB.prepare("SELECT backfill_watermark AS backfill, sweep_watermark AS sweep FROM lines WHERE phone_number_id = 'PNsline1'").first<{ backfill: number; sweep: number | null }>();
    const before = (await marks())!;
    expect(before.sweep).toBeNull();

    sendFromApp(ws, "PNsline1", "ACsentFromApp");
    stats.requests = 0;
    stats.byPath = {};
    const swept = await startSweep(h.deps, 5);
    expect(swept).toMatchObject({ started: true });
    await drain(h);
    const run = (await getRun(env.DB, swept!.id))!.run;
    // Only the new text is handed; the one conversation it is in is listed again, nothing older.
    expect(run).toMatchObject({ trigger: "sweep", status: "completed", handed: 1, failed: 0 });
    expect(h.merged.has("backfill:ACsentFromApp")).toBe(true);
    expect(stats.byPath["/v1/conversations"]).toBe(2);
    expect(stats.byPath["/v1/messages"]).toBe(1);
    const after = (await marks())!;
    expect(after.backfill).toBe(before.backfill);
    expect(after.sweep).toBeGreaterThanOrEqual(run.started_at);

    // Too soon for another; the backfill list keeps sweeps apart.
    expect(await startSweep(h.deps, 5)).toBeNull();
    const listed = await worker.fetch(new Request("http://worker/admin/backfill", { headers: { Authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}` } }), { ...env, ...TEST_SECRETS }, createExecutionContext());
    const body = await listed.json<{ runs: BackfillProgress[]; sweeps: BackfillProgress[] }>();
    expect(body.runs.map((r) => r.id)).toContain(first.id);
    expect(body.runs.map((r) => r.id)).not.toContain(swept!.id);
    expect(body.sweeps[0]).toMatchObject({ id: swept!.id, handed: 1 });
  }, 60_000);

  it("on a line never backfilled, looks back one hour only; a backfill started during a sweep ends the sweep and runs", async () => {
    ws = buildWorkspace({ prefix: "t", lines: 1, people: 2, callsEach: 1, messagesEach: 2, now: Date.now() });
    sendFromApp(ws, "PNtline1", "ACrecentOnly");
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
    ws = buildWorkspace({ prefix: "u", lines: 1, people: 1, callsEach: 1, messagesEach: 1, now: Date.now() });
    const h = harness();
    expect(await startSweep(h.deps, 0)).toBeNull();
    const backfill = await startBackfill(h.deps, {}, "admin");
    await ageSweeps();
    expect(await startSweep(h.deps, 5)).toMatchObject({ id: backfill.id, started: false });
    await drain(h);
  }, 60_000);
});

describe("/admin/backfill and the cron, through the real queue", () => {
  const admin = (path: string, init: RequestInit = {}, token = TEST_SECRETS.ADMIN_TOKEN) =>
    worker.fetch(new Request(`http://worker/admin/backfill${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" } }), { ...env, ...TEST_SECRETS }, createExecutionContext());

  async function waitForEnd(id: string): Promise<BackfillProgress> {
    for (let i = 0; i < 120; i++) {
      const progress = await (await admin(`/${id}`)).json<BackfillProgress>();
      if (progress.status !== "running") return progress;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`run ${id} did not end`);
  }

  it("refuses a wrong token and bad input with a clear message", async () => {
    ws = buildWorkspace({ prefix: "d", lines: 1, people: 1, callsEach: 1, messagesEach: 1, now: Date.now() });
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
    ws = buildWorkspace({ prefix: "e", lines: 2, people: 3, callsEach: 2, messagesEach: 2, now: Date.now() });
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

    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: BACKFILL_CRON }), { ...env, ...TEST_SECRETS }, createExecutionContext());
    const latest = await env.DB.prepare("SELECT id FROM backfill_runs WHERE trigger = 'cron' ORDER BY started_at DESC LIMIT 1").first<{ id: string }>();
    expect(latest).not.toBeNull();
    const cron = await waitForEnd(latest!.id);
    expect(cron).toMatchObject({ status: "completed", handed: 0 });
  }, 90_000);
});

// Last: the 429s it provokes slow the shared OpenPhone gate down for a minute, as they should.
describe("faults", () => {
  it("ends with the same exact set under duplicate deliveries, lost continuations, a Line DO restart and 429s", async () => {
    ws = buildWorkspace({ prefix: "b", lines: 3, people: 4, callsEach: 2, messagesEach: 3, now: Date.now() });
    const { calls, messages } = totals(ws);
    rateLimitEvery = 7;
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
  }, 90_000);

});
