/**
 * What the backfill end-to-end test reads and drives: seeding the OpenPhone emulator's history, starting a run and
 * waiting for its pages, the request counters of both emulators, and the pages as Notion holds them.
 */
import type { BackfillProgress } from "../../src/backfill/types.ts";
import { type DumpedPage, notionPages, plainText, type E2ESandbox } from "./harness.ts";

export interface OpenPhoneStats {
  requests: { total: number; byOperation: Record<string, number>; byStatus: Record<string, number> };
}
export interface NotionStats {
  requests: { total: number; byOperation: Record<string, number>; byOperationAndStatus: Record<string, Record<string, number>> };
  rateLimited: number;
}
export type RunProgress = BackfillProgress;

const DAY_MS = 86_400_000;

/**
 * Seeds exactly `calls` calls and `messages` texts spread over the last 90 days: whole days at an even rate, and the
 * remainder one a day in extra passes. Each pass has its own seed, so ids never repeat.
 */
export async function seedHistory(
  sandbox: E2ESandbox,
  calls: number,
  messages: number,
  seed: number,
  audioBytesPerSecond?: number,
): Promise<{ callIds: string[]; messageIds: string[] }> {
  const passes = [
    { days: 90, callsPerDay: Math.floor(calls / 90), messagesPerDay: Math.floor(messages / 90) },
    { days: calls % 90, callsPerDay: 1, messagesPerDay: 0 },
    { days: messages % 90, callsPerDay: 0, messagesPerDay: 1 },
  ].filter((p) => p.days > 0 && p.callsPerDay + p.messagesPerDay > 0);
  const callIds: string[] = [];
  const messageIds: string[] = [];
  for (const [i, pass] of passes.entries()) {
    const seeded = await sandbox.json<{ callIds: string[]; messageIds: string[] }>(`${sandbox.openphoneUrl}/_emulator/seed`, {
      method: "POST",
      body: JSON.stringify({ ...pass, seed: seed + i, audioBytesPerSecond }),
    });
    callIds.push(...seeded.callIds);
    messageIds.push(...seeded.messageIds);
  }
  return { callIds, messageIds };
}

/** A window start that holds all of the seeded history (91 days back). */
export function ninetyOneDaysAgo(): string {
  return new Date(Date.now() - 91 * DAY_MS).toISOString();
}

export const openphoneStats = (sandbox: E2ESandbox) => sandbox.json<OpenPhoneStats>(`${sandbox.openphoneUrl}/_emulator/stats`);
export const notionStats = (sandbox: E2ESandbox) => sandbox.json<NotionStats>(`${sandbox.notionUrl}/_emulator/stats`);
export const resetNotionStats = (sandbox: E2ESandbox) => sandbox.json(`${sandbox.notionUrl}/_emulator/stats`, { method: "DELETE" });

/** Requests per operation between two snapshots of the OpenPhone emulator's counters. */
export function openphoneDelta(before: OpenPhoneStats, after: OpenPhoneStats): { total: number; byOperation: Record<string, number>; rateLimited: number } {
  const byOperation: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.requests.byOperation)) {
    const d = n - (before.requests.byOperation[op] ?? 0);
    if (d > 0) byOperation[op] = d;
  }
  return { total: after.requests.total - before.requests.total, byOperation, rateLimited: (after.requests.byStatus["429"] ?? 0) - (before.requests.byStatus["429"] ?? 0) };
}

export function createdPages(stats: NotionStats): number {
  return stats.requests.byOperationAndStatus["pages.create"]?.["200"] ?? 0;
}

export async function startRun(sandbox: E2ESandbox, body: Record<string, unknown>): Promise<string> {
  const started = await sandbox.admin<{ id: string; alreadyRunning?: boolean }>("/admin/backfill", { method: "POST", body: JSON.stringify(body) });
  if (started.alreadyRunning) throw new Error(`a backfill was already running: ${started.id}`);
  return started.id;
}

export const runProgress = (sandbox: E2ESandbox, id: string) => sandbox.admin<RunProgress>(`/admin/backfill/${id}`);

/**
 * Waits until the run has ended, Notion has created at least `expectedPages` pages and then stayed quiet for
 * `quietMs` (no request at all), so every Line Durable Object has flushed. Answers when Notion last moved, which is
 * when the work ended (within the one-second polling step).
 */
export async function waitForRunAndPages(
  sandbox: E2ESandbox,
  runId: string,
  expectedPages: () => number,
  options: { timeoutMs: number; quietMs?: number; onTick?: (run: RunProgress) => Promise<void> },
): Promise<{ run: RunProgress; lastNotionActivity: number }> {
  const quietMs = options.quietMs ?? 6000;
  const deadline = Date.now() + options.timeoutMs;
  let lastTotal = -1;
  let lastNotionActivity = Date.now();
  let run: RunProgress | undefined;
  while (Date.now() < deadline) {
    const stats = await notionStats(sandbox);
    if (stats.requests.total !== lastTotal) {
      lastTotal = stats.requests.total;
      lastNotionActivity = Date.now();
    }
    run = await runProgress(sandbox, runId).catch(() => run);
    if (run && options.onTick) await options.onTick(run);
    if (run && run.status !== "running" && createdPages(stats) >= expectedPages() && Date.now() - lastNotionActivity >= quietMs) {
      return { run, lastNotionActivity };
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out: run ${JSON.stringify(run)}, ${createdPages(await notionStats(sandbox))} pages created of ${expectedPages()} expected`);
}

export interface PageSets {
  calls: DumpedPage[];
  messages: DumpedPage[];
}

export async function pageSets(sandbox: E2ESandbox): Promise<PageSets> {
  const [calls, messages] = await Promise.all([notionPages(sandbox, sandbox.sync.notion.calls.dataSourceId), notionPages(sandbox, sandbox.sync.notion.messages.dataSourceId)]);
  return { calls, messages };
}

export const callIdOf = (page: DumpedPage) => plainText(page.properties["Call ID"]);
export const messageIdOf = (page: DumpedPage) => plainText(page.properties["Message ID"]);

/** Ids that name more than one page. */
export function duplicates(ids: string[]): string[] {
  const seen = new Set<string>();
  return [...new Set(ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false))))];
}

export function relationCount(page: DumpedPage): number {
  return ((page.properties["Canvas"]?.relation as unknown[]) ?? []).length;
}

export function selectName(page: DumpedPage, property: string): string | undefined {
  return (page.properties[property]?.select as { name?: string } | null | undefined)?.name;
}
