/**
 * Line Durable Object: one per OpenPhone line. Every event of that line's calls and texts meets here, so the map
 * "resource → Notion page" is claimed in strongly consistent storage before Notion is called.
 *
 * `ingest` parses each webhook, stores it once (deduplicated by envelope id), merges it into its call's or text's
 * state and marks that resource due after the coalescing window; all of it is durable before `ingest` returns, and
 * only then is the queue message acknowledged. The alarm flushes due resources (see `flush.ts`). A flush that fails
 * keeps its events and is retried by the alarm with backoff; one that fails permanently (Notion 400) is written to
 * D1 `dead_letters` from here, with Notion's message and the property at fault, together with the problem `/health`
 * shows. Replaying such a dead letter re-enqueues an event this object has seen: the duplicate re-opens the failed
 * resource instead of being swallowed.
 */
import { DurableObject } from "cloudflare:workers";
import { CanvasMatcher } from "../canvas/matcher";
import { getConfig, type Config } from "../config";
import { emptyReport, flushReportStatements, type FlushReport } from "../db/sync-history";
import { incrementMetrics } from "../db/metrics";
import { newRequestCounter, type RequestCounter } from "../gates/gated-fetch";
import { createNotionClient } from "../notion/client";
import { resolvePageParent, type PageParent } from "../notion/pages";
import { resolvePropertyNames, type DatabaseKind } from "../notion/schema";
import { createOpenPhoneClient, type OpenPhoneClient } from "../openphone/client";
import { createLogger } from "../observability/logger";
import type { MessageOutcome, SyncMessage } from "../queue/messages";
import { userDisplayName } from "./enrich";
import { type FlushResult, flushResource, type LineLabel, participantOf } from "./flush";
import { loadWebhookEnvelope } from "../webhooks/envelope-store";
import { parseEnvelope } from "./events";
import { awaitsProducts, emptyCall, emptyMessage, isCallFinished, mergeCall, mergeMessage, type ResourceState } from "./state";
import { LineStorage, type ResourceRecord } from "./storage";

export interface IngestResult {
  /** One outcome per message, in the order given. */
  outcomes: MessageOutcome[];
  accepted: number;
  duplicates: number;
}

export interface ResourceStatus {
  resourceId: string;
  kind: "call" | "message";
  pageId: string | null;
  claim: "creating" | null;
  dirty: boolean;
  dueAt: number | null;
  attempts: number;
  failedReason: string | null;
  failedProperty: string | null;
  source: string;
}

/** A call still ringing or in progress is held this long at most before its page is written anyway. */
export const CALL_HOLD_MS = 15 * 60_000;
/** After a call's page is written, its late recording/transcript/summary are awaited this long to write them at once. */
export const PRODUCTS_WAIT_MS = 10 * 60_000;
const VOICEMAIL_RECHECK_MS = 15_000;
/** Webhook redeliveries stop within about a day (openphone-api.md §8.5); a week of event ids is kept for dedupe. */
const EVENT_RETENTION_MS = 7 * 86_400_000;
/** Resources flushed per alarm; more are left for the next alarm, set right away. */
const FLUSH_BATCH = 25;
const FLUSH_CONCURRENCY = 4;
const LINE_INFO_MAX_AGE_MS = 24 * 3_600_000;

