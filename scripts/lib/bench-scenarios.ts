/**
 * The scenarios of `npm run bench`, run against the end-to-end sandbox (both emulators in this process, the Worker
 * under workerd). Every figure comes from what the emulators saw: Notion requests from the Notion emulator's own
 * counters (`GET /_emulator/stats`, reset with `DELETE` between scenarios), webhook → page latency from the time a
 * call or text is created at the OpenPhone emulator to the first dump of the Notion emulator that holds its page,
 * intake throughput from the answers to signed webhooks this process posts itself (and the lines' pending counts on
 * `/admin/stats` for when they were merged), and the Worker's own timings from its counters on `/admin/stats`.
 */
import { randomUUID } from "node:crypto";
import { buildMessage } from "../../emulators/openphone/message-builder.ts";
import { messageEventObject } from "../../emulators/openphone/views.ts";
import { openPhoneSignature } from "../../emulators/openphone/webhooks/signature.ts";
import { generateRoster, SANDBOX_ROSTER_SIZE, SANDBOX_SEED } from "../../emulators/shared/roster.ts";
import { type DumpedPage, E2E_ADMIN_TOKEN, type E2ESandbox, plainText, waitFor } from "../../test/e2e/harness.ts";
import { createdPages, ninetyOneDaysAgo, type NotionStats as BackfillNotionStats, openphoneDelta, openphoneStats, seedHistory, startRun, runProgress } from "../../test/e2e/backfill-sandbox.ts";
import type { CanvasHitRatioRow } from "../../src/canvas/hit-ratio-types.ts";
import { readLineFigures } from "./sandbox-control.ts";

/** How often the Notion emulator is dumped to see pages appear: latencies are at most this much (plus a dump) high. */
export const PAGE_POLL_MS = 250;
/** Requests must stay unchanged this long, with no line holding anything, before a scenario's count is read. */
const QUIET_MS = 6_000;
const SETTLE_TIMEOUT_MS = 90_000;
const PAGES_TIMEOUT_MS = 180_000;
/**
 * With coalescing off a call can be held for the products wait (up to 10 minutes after it ended) before its last
 * update: the comparison scenario waits this long and then counts what was spent so far.
 */
const HELD_TIMEOUT_MS = 60_000;
/** How long the webhooks of a burst may take to reach their lines, and how often the lines are asked. */
const MERGE_TIMEOUT_MS = 120_000;
const MERGE_POLL_MS = 500;
/** The longest a backfill scenario may take (the full bench's is about 5 minutes of writes). */
const BACKFILL_TIMEOUT_MS = 600_000;

interface NotionStats {
  requests: { total: number; byOperation: Record<string, number> };
  rateLimited: number;
}

export interface ScenarioResult {
  items: number;
  notionRequests: number;
  byOperation: Record<string, number>;
  /** Creation at the OpenPhone emulator → page in the Notion emulator, per item. */
  latenciesMs: number[];
  /** Items still without a complete page when the count was read (only when held items are allowed). */
  incomplete: number;
  seconds: number;
}

export interface IntakeResult {
  sent: number;
  accepted: number;
  statuses: Record<string, number>;
  seconds: number;
  /** From the first post until every accepted webhook was merged into its line (pending there, or written). */
  mergedSeconds: number | null;
}

export interface BackfillResult {
  items: number;
  notionRequests: number;
  openphoneRequests: number;
  byOperation: Record<string, number>;
  rateLimited: number;
  /** From the request that starts the run to Notion's last request for it. */
  seconds: number;
  /** From Notion's first request for the run to its last: the stretch of sustained writes. */
  writingSeconds: number;
  failed: number;
}

