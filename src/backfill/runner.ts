/**
 * The backfill job runner: takes one step of a line's chain from the queue, spends at most the subrequest budget on
 * listings, hands every listed call and text to the line's Durable Object, checkpoints, and queues the next step.
 *
 * Exactly-once bookkeeping over an at-least-once queue: the chain's step in D1 moves by compare-and-set, and the
 * step's counters are added only by the invocation that won it. A message for an older step is a duplicate (acked);
 * one step behind means the continuation may have been lost between the checkpoint and the send, so the
 * checkpointed cursor is sent again (two copies of a step race, one wins, the other stops). The work itself is
 * idempotent: the Line DO drops an event id it already has.
 */
import { incrementMetrics } from "../db/metrics";
import { createLogger } from "../observability/logger";
import { commitStep, finishRunIfDone, getLineRecord, getRunLine, getRunWindow, zeroCounts, type StepCounts } from "../db/backfill-runs";
import { newRequestCounter } from "../gates/gated-fetch";
import { classifyOpenPhoneError, type Call, type Message, type OpenPhoneClient } from "../openphone/client";
import type { BackfillMessage, MessageOutcome, SyncMessage } from "../queue/messages";
import { backoffSeconds, type BackoffPolicy } from "../retry/backoff";
import type { BackfillDeps } from "./deps";
import { callEvent, messageEvent } from "./envelope";
import {
  advanceWork,
  applyConversationsPage,
  conversationsQuery,
  finalWatermark,
  holdWatermark,
  isUnfinishedCall,
  lineWindowStart,
  listingRequest,
  parseLineCursor,
  replaceWork,
  startLine,
  sweepWindowStart,
  type ConversationWork,
  type LineCursor,
} from "./plan";

/** Subrequests one listing costs: the gate permit, the request, the gate report and the Line DO ingest. */
export const SUBREQUESTS_PER_LISTING = 4;
/** Conversations of one line listed at the same time within a step. */
export const LISTINGS_IN_FLIGHT = 4;
/** Consecutive steps that could not move before a line's chain gives up. */
export const MAX_CONSECUTIVE_FAILURES = 12;

/**
 * How a step stopped. A retry that `yielded` made way for the API's budget (the gate's line was long, or OpenPhone
 * answered 429): the chain comes back after the wait it was given, and it does not count as a failure of the line.
 */
type StepEnd = { kind: "continue" } | { kind: "retry"; delayMs: number; reason: string; yielded?: boolean } | { kind: "fail"; reason: string };

const isFailure = (end: StepEnd) => end.kind === "retry" && !end.yielded;

interface ListingResult {
  work: ConversationWork | null;
  end: StepEnd;
  holds: string[];
  /** Why a listing was skipped, kept as the run's last error. */
  skipped?: string;
}

export async function runBackfillJob(message: BackfillMessage, deps: BackfillDeps): Promise<MessageOutcome> {
  const cursor = parseLineCursor(message.job);
  if (!cursor || typeof message.runId !== "string" || typeof message.lineId !== "string") {
    return { status: "failed", reason: "malformed backfill job: expected {runId, lineId, job: LineCursor}" };
  }
  const row = await getRunLine(deps.db, message.runId, message.lineId);
  if (!row) return { status: "failed", reason: `backfill run ${message.runId} has no chain for line ${message.lineId}` };
  if (row.status !== "running" || cursor.step > row.step) return { status: "done" };
  if (cursor.step < row.step) {
    if (cursor.step === row.step - 1) {
      await deps.enqueue([{ type: "backfill", runId: message.runId, lineId: message.lineId, job: JSON.parse(row.cursor) as LineCursor }]);
    }
    return { status: "done" };
  }
  return runStep(message.runId, message.lineId, cursor, deps);
}