/** Backoff for a failed flush: at least what the server asked, growing with attempts, capped at 15 minutes. */
export function flushBackoffMs(attempts: number, requestedMs: number, random = Math.random): number {
  const ceiling = Math.min(900_000, 5000 * 2 ** Math.max(0, attempts - 1));
  return Math.max(requestedMs, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}

export class LineDurableObject extends DurableObject<Env> {
  private readonly store: LineStorage;
  private readonly canvasCounter = newRequestCounter();
  private matcher?: CanvasMatcher;
  private readonly parents = new Map<string, Promise<PageParent>>();
  private flushing: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LineStorage(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => this.store.migrate());
  }

  /** Stores each event once, merges it into its resource and schedules the flush. */
  async ingest(messages: SyncMessage[]): Promise<IngestResult> {
    const { config } = getConfig(this.env);
    const now = Date.now();
    let accepted = 0;
    let duplicates = 0;
    let ignored = 0;
    const outcomes: MessageOutcome[] = [];
    for (const message of messages) {
      if (message.type !== "webhook") {
        outcomes.push({ status: "failed", reason: `unsupported message type ${message.type}` });
        continue;
      }
      let envelope: unknown;
      try {
        envelope = await loadWebhookEnvelope(this.env.MEDIA, message);
      } catch (error) {
        outcomes.push({ status: "failed", reason: error instanceof Error ? error.message : String(error) });
        continue;
      }
      const parsed = parseEnvelope(envelope, message.receivedAt);
      if (parsed.outcome === "invalid") {
        outcomes.push({ status: "failed", reason: parsed.reason });
        continue;
      }
      if (parsed.outcome === "ignored") {
        ignored++;
        outcomes.push({ status: "done" });
        continue;
      }
      const event = parsed.event;
      const isNew = this.store.recordEvent(message, event.resourceId, event.type, now);
      const current = this.store.get(event.resourceId);
      if (isNew) {
        accepted++;
        const base: ResourceState = current?.state ?? (event.kind === "call" ? emptyCall(event.resourceId) : emptyMessage(event.resourceId));
        const source = { id: event.eventId, at: event.occurredAt };
        const state = event.kind === "call" && base.kind === "call" ? mergeCall(base, event.patch, source) : base.kind === "message" && event.kind === "message" ? mergeMessage(base, event.patch, source) : base;
        // The intake routes by line when it knows it; other routing keys (`call:AC…`) are not lines.
        if (state.lineId === undefined && message.lineId?.startsWith("PN")) state.lineId = message.lineId;
        const record = current ?? newRecord(event.resourceId, event.kind, state, message.receivedAt ?? now);
        this.store.put(this.markDue({ ...record, state, version: record.version + 1, failedAt: null, failedReason: null, failedProperty: null, source: current?.failedAt ? "replay" : record.source }, now, config));
      } else {
        duplicates++;
        // A replayed dead letter: the event is known, but the resource's last flush failed for good. Try again.
        if (current?.failedAt) this.store.put(this.markDue({ ...current, failedAt: null, failedReason: null, failedProperty: null, attempts: 0, source: "replay" }, now, config));
      }
      outcomes.push({ status: "done" });
    }
    await this.armAlarm();
    if (ignored > 0) {
      await incrementMetrics(this.env.DB, { "webhook.ignored": ignored }).catch((error) => createLogger(config.LOG_LEVEL).warn("could not count ignored events", { error }));
    }
    return { outcomes, accepted, duplicates };
  }

  /** Events stored and not yet written to Notion. */
  pendingEvents(): number {
    return this.store.pendingEvents();
  }

  /** Where one call or text stands (for the admin API and tests). */
  resource(resourceId: string): ResourceStatus | undefined {
    const r = this.store.get(resourceId);
    if (!r) return undefined;
    return { resourceId: r.resourceId, kind: r.kind, pageId: r.pageId, claim: r.claim, dirty: r.dirty, dueAt: r.dueAt, attempts: r.attempts, failedReason: r.failedReason, failedProperty: r.failedProperty, source: r.source };
  }

  override async alarm(): Promise<void> {
    // An alarm set while another runs may start before that one ends; flushes of one line never overlap, so a
    // resource is never written by two flushes at once.
    const run = this.flushing.then(() => this.flushDue());
    this.flushing = run.catch(() => undefined);
    await run;
  }

  private async flushDue(): Promise<void> {
    const { config, problems } = getConfig(this.env);
    const log = createLogger(config.LOG_LEVEL, { component: "line" });
    if (problems.some((p) => ["NOTION_TOKEN", "NOTION_CALLS_DATABASE_ID", "NOTION_MESSAGES_DATABASE_ID", "OPENPHONE_API_KEY"].includes(p.setting))) {
      log.warn("flush postponed: the configuration is incomplete (see /health)");
      await this.ctx.storage.setAlarm(Date.now() + 60_000);
      return;
    }
    const now = Date.now();
    const due = this.store.due(now, FLUSH_BATCH);
    const report = emptyReport();
    if (due.length > 0) {
      const canvas = await this.matchCanvas(due, config).catch((error) => {
        log.warn("Canvas lookup failed; pages are written without the relation for now", { error });
        return new Map<string, string | null>();
      });
      const queue = [...due];
      const worker = async () => {
        for (let record = queue.shift(); record; record = queue.shift()) {
          await this.flushOne(record, config, canvas, report).catch((error) => {
            log.error("flush crashed; retrying later", { resourceId: record.resourceId, error });
            const current = this.store.get(record.resourceId);
            if (current) this.store.put({ ...current, attempts: current.attempts + 1, dueAt: Date.now() + flushBackoffMs(current.attempts + 1, 5000) });
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(FLUSH_CONCURRENCY, due.length) }, worker));
      await this.writeReport(report, log);
    }
    this.store.pruneFlushedEvents(now - EVENT_RETENTION_MS);
    await this.armAlarm(true);
  }

  private markDue(record: ResourceRecord, now: number, config: Config): ResourceRecord {
    const state = record.state;
    let candidate = now + config.COALESCE_MS;
    if (state.kind === "call" && state.status !== undefined && !isCallFinished(state.status)) {
      // A ringing call changes again within minutes: hold it (bounded) so one write carries the finished call.
      candidate = Math.max(candidate, record.firstEventAt + CALL_HOLD_MS);
    } else if (state.kind === "call" && record.pageId && awaitsProducts(state)) {
      // The page exists and OpenPhone is still producing the recording, transcript or summary: write them together
      // when the last one is ready (bounded), one update instead of one per product.
      const finishedAt = (state.completedAt ? Date.parse(state.completedAt) : NaN) || record.firstEventAt;
      candidate = Math.max(candidate, finishedAt + PRODUCTS_WAIT_MS);
    }
    const dueAt = record.dirty && record.dueAt !== null ? Math.min(record.dueAt, candidate) : candidate;
    return { ...record, dirty: true, dueAt };
  }

  private async armAlarm(afterAlarm = false): Promise<void> {
    const next = this.store.nextDueAt();
    if (next === null) return;
    const existing = afterAlarm ? null : await this.ctx.storage.getAlarm();
    if (existing === null || existing > next) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  /** The external party, leaving out the line's own number when it is known. */
  private participant(state: ResourceState): string | undefined {
    const cached = state.lineId ? this.store.lineInfo(`line:${state.lineId}`, Number.POSITIVE_INFINITY, Date.now()) : undefined;
    return participantOf(state, cached ? (JSON.parse(cached) as LineLabel).number : undefined);
  }

  private async matchCanvas(records: ResourceRecord[], config: Config): Promise<Map<string, string | null>> {
    this.matcher ??= new CanvasMatcher(this.env, config, this.canvasCounter);
    const keys = records.map((r) => this.participant(r.state)).filter((k): k is string => Boolean(k));
    return this.matcher.match(keys);
  }

  private async flushOne(record: ResourceRecord, config: Config, canvas: Map<string, string | null>, report: FlushReport): Promise<void> {
    const counter = newRequestCounter();
    const notion = createNotionClient(this.env, config, counter);
    const openphone = createOpenPhoneClient(this.env, config, counter);
    if (!record.state.lineId?.startsWith("PN") && (await this.handOff(record, openphone))) return;
    const pendingSince = this.store.pendingSince(record.resourceId);
    const participant = this.participant(record.state);
    const canvasPageId = participant ? (canvas.get(participant) ?? null) : null;
    const result = await flushResource(record, {
      config,
      notion,
      openphone,
      canvasPageId,
      now: Date.now,
      names: (kind) => resolvePropertyNames(kind, config.NOTION_PROPERTY_MAP),
      parent: (kind) => this.pageParent(kind, config, notion),
      userNames: (ids) => this.userNames(ids, openphone),
      line: (lineId) => this.lineLabel(lineId, openphone),
      claim: async (resourceId, props, sections) => {
        this.store.claimCreate(resourceId, props, sections);
        await this.ctx.storage.sync();
      },
    });
    this.applyResult(record, result, canvasPageId, pendingSince, counter, report);
  }

  private applyResult(flushed: ResourceRecord, result: FlushResult, canvasPageId: string | null, pendingSince: number | null, counter: RequestCounter, report: FlushReport): void {
    const now = Date.now();
    const current = this.store.get(flushed.resourceId) ?? flushed;
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
      claim: result.pageId || result.claimSettled ? null : "creating",
    };
    const database: DatabaseKind = flushed.kind === "call" ? "calls" : "messages";
    const history = { resourceId: flushed.resourceId, kind: flushed.kind, source: flushed.source, pageId: next.pageId, notionRequests: counter.notion, openphoneRequests: counter.openphone };
    if (result.outcome === "created" || result.outcome === "updated" || result.outcome === "unchanged") {
      Object.assign(next, { attempts: 0, dirty: changedMeanwhile, dueAt: changedMeanwhile ? current.dueAt : null, failedAt: null, failedReason: null, failedProperty: null });
      // No webhook says when a voicemail is processed: look again shortly, for a bounded time.
      if (!changedMeanwhile && state.kind === "call" && state.voicemail?.processing && now - next.firstEventAt < PRODUCTS_WAIT_MS) {
        Object.assign(next, { dirty: true, dueAt: now + VOICEMAIL_RECHECK_MS });
      }
      if (!changedMeanwhile) this.store.markEventsFlushed(flushed.resourceId, now);
      this.store.requestMediaCopies(result.mediaCopies, now);
      report.history.push({ ...history, outcome: result.outcome, latencyMs: result.outcome === "unchanged" || pendingSince === null ? null : now - pendingSince, error: null });
      if (!report.healthyDatabases.includes(database)) report.healthyDatabases.push(database);
    } else if (result.outcome === "failed") {
      Object.assign(next, { dirty: false, dueAt: null, failedAt: now, failedReason: result.message, failedProperty: result.property ?? null });
      for (const message of this.store.eventMessages(flushed.resourceId)) {
        report.deadLetters.push({ messageId: message.eventId, queue: "sync-events", resourceId: flushed.resourceId, body: message, reason: result.message, property: result.property ?? null });
      }
      if (result.property) report.schemaProblems.push({ database, property: result.property, message: result.message });
      report.history.push({ ...history, outcome: "failed", latencyMs: null, error: result.message });
    } else if (result.outcome === "retry" || result.outcome === "blocked") {
      const attempts = current.attempts + 1;
      Object.assign(next, { attempts, dirty: true, dueAt: now + flushBackoffMs(attempts, result.delayMs) });
      if (result.outcome === "blocked") report.schemaProblems.push({ database, property: "", message: result.message });
      report.history.push({ ...history, outcome: "skipped", latencyMs: null, error: `will retry: ${result.message}` });
    }
    this.store.put(next);
    const m = report.metrics;
    m[`sync.${result.outcome}`] = (m[`sync.${result.outcome}`] ?? 0) + 1;
    m["notion.requests"] = (m["notion.requests"] ?? 0) + counter.notion;
    m["openphone.requests"] = (m["openphone.requests"] ?? 0) + counter.openphone;
    m["notion.rate_limited"] = (m["notion.rate_limited"] ?? 0) + counter.rateLimited;
    const s = next.state;
    report.resources.push({
      resourceId: next.resourceId,
      kind: next.kind,
      lineId: s.lineId ?? "unknown",
      participant: this.participant(s) ?? null,
      pageId: next.pageId,
      canvasPageId: next.canvasPageId,
      status: s.status ?? null,
      occurredAt: s.createdAt ? Date.parse(s.createdAt) || null : null,
      firstEventAt: next.firstEventAt,
      syncedAt: result.outcome === "created" || result.outcome === "updated" ? now : null,
    });
  }

  /** One D1 round trip per alarm. Dead letters must land: if D1 fails, the failed resources are retried instead. */
  private async writeReport(report: FlushReport, log: ReturnType<typeof createLogger>): Promise<void> {
    const m = report.metrics;
    m["notion.requests"] = (m["notion.requests"] ?? 0) + this.canvasCounter.notion;
    this.canvasCounter.notion = 0;
    try {
      const statements = flushReportStatements(this.env.DB, report, Date.now());
      if (statements.length > 0) await this.env.DB.batch(statements);
    } catch (error) {
      log.error("could not record the flush in D1", { error });
      for (const resourceId of new Set(report.deadLetters.map((d) => d.resourceId))) {
        const current = this.store.get(resourceId);
        if (current) this.store.put({ ...current, failedAt: null, dirty: true, dueAt: Date.now() + 30_000 });
      }
    }
  }

  /**
   * A summary or transcript can arrive before any event that names its call's line; the intake then routes it by
   * the call id. Such a resource never gets a page here: once OpenPhone says which line the call is on, its events
   * go to that line's object (deduplicated there), so every event of a call still meets in one place.
   */
  private async handOff(record: ResourceRecord, openphone: OpenPhoneClient): Promise<boolean> {
    const found =
      record.kind === "call"
        ? await openphone.request("getCallById_v1", { path: { callId: record.resourceId } }).then((r) => r.data.phoneNumberId, notFoundAsUndefined)
        : await openphone.request("getMessageById_v1", { path: { id: record.resourceId } }).then((r) => r.data.phoneNumberId ?? undefined, notFoundAsUndefined);
    if (!found) return false;
    const messages = this.store.eventMessages(record.resourceId);
    if (messages.every((m) => m.lineId === found)) return false;
    await this.env.LINE.get(this.env.LINE.idFromName(found)).ingest(messages.map((m) => ({ ...m, lineId: found })));
    const current = this.store.get(record.resourceId) ?? record;
    this.store.put({ ...current, dirty: current.version !== record.version, dueAt: current.version !== record.version ? current.dueAt : null });
    this.store.markEventsFlushed(record.resourceId, Date.now());
    return true;
  }

  private pageParent(kind: DatabaseKind, config: Config, notion: ReturnType<typeof createNotionClient>): Promise<PageParent> {
    const databaseId = (kind === "calls" ? config.NOTION_CALLS_DATABASE_ID : config.NOTION_MESSAGES_DATABASE_ID) ?? "";
    const key = `parent:${config.NOTION_VERSION}:${databaseId}`;
    let parent = this.parents.get(key);
    if (!parent) {
      const stored = this.store.lineInfo(key, Number.POSITIVE_INFINITY, Date.now());
      parent = stored
        ? Promise.resolve(JSON.parse(stored) as PageParent)
        : resolvePageParent(notion, databaseId, config.NOTION_VERSION).then((resolved) => {
            this.store.putLineInfo(key, JSON.stringify(resolved), Date.now());
            return resolved;
          });
      parent.catch(() => this.parents.delete(key));
      this.parents.set(key, parent);
    }
    return parent;
  }

  private async userNames(ids: string[], openphone: OpenPhoneClient): Promise<Record<string, string>> {
    const names: Record<string, string> = {};
    for (const id of ids) {
      let name = this.store.userName(id);
      if (name === undefined) {
        const user = await openphone.request("getUserById_v1", { path: { userId: id } }).catch((error: unknown) => {
          if ((error as { status?: number }).status === 404) return undefined;
          throw error;
        });
        name = user ? userDisplayName(user.data) : id;
        this.store.putUserName(id, name, Date.now());
      }
      names[id] = name;
    }
    return names;
  }

  private async lineLabel(lineId: string | undefined, openphone: OpenPhoneClient): Promise<LineLabel> {
    if (!lineId) return {};
    const key = `line:${lineId}`;
    const cached = this.store.lineInfo(key, LINE_INFO_MAX_AGE_MS, Date.now());
    if (cached) return JSON.parse(cached) as LineLabel;
    const phone = await openphone.request("getPhoneNumberById_v1", { path: { phoneNumberId: lineId } }).catch((error: unknown) => {
      if ((error as { status?: number }).status === 404) return undefined;
      throw error;
    });
    const label: LineLabel = phone ? { label: phone.data.name ? `${phone.data.name} (${phone.data.number})` : phone.data.number, number: phone.data.number } : { label: lineId };
    this.store.putLineInfo(key, JSON.stringify(label), Date.now());
    return label;
  }
}

function notFoundAsUndefined(error: unknown): undefined {
  if ((error as { status?: number }).status === 404) return undefined;
  throw error;
}

function newRecord(resourceId: string, kind: "call" | "message", state: ResourceState, firstEventAt: number): ResourceRecord {
  return {
    resourceId,
    kind,
    state,
    version: 0,
    dirty: false,
    dueAt: null,
    attempts: 0,
    pageId: null,
    claim: null,
    claimProps: null,
    claimSections: [],
    writtenProps: {},
    bodySections: [],
    links: {},
    canvasPageId: null,
    failedAt: null,
    failedReason: null,
    failedProperty: null,
    firstEventAt,
    source: "webhook",
  };
}