/** Numbers no Canvas page and no OpenPhone contact of the sandbox has: +1 202 555 2xxx, leaving out the roster's. */
let unknownNumberSeq = 0;
const rosterPhones = new Set(generateRoster(SANDBOX_SEED, SANDBOX_ROSTER_SIZE).map((person) => person.phone));
function unknownNumber(): string {
  for (;;) {
    const number = `+1202555${2000 + (unknownNumberSeq++ % 8000)}`;
    if (!rosterPhones.has(number)) return number;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class BenchScenarios {
  /** 429s the Notion emulator answered, over every counter read of this run. */
  rateLimitedTotal = 0;
  private lines: string[] = [];
  private customers: string[] = [];

  constructor(private readonly sandbox: E2ESandbox) {}

  /** Reads the Notion emulator's counters, adds its 429s to the run's total and sets the counters back to zero. */
  async takeNotionStats(): Promise<NotionStats> {
    const url = `${this.sandbox.notionUrl}/_emulator/stats`;
    const stats = await this.sandbox.json<NotionStats>(url);
    await this.sandbox.json(url, { method: "DELETE" });
    this.rateLimitedTotal += stats.rateLimited;
    return stats;
  }

  /**
   * One call and one text on every line, to Canvas customers, and a cron pass (the Canvas index refresh), so the
   * measured scenarios start with each line's object running and the index warm. Their requests are not counted.
   */
  async warmUp(): Promise<void> {
    const workspace = await this.sandbox.json<{ phoneNumbers: { id: string }[] }>(`${this.sandbox.openphoneUrl}/_emulator/workspace`);
    this.lines = workspace.phoneNumbers.map((line) => line.id);
    const notion = await this.sandbox.json<{ canvasRosterIndexes: number[] }>(`${this.sandbox.notionUrl}/_emulator/workspace`);
    const roster = generateRoster(SANDBOX_SEED, SANDBOX_ROSTER_SIZE);
    this.customers = notion.canvasRosterIndexes.slice(0, 10).map((i) => roster[i]!.phone);
    await fetch(`${this.sandbox.workerUrl}/__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`, { signal: AbortSignal.timeout(120_000) });
    const watch = new PageWatch(this.sandbox);
    try {
      for (const [i, line] of this.lines.entries()) {
        watch.expect((await this.createCall(line, this.customers[i % this.customers.length]!)).callId, Date.now());
        watch.expect((await this.createText(line, this.customers[(i + 1) % this.customers.length]!, i % 2 === 0)).messageId, Date.now());
      }
      await watch.untilAll("the warm-up pages", (page) => page.kind === "message" || callIsComplete(page));
    } finally {
      watch.stop();
    }
    await this.settle();
    await this.takeNotionStats();
  }

  /**
   * `count` answered calls, one every `spacingMs`, spread over the lines and Canvas customers, each with a recording,
   * a transcript and a summary that the emulator sends within the coalescing window. Counts the Notion requests
   * until every page is complete and the sync is quiet.
   */
  async realtimeCalls(count: number, spacingMs: number, options: { allowHeld?: boolean } = {}): Promise<ScenarioResult> {
    return this.measure(count, spacingMs, "complete call pages", callIsComplete, async (i) => (await this.createCall(this.lineFor(i), this.customerFor(i))).callId, options.allowHeld ?? false);
  }

  /** `count` texts, incoming and outgoing (delivered) in turn, one every `spacingMs`. */
  async realtimeTexts(count: number, spacingMs: number): Promise<ScenarioResult> {
    return this.measure(count, spacingMs, "message pages", () => true, async (i) => (await this.createText(this.lineFor(i), this.customerFor(i), i % 2 === 0)).messageId);
  }

  /**
   * `count` signed `message.received` webhooks for new texts (added to the OpenPhone emulator's store first, so the
   * sync finds them there), posted to the Worker by `concurrency` senders at once. The clock runs from the first post
   * to the last answer; only 202s count as accepted.
   */
  async intakeBurst(count: number, concurrency: number): Promise<IntakeResult> {
    const emulator = this.sandbox.openphoneEmulator;
    const key = (this.sandbox.sync.settings.OPENPHONE_WEBHOOK_KEYS ?? "").split(",")[0];
    if (!key) throw new Error("the sandbox registered no legacy webhook, so there is no key to sign with");
    const bodies = Array.from({ length: count }, (_, i) => {
      const record = buildMessage(emulator.store, { phoneNumberId: this.lineFor(i), participant: this.customerFor(i), direction: "incoming", media: 0, text: `Burst text ${i}` }, new Date());
      emulator.store.addMessage(record);
      const envelope = { id: `EV${randomUUID().replace(/-/g, "")}`, object: "event", apiVersion: "v4", createdAt: new Date().toISOString(), type: "message.received", data: { object: messageEventObject(emulator.store, emulator.baseUrl, record) } };
      return JSON.stringify(envelope);
    });
    const statuses: Record<string, number> = {};
    let next = 0;
    const pendingBefore = await this.pendingTotal();
    const createdBefore = await this.createdPagesSoFar();
    const started = performance.now();
    const sender = async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const status = await fetch(`${this.sandbox.workerUrl}/webhooks/openphone`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "openphone-signature": openPhoneSignature(key, Date.now(), body) },
          body,
          signal: AbortSignal.timeout(60_000),
        }).then(
          async (response) => (await response.body?.cancel(), String(response.status)),
          () => "error",
        );
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, sender));
    const seconds = (performance.now() - started) / 1000;
    const accepted = statuses["202"] ?? 0;
    // Merged: held by its line (pending, within the window or waiting for Notion) or already written.
    let mergedSeconds: number | null = null;
    const deadline = Date.now() + MERGE_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const merged = (await this.pendingTotal()) - pendingBefore + ((await this.createdPagesSoFar()) - createdBefore);
      if (merged >= accepted) {
        mergedSeconds = (performance.now() - started) / 1000;
        break;
      }
      await sleep(MERGE_POLL_MS);
    }
    return { sent: count, accepted, statuses, seconds, mergedSeconds };
  }

  // ---- Rows of the targets beyond requests per call and text (real pace, Canvas lookups, backfill, timings) ----

  /**
   * The call scenario with the OpenPhone emulator at its real pace (timeFactor 1: recording 5 s, transcript 30 s,
   * summary 40 s after the call ends), the previous pace restored after.
   */
  async realPaceCalls(count: number, spacingMs: number): Promise<ScenarioResult> {
    const url = `${this.sandbox.openphoneUrl}/_emulator/config`;
    const before = await this.sandbox.json<{ timeFactor: number }>(url);
    await this.sandbox.json(url, { method: "PUT", body: JSON.stringify({ timeFactor: 1 }) });
    try {
      return await this.realtimeCalls(count, spacingMs);
    } finally {
      await this.sandbox.json(url, { method: "PUT", body: JSON.stringify({ timeFactor: before.timeFactor }) });
    }
  }

  /** `count` incoming texts from numbers no Canvas page has, one every `spacingMs` (0: all at once). */
  async unknownNumberTexts(count: number, spacingMs: number): Promise<ScenarioResult> {
    return this.measure(count, spacingMs, "message pages from unknown numbers", () => true, async (i) => (await this.createText(this.lineFor(i), unknownNumber(), true)).messageId);
  }

  /**
   * Seeds `calls` + `messages` into the OpenPhone emulator's history (no webhooks), backfills the whole window through
   * the admin API and waits until the run has ended, every page is created and Notion has been quiet for QUIET_MS.
   */
  async backfill(calls: number, messages: number, seed: number): Promise<BackfillResult> {
    await seedHistory(this.sandbox, calls, messages, seed);
    await this.settle();
    await this.takeNotionStats();
    const opBefore = await openphoneStats(this.sandbox);
    const started = Date.now();
    const runId = await startRun(this.sandbox, { since: ninetyOneDaysAgo() });
    const items = calls + messages;
    let firstAt: number | null = null;
    let lastAt = started;
    let lastTotal = 0;
    let stats: BackfillNotionStats | undefined;
    let failed = 0;
    const deadline = Date.now() + BACKFILL_TIMEOUT_MS;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`the backfill did not end within ${BACKFILL_TIMEOUT_MS / 1000} s: ${stats ? createdPages(stats) : 0} of ${items} pages created`);
      stats = await this.sandbox.json<BackfillNotionStats>(`${this.sandbox.notionUrl}/_emulator/stats`);
      const now = Date.now();
      if (stats.requests.total !== lastTotal) {
        firstAt ??= now;
        lastAt = now;
        lastTotal = stats.requests.total;
      }
      const run = await runProgress(this.sandbox, runId).catch(() => undefined);
      if (run) failed = run.failed;
      if (run && run.status !== "running" && createdPages(stats) >= items && now - lastAt >= QUIET_MS) break;
      await sleep(1_000);
    }
    const openphone = openphoneDelta(opBefore, await openphoneStats(this.sandbox));
    const taken = await this.takeNotionStats();
    return {
      items,
      notionRequests: taken.requests.total,
      openphoneRequests: openphone.total,
      byOperation: taken.requests.byOperation,
      rateLimited: taken.rateLimited,
      seconds: (lastAt - started) / 1000,
      writingSeconds: ((lastAt - (firstAt ?? lastAt)) / 1000),
      failed,
    };
  }

  /** The dashboard's Canvas hit ratio (`GET /admin/stats`, `canvas`): every lookup since the Worker's database began. */
  async canvasHitRatio(): Promise<CanvasHitRatioRow | null> {
    return (await this.sandbox.admin<{ canvas: CanvasHitRatioRow | null }>("/admin/stats")).canvas;
  }

  /** Every counter of the Worker's last 24 hours (`GET /admin/stats`, `metrics24h`). */
  async workerMetrics(): Promise<Record<string, number>> {
    return (await this.sandbox.admin<{ metrics24h: Record<string, number> }>("/admin/stats")).metrics24h;
  }

  private async pendingTotal(): Promise<number> {
    const figures = await readLineFigures(this.sandbox.workerUrl, E2E_ADMIN_TOKEN, 15_000);
    return figures.ok ? figures.lines.reduce((sum, line) => sum + line.pending, 0) : 0;
  }

  /** Pages the Notion emulator created since its counters were last reset (read without resetting them). */
  private async createdPagesSoFar(): Promise<number> {
    return createdPages(await this.sandbox.json<BackfillNotionStats>(`${this.sandbox.notionUrl}/_emulator/stats`));
  }

  /** Sets runtime flags through the admin API (`PUT /admin/flags`). */
  async putFlags(flags: Record<string, string | null>): Promise<void> {
    await this.sandbox.admin("/admin/flags", { method: "PUT", body: JSON.stringify(flags) });
  }

  private async measure(count: number, spacingMs: number, what: string, complete: (page: WatchedPage) => boolean, create: (i: number) => Promise<string>, allowHeld = false): Promise<ScenarioResult> {
    await this.takeNotionStats();
    const started = Date.now();
    const watch = new PageWatch(this.sandbox);
    const ids: string[] = [];
    let incomplete = 0;
    try {
      for (let i = 0; i < count; i++) {
        const at = Date.now();
        const id = await create(i);
        watch.expect(id, at);
        ids.push(id);
        if (i < count - 1) await sleep(spacingMs);
      }
      incomplete = await watch.untilAll(`${count} ${what}`, complete, allowHeld ? HELD_TIMEOUT_MS : undefined);
    } finally {
      watch.stop();
    }
    await this.settle(allowHeld);
    const stats = await this.takeNotionStats();
    return { items: count, notionRequests: stats.requests.total, byOperation: stats.requests.byOperation, latenciesMs: ids.map((id) => watch.latencyMs(id)), incomplete, seconds: (Date.now() - started) / 1000 };
  }

  /** Waits until no line holds anything and the Notion emulator has seen no request for QUIET_MS. */
  private async settle(ignorePending = false): Promise<void> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let last = -1;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      const total = (await this.sandbox.json<NotionStats>(`${this.sandbox.notionUrl}/_emulator/stats`)).requests.total;
      const figures = await readLineFigures(this.sandbox.workerUrl, E2E_ADMIN_TOKEN, 15_000);
      const pending = figures.ok ? figures.lines.reduce((sum, line) => sum + line.pending, 0) : 0;
      if (total !== last || (pending > 0 && !ignorePending)) quietSince = Date.now();
      last = total;
      if (Date.now() - quietSince >= QUIET_MS) return;
      await sleep(1_000);
    }
    throw new Error(`the sync did not settle (Notion requests still counting or lines pending) within ${SETTLE_TIMEOUT_MS / 1000} s`);
  }

  private lineFor(i: number): string {
    return this.lines[i % this.lines.length]!;
  }

  private customerFor(i: number): string {
    return this.customers[i % this.customers.length]!;
  }

  private createCall(phoneNumberId: string, participant: string) {
    return this.sandbox.json<{ callId: string }>(`${this.sandbox.openphoneUrl}/_emulator/calls`, {
      method: "POST",
      body: JSON.stringify({ phoneNumberId, participant, direction: "incoming", status: "answered", durationSeconds: 95, recording: { segments: 1 }, transcript: { chars: 900 }, summary: true }),
    });
  }

  private createText(phoneNumberId: string, participant: string, incoming: boolean) {
    return this.sandbox.json<{ messageId: string }>(`${this.sandbox.openphoneUrl}/_emulator/messages`, {
      method: "POST",
      body: JSON.stringify({ phoneNumberId, participant, direction: incoming ? "incoming" : "outgoing", status: "delivered", media: 0, text: `Bench text to ${participant}` }),
    });
  }
}