async function runStep(runId: string, lineId: string, start: LineCursor, deps: BackfillDeps): Promise<MessageOutcome> {
  const { config, db } = deps;
  const counter = newRequestCounter();
  const client = deps.openphone(counter);
  const counts = zeroCounts();
  let cursor = start;
  let end: StepEnd = { kind: "continue" };
  let note: string | undefined;
  let listings = Math.max(1, Math.floor(config.BACKFILL_SUBREQUEST_BUDGET / SUBREQUESTS_PER_LISTING));
  // Only the first step reads the run; later steps learn whether it is a sweep when they complete the chain.
  let sweep: boolean | undefined;

  if (cursor.kind === "line") {
    const run = await getRunWindow(db, runId);
    sweep = run?.trigger === "sweep";
    const line = await getLineRecord(db, lineId);
    const now = deps.now();
    const windowStart = sweep
      ? sweepWindowStart({ backfillWatermark: line.watermark, sweepWatermark: line.sweepWatermark, now })
      : lineWindowStart({ since: run?.since, watermark: line.watermark, lookbackDays: config.BACKFILL_LOOKBACK_DAYS, now });
    cursor = startLine(cursor, windowStart, now, line.number ?? undefined);
  }

  while (cursor.kind !== "done" && listings > 0 && end.kind === "continue") {
    if (cursor.kind === "conversations") {
      listings--;
      try {
        const page = await client.request("listConversations_v1", { query: conversationsQuery(lineId, cursor) });
        const applied = applyConversationsPage(cursor, page);
        cursor = { ...applied.cursor, failures: 0 };
        counts.planned += applied.planned;
      } catch (error) {
        const classified = classify(error);
        end = classified.kind === "skip" ? { kind: "fail", reason: `listing conversations: ${classified.reason}` } : classified;
        cursor = { ...cursor, failures: isFailure(end) ? cursor.failures + 1 : cursor.failures };
      }
      continue;
    }
    const taken = cursor.work.slice(0, Math.min(LISTINGS_IN_FLIGHT, listings));
    listings -= taken.length;
    const results = await Promise.all(taken.map((work) => listAndMerge(runId, lineId, cursor.createdAfter!, work, client, counts, deps)));
    for (const result of results) {
      for (const createdAt of result.holds) cursor = holdWatermark(cursor, createdAt);
      if (result.skipped) note = result.skipped;
    }
    const stops = results.map((r) => r.end).filter((e) => e.kind !== "continue");
    cursor = replaceWork(cursor, taken.length, results.map((r) => r.work), stops.some(isFailure));
    end = stops.find((e) => e.kind === "fail") ?? stops.find((e) => e.kind === "retry") ?? end;
  }
  counts.openphoneRequests = counter.openphone;

  if (end.kind === "retry" && cursor.failures >= MAX_CONSECUTIVE_FAILURES) {
    end = { kind: "fail", reason: `gave up after ${cursor.failures} failed attempts: ${end.reason}` };
  }
  const status = end.kind === "fail" ? "failed" : cursor.kind === "done" ? "completed" : "running";
  const next: LineCursor = { ...cursor, step: start.step + 1 };
  const now = deps.now();
  const won = await commitStep(db, {
    runId,
    lineId,
    step: start.step,
    attempt: crypto.randomUUID(),
    cursor: next,
    status,
    counts,
    ...(status === "completed" ? { watermark: finalWatermark(next), watermarkKind: await watermarkKind(db, runId, sweep) } : {}),
    // Transient reasons (429s, the gate asking backfill to yield) are not errors of the run.
    ...(end.kind === "fail" ? { error: end.reason } : note ? { error: note } : {}),
    now,
  });
  // Requests were spent whether or not this invocation won the step: the workspace counter takes them all.
  await incrementMetrics(db, { "openphone.requests.backfill": counter.openphone }, now).catch((error) =>
    createLogger(config.LOG_LEVEL, { runId, lineId }).warn("could not count the step's OpenPhone requests", { error }),
  );
  if (!won) return { status: "done" };
  if (status === "running") {
    const delaySeconds = end.kind === "retry" ? Math.max(Math.ceil(end.delayMs / 1000), end.yielded ? 0 : backoffSeconds(CHAIN_BACKOFF, next.failures)) : 0;
    await deps.enqueue([{ type: "backfill", runId, lineId, job: next }], delaySeconds);
  } else {
    await finishRunIfDone(db, runId, now);
  }
  return { status: "done" };
}

