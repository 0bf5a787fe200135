/**
 * What a flush's result does to the stored record and to the report written to D1: a success clears the record (or
 * leaves it due when events arrived meanwhile); a permanent failure parks it and dead-letters its original events
 * with Notion's message and the property; anything else is retried with backoff. Every flush leaves a history row
 * and the `resources` mirror.
 */
import type { FlushReport } from "../db/sync-history";
import type { RequestCounter } from "../gates/gated-fetch";
import type { DatabaseKind } from "../notion/schema";
import type { FlushResult } from "./flush";
import { FLUSH_RETRY_BACKOFF, productsDueAt } from "./schedule";
import { backoffMs } from "../retry/backoff";
import { mergeCall, type ResourceState } from "./state";
import type { LineStorage, ResourceRecord } from "./storage";

export interface SettleContext {
  canvasPageId: string | null;
  /** When the oldest event this flush wrote arrived (for the latency). */
  pendingSince: number | null;
  counter: RequestCounter;
  participantOf(state: ResourceState): string | undefined;
  /** The clock the retry times count from (`Date.now` unless a test moves time). */
  now?: () => number;
}

/** The create claim a flush leaves: cleared once settled, else with the unknown attempt's end and lookups so far. */
export function claimAfter(result: FlushResult): Pick<ResourceRecord, "claim" | "claimUnknownAt" | "claimLookups"> {
  const settled = Boolean(result.pageId) || result.claimSettled;
  return settled ? { claim: null, claimUnknownAt: null, claimLookups: 0 } : { claim: "creating", claimUnknownAt: result.claimUnknownAt, claimLookups: result.claimLookups };
}

export function settleFlush(store: LineStorage, flushed: ResourceRecord, result: FlushResult, ctx: SettleContext, report: FlushReport): void {
  const { canvasPageId, pendingSince, counter } = ctx;
  const now = (ctx.now ?? Date.now)();
  const current = store.get(flushed.resourceId) ?? flushed;
  let state = current.state;
  for (const e of result.enrichments) if (state.kind === "call") state = mergeCall(state, e.patch, e.source);
  const changedMeanwhile = current.version !== flushed.version;
  const next: ResourceRecord = {
    ...current,
    state,
    pageId: result.pageId ?? current.pageId,
    writtenProps: result.writtenProps,
    bodySections: result.bodySections,
    links: result.links,
    canvasPageId: canvasPageId ?? current.canvasPageId,
    ...claimAfter(result),
  };
  const database: DatabaseKind = flushed.kind === "call" ? "calls" : "messages";
  const history = { resourceId: flushed.resourceId, kind: flushed.kind, source: flushed.source, pageId: next.pageId, notionRequests: counter.notion, openphoneRequests: counter.openphone };
  if (result.outcome === "created" || result.outcome === "updated" || result.outcome === "unchanged") {
    Object.assign(next, { attempts: 0, dirty: changedMeanwhile, dueAt: changedMeanwhile ? current.dueAt : null, failedAt: null, failedReason: null, failedProperty: null });
    // Products still being produced (now that the page exists and the flush asked OpenPhone): look again at the end
    // of the wait in case a webhook never comes. Events that arrived during the flush (a recording while the page
    // was being created) wait with them rather than costing an update of their own.
    const held = productsDueAt(next, now);
    if (held !== null) Object.assign(next, { dirty: true, dueAt: changedMeanwhile && current.dueAt !== null ? Math.max(current.dueAt, held) : held });
    if (!changedMeanwhile) store.markEventsFlushed(flushed.resourceId, now);
    store.requestMediaCopies(result.mediaCopies, now);
    report.history.push({ ...history, outcome: result.outcome, latencyMs: result.outcome === "unchanged" || pendingSince === null ? null : now - pendingSince, error: null });
    if (!report.healthyDatabases.includes(database)) report.healthyDatabases.push(database);
  } else if (result.outcome === "failed") {
    Object.assign(next, { dirty: false, dueAt: null, failedAt: now, failedReason: result.message, failedProperty: result.property ?? null });
    for (const message of store.eventMessages(flushed.resourceId)) {
      report.deadLetters.push({ messageId: message.eventId, queue: "sync-events", resourceId: flushed.resourceId, body: message, reason: result.message, property: result.property ?? null });
    }
    if (result.property) report.schemaProblems.push({ database, property: result.property, message: result.message });
    report.history.push({ ...history, outcome: "failed", latencyMs: null, error: result.message });
  } else if (result.outcome === "retry" || result.outcome === "blocked") {
    const attempts = current.attempts + 1;
    Object.assign(next, { attempts, dirty: true, dueAt: now + Math.max(result.delayMs, backoffMs(FLUSH_RETRY_BACKOFF, attempts)) });
    if (result.outcome === "blocked") report.schemaProblems.push({ database, property: "", message: result.message });
    report.history.push({ ...history, outcome: "skipped", latencyMs: null, error: `will retry: ${result.message}` });
  }
  store.put(next);
  const m = report.metrics;
  m[`sync.${result.outcome}`] = (m[`sync.${result.outcome}`] ?? 0) + 1;
  if (result.duplicatePrevented) m["sync.duplicate_prevented"] = (m["sync.duplicate_prevented"] ?? 0) + 1;
  m["notion.requests"] = (m["notion.requests"] ?? 0) + counter.notion;
  m["openphone.requests"] = (m["openphone.requests"] ?? 0) + counter.openphone;
  m["notion.rate_limited"] = (m["notion.rate_limited"] ?? 0) + counter.rateLimited;
  const s = next.state;
  const participant = ctx.participantOf(s);
  report.resources.push({
    resourceId: next.resourceId,
    kind: next.kind,
    lineId: s.lineId ?? "unknown",
    participant: participant ?? null,
    pageId: next.pageId,
    canvasPageId: next.canvasPageId,
    status: s.status ?? null,
    occurredAt: s.createdAt ? Date.parse(s.createdAt) || null : null,
    firstEventAt: next.firstEventAt,
    syncedAt: result.outcome === "created" || result.outcome === "updated" ? now : null,
  });
}