interface WatchedPage {
  kind: "call" | "message";
  page: DumpedPage;
}

/** A call page with its recording link, transcript and summary written. */
function callIsComplete({ kind, page }: WatchedPage): boolean {
  const p = page.properties;
  return kind === "call" && plainText(p["Summary"]).length > 0 && (p["Transcript Status"]?.select as { name?: string } | undefined)?.name === "completed" && typeof p["Recording"]?.url === "string";
}

/** Dumps the Notion emulator every PAGE_POLL_MS and notes when each expected call or text first has a page. */
class PageWatch {
  private readonly createdAt = new Map<string, number>();
  private readonly firstSeenAt = new Map<string, number>();
  private readonly latest = new Map<string, WatchedPage>();
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly sandbox: E2ESandbox) {
    this.loop = this.run();
  }

  expect(id: string, createdAt: number): void {
    this.createdAt.set(id, createdAt);
  }

  latencyMs(id: string): number {
    return (this.firstSeenAt.get(id) ?? Number.NaN) - this.createdAt.get(id)!;
  }

  /**
   * Resolves once every expected id has a page that `complete` accepts, with 0. With `heldTimeoutMs`, resolves after
   * that long with how many are still incomplete instead of failing.
   */
  async untilAll(what: string, complete: (page: WatchedPage) => boolean, heldTimeoutMs?: number): Promise<number> {
    const ids = [...this.createdAt.keys()];
    const done = () => ids.filter((id) => {
      const page = this.latest.get(id);
      return page !== undefined && complete(page);
    }).length;
    try {
      await waitFor(what, heldTimeoutMs ?? PAGES_TIMEOUT_MS, async () => done() === ids.length);
      return 0;
    } catch (error) {
      if (heldTimeoutMs !== undefined) return ids.length - done();
      throw new Error(`${error instanceof Error ? error.message : String(error)}: ${done()} of ${ids.length} complete, ${this.firstSeenAt.size} with a page`);
    }
  }

  stop(): void {
    this.stopped = true;
    void this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const dump = await this.sandbox.json<{ pages: DumpedPage[] }>(`${this.sandbox.notionUrl}/_emulator/dump`);
        const seenAt = Date.now();
        for (const page of dump.pages) {
          if (page.in_trash || page.archived) continue;
          const callId = plainText(page.properties["Call ID"]);
          const id = callId || plainText(page.properties["Message ID"]);
          if (!this.createdAt.has(id)) continue;
          if (!this.firstSeenAt.has(id)) this.firstSeenAt.set(id, seenAt);
          this.latest.set(id, { kind: callId ? "call" : "message", page });
        }
      } catch {
        // A dump that failed is tried again at the next tick; the deadline of untilAll bounds the wait.
      }
      await sleep(PAGE_POLL_MS);
    }
  }
}