/** Which watermark a completed chain moves: the sweep's own, or the backfill's. */
async function watermarkKind(db: D1Database, runId: string, sweep: boolean | undefined): Promise<"sweep" | "backfill"> {
  const isSweep = sweep ?? (await getRunWindow(db, runId))?.trigger === "sweep";
  return isSweep ? "sweep" : "backfill";
}

/** Lists one page of one conversation, merges its items, and says where that conversation stands now. */
async function listAndMerge(
  runId: string,
  lineId: string,
  createdAfter: string,
  work: ConversationWork,
  client: OpenPhoneClient,
  counts: StepCounts,
  deps: BackfillDeps,
): Promise<ListingResult> {
  const request = listingRequest(lineId, createdAfter, work);
  let page: { data: (Call | Message)[]; nextPageToken: string | null };
  try {
    page = request.operation === "listCalls_v1" ? await client.request("listCalls_v1", { query: request.query }) : await client.request("listMessages_v1", { query: request.query });
  } catch (error) {
    const classified = classify(error);
    if (classified.kind !== "skip") return { work, end: classified, holds: [] };
    // This listing can never succeed (a number the API refuses): record it and move on with the rest.
    counts.failed++;
    const next = advanceWork(work, null);
    if (next === null) counts.listed++;
    return { work: next, end: { kind: "continue" }, holds: [], skipped: `${request.operation} for ${request.query.participants.join(", ")}: ${classified.reason}` };
  }

  const receivedAt = deps.now();
  const events: SyncMessage[] = [];
  const holds: string[] = [];
  for (const item of page.data) {
    if (request.operation === "listCalls_v1") {
      const call = item as Call;
      if (isUnfinishedCall(call)) {
        holds.push(call.createdAt);
        counts.skipped++;
      } else events.push(callEvent(lineId, runId, call, receivedAt));
    } else {
      events.push(messageEvent(lineId, runId, item as Message, receivedAt));
    }
  }
  if (events.length > 0) {
    let result;
    try {
      result = await deps.ingest(lineId, events);
    } catch (error) {
      return { work, end: { kind: "retry", delayMs: 1000, reason: `Line DO ingest: ${String(error)}` }, holds: [] };
    }
    const retry = result.outcomes.find((o) => o.status === "retry");
    if (retry && retry.status === "retry") return { work, end: { kind: "retry", delayMs: retry.delaySeconds * 1000, reason: retry.reason }, holds: [] };
    counts.handed += result.accepted;
    counts.skipped += result.duplicates;
    counts.failed += result.outcomes.filter((o) => o.status === "failed").length;
  }
  counts.fetched += page.data.length;
  const next = advanceWork(work, page.nextPageToken);
  if (next === null) counts.listed++;
  return { work: next, end: { kind: "continue" }, holds };
}

/** Retry later (rate limit, outage, the gate asking backfill to yield), fail the line (auth), or skip one listing. */
function classify(error: unknown): { kind: "retry"; delayMs: number; reason: string; yielded?: boolean } | { kind: "fail"; reason: string } | { kind: "skip"; reason: string } {
  const failure = classifyOpenPhoneError(error);
  switch (failure.kind) {
    case "gate_closed":
      return { kind: "retry", delayMs: failure.retryAfterMs, reason: failure.message, yielded: !failure.circuitOpen };
    case "rate_limited":
      return { kind: "retry", delayMs: failure.retryAfterMs ?? 0, reason: failure.message, yielded: true };
    case "transient":
      return { kind: "retry", delayMs: failure.retryAfterMs ?? 0, reason: failure.message };
    case "unauthorized":
      return { kind: "fail", reason: `OpenPhone refused the API key: ${failure.message}` };
    case "not_found":
    case "permanent":
      return { kind: "skip", reason: failure.message };
    case "unknown":
      return { kind: "retry", delayMs: 0, reason: failure.message };
  }
}

/** Waits between steps that could not move: within 2 s, 4 s, 8 s … of the failures in a row, at most 5 minutes. */
export const CHAIN_BACKOFF: BackoffPolicy = { baseMs: 2000, capMs: 5 * 60_000 };
