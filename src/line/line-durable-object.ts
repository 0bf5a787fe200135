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
import { incrementMetrics } from "../db/metrics";
import { emptyReport, flushReportStatements, type FlushReport } from "../db/sync-history";
import { newRequestCounter } from "../gates/gated-fetch";
import { createNotionClient } from "../notion/client";
import { resolvePropertyNames } from "../notion/schema";
import { createOpenPhoneClient, type OpenPhoneClient } from "../openphone/client";
import { createLogger } from "../observability/logger";
import type { MessageOutcome, SyncMessage } from "../queue/messages";
import { loadWebhookEnvelope } from "../webhooks/envelope-store";
import { parseEnvelope } from "./events";
import { BackfillSpend, backfillRunOf } from "./backfill-spend";
import { flushResource, participantOf } from "./flush";
import { LineLookups } from "./lookups";
import { copyRequestedMedia, syncMediaNotices } from "./media";
import { backfillWindowMs, flushBackoffMs, markDue, newRecord } from "./schedule";
import { settleFlush } from "./settle";
import { emptyCall, emptyMessage, mergeCall, mergeMessage, type ResourceState } from "./state";
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

/** Where a call or text first came from, for the sync history: a webhook, or the backfill's synthetic events. */
function sourceOf(envelope: unknown): string {
  return (envelope as { source?: unknown } | null)?.source === "backfill" ? "backfill" : "webhook";
}

/** Webhook redeliveries stop within about a day (openphone-api.md §8.5); a week of event ids is kept for dedupe. */
const EVENT_RETENTION_MS = 7 * 86_400_000;
/** Resources flushed per alarm; more are left for the next alarm, set right away. */
const FLUSH_BATCH = 50;
/** Flushes in flight per line: enough that waiting on OpenPhone and Notion round trips keeps the Notion gate busy. */
const FLUSH_CONCURRENCY = 8;
/**
 * How long a media copy may run before the alarm set when it started copies it again (the object died mid-copy).
 * Longer than a large recording takes to stream; a copy made twice is harmless.
 */
const MEDIA_COPY_LEASE_MS = 10 * 60_000;
/** How long one alarm keeps starting new copy runs; then the next alarm (set at once) takes over. */
const ALARM_WORK_MS = 60_000;
/** After a copy run failed as a whole (D1 unreachable), when to try again. */
const MEDIA_COPY_RETRY_MS = 60_000;
/** How fresh the Canvas index must be for a backfilled participant's miss to be taken as final (see matchCanvas). */
const BACKFILL_CANVAS_REFRESH_MS = 5 * 60_000;

export class LineDurableObject extends DurableObject<Env> {
  private readonly store: LineStorage;
  private readonly canvasCounter = newRequestCounter();
  private matcher?: CanvasMatcher;
  private readonly lookups: LineLookups;
  private flushing: Promise<void> = Promise.resolve();
  private mediaRun?: Promise<void>;
  /** Pending media copies are not due before this (they are being copied, or the last run failed). */
  private mediaCopyNotBefore = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LineStorage(ctx.storage.sql);
    this.lookups = new LineLookups(this.store);
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
        // The window counts from when the webhook arrived, not from when the queue handed it over.
        const since = Math.min(now, message.receivedAt ?? now);
        const window = sourceOf(envelope) === "backfill" ? backfillWindowMs(state, now, config.COALESCE_MS) : config.COALESCE_MS;
        this.store.put(markDue({ ...record, state, version: record.version + 1, failedAt: null, failedReason: null, failedProperty: null, source: current?.failedAt ? "replay" : current ? record.source : sourceOf(envelope) }, since, window));
      } else {
        duplicates++;
        // A replayed dead letter: the event is known, but the resource's last flush failed for good. Try again.
        if (current?.failedAt) this.store.put(markDue({ ...current, failedAt: null, failedReason: null, failedProperty: null, attempts: 0, source: "replay" }, now, config.COALESCE_MS));
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
    // Media is copied beside the flushes, never before them: while a batch of files streams into R2, due calls and
    // texts keep being written, and the files those pages link to are copied next. Each copy run first sets a lease:
    // the alarm the flushes set meanwhile counts from it, so should this object die mid-copy, that alarm copies again.
    const started = Date.now();
    this.startCopying();
    for (;;) {
      if (!(await this.flushInTurn())) break;
      // The flushes asked for more copies since the last run began: copy them now, not an alarm later.
      if (!this.mediaRun && !(this.store.media.hasPendingCopies() && this.mediaCopyNotBefore <= Date.now() && Date.now() - started < ALARM_WORK_MS)) break;
      const copied = (this.mediaRun ?? this.startCopying()).then(
        () => undefined,
        () => undefined,
      );
      // Until the copy ends, flush whatever falls due (a webhook's window closing, the next batch of a backlog).
      const next = this.store.nextDueAt();
      const wait = next === null ? null : next - Date.now();
      if (wait === null) await copied;
      else if (wait > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([copied, new Promise((resolve) => (timer = setTimeout(resolve, wait)))]);
        clearTimeout(timer);
      }
    }
    await this.mediaRun;
  }

  /** Starts a run of media copies (or joins the one running), after setting its lease. */
  private startCopying(): Promise<void> {
    this.mediaCopyNotBefore = Date.now() + MEDIA_COPY_LEASE_MS;
    return (this.mediaRun ??= this.mediaWork().finally(() => (this.mediaRun = undefined)));
  }

  /**
   * One batch of due flushes. Alarms may overlap (one set while another runs can start before it ends); the flushes
   * of one line never do, so a resource is never written by two flushes at once.
   */
  private async flushInTurn(): Promise<boolean> {
    const run = this.flushing.then(() => this.flushDue());
    this.flushing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * After media of these calls or texts was retried (cron, admin API): the pages that show an "unavailable" note get
   * it brought up to date (removed, or saying the retries are used up). Returns how many show one.
   */
  async mediaRetried(resourceIds: string[]): Promise<number> {
    const now = Date.now();
    const noted = resourceIds.filter((id) => this.store.media.notice(id));
    for (const id of noted) this.store.media.markNoticeDue(id, now);
    if (noted.length > 0) await this.armAlarm();
    return noted.length;
  }

  /** Copies a batch of the media the flushes asked for, then brings the pages' "unavailable" notes up to date. */
  private async mediaWork(): Promise<void> {
    const { config, problems } = getConfig(this.env);
    if (problems.some((p) => ["NOTION_TOKEN", "OPENPHONE_API_KEY"].includes(p.setting))) return;
    const log = createLogger(config.LOG_LEVEL, { component: "line-media" });
    const counter = newRequestCounter();
    const deps = { env: this.env, store: this.store, config, notion: createNotionClient(this.env, config, counter), counter, log, now: Date.now };
    const metrics: Record<string, number> = {};
    try {
      const copied = await copyRequestedMedia(deps);
      this.mediaCopyNotBefore = 0;
      Object.assign(metrics, { "media.stored": copied.stored, "media.unavailable": copied.unavailable, "media.bytes": copied.bytes });
    } catch (error) {
      log.error("media copy failed; trying again shortly", { error });
      this.mediaCopyNotBefore = Date.now() + MEDIA_COPY_RETRY_MS;
    }
    await syncMediaNotices(deps);
    Object.assign(metrics, { "media.notion_requests": counter.notion, "notion.requests": counter.notion, "openphone.requests": counter.openphone, "notion.rate_limited": counter.rateLimited });
    await incrementMetrics(this.env.DB, metrics).catch((error) => log.warn("could not count media copies", { error }));
    await this.armAlarm(true);
  }

  /** Flushes a batch of what is due; false when flushing is postponed (the configuration is incomplete). */
  private async flushDue(): Promise<boolean> {
    const { config, problems } = getConfig(this.env);
    const log = createLogger(config.LOG_LEVEL, { component: "line" });
    if (problems.some((p) => ["NOTION_TOKEN", "NOTION_CALLS_DATABASE_ID", "NOTION_MESSAGES_DATABASE_ID", "OPENPHONE_API_KEY"].includes(p.setting))) {
      log.warn("flush postponed: the configuration is incomplete (see /health)");
      await this.ctx.storage.setAlarm(Date.now() + 60_000);
      return false;
    }
    const now = Date.now();
    const due = this.store.due(now, FLUSH_BATCH);
    const report = emptyReport();
    const spend = new BackfillSpend();
    if (due.length > 0) {
      await this.learnLineNumbers(due, config).catch((error) => log.warn("could not look up the line's own number", { error }));
      const canvas = await this.matchCanvas(due, config).catch(async (error) => {
        log.warn("Canvas lookup failed; pages are written without the relation for now", { error });
        // The Canvas lookup failure rate the alerts watch: one failure per call or text left without its relation.
        await incrementMetrics(this.env.DB, { "canvas.lookups_failed": due.length }).catch(() => undefined);
        return new Map<string, string | null>();
      });
      const queue = [...due];
      const worker = async () => {
        for (let record = queue.shift(); record; record = queue.shift()) {
          await this.flushOne(record, config, canvas, report, spend).catch((error) => {
            log.error("flush crashed; retrying later", { resourceId: record.resourceId, error });
            const current = this.store.get(record.resourceId);
            if (current) this.store.put({ ...current, attempts: current.attempts + 1, dueAt: Date.now() + flushBackoffMs(current.attempts + 1, 5000) });
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(FLUSH_CONCURRENCY, due.length) }, worker));
      await this.writeReport(report, log);
      await spend.write(this.env.DB).catch((error) => log.warn("could not credit the backfill run with its flush requests", { error }));
    }
    this.store.pruneFlushedEvents(now - EVENT_RETENTION_MS);
    await this.armAlarm(true);
    return true;
  }

  private async armAlarm(afterAlarm = false): Promise<void> {
    const next = this.nextWorkAt();
    if (next === null) return;
    const existing = afterAlarm ? null : await this.ctx.storage.getAlarm();
    if (existing === null || existing > next) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  /** When there is next something to do: a flush, a media copy, a page's media note. */
  private nextWorkAt(): number | null {
    const times = [this.store.nextDueAt(), this.store.media.nextNoticeAt(), this.store.media.hasPendingCopies() ? Math.max(Date.now(), this.mediaCopyNotBefore) : null];
    const known = times.filter((t): t is number => t !== null);
    return known.length > 0 ? Math.min(...known) : null;
  }

  /** The external party, leaving out the line's own number when it is known. */
  private participant(state: ResourceState): string | undefined {
    return participantOf(state, this.lookups.cachedLineNumber(state.lineId));
  }

  /**
   * The line's own number tells the external party apart (an outgoing call lists the line first); it must be known
   * before the Canvas lookup, or a line's first flush would look up its own number. One request per line a day.
   */
  private async learnLineNumbers(records: ResourceRecord[], config: Config): Promise<void> {
    const unknown = [...new Set(records.map((r) => r.state.lineId))].filter((id): id is string => Boolean(id?.startsWith("PN")) && this.lookups.cachedLineNumber(id) === undefined);
    if (unknown.length === 0) return;
    const openphone = createOpenPhoneClient(this.env, config, newRequestCounter());
    for (const lineId of unknown) await this.lookups.lineLabel(lineId, openphone);
  }

  /**
   * Live calls and texts ask for a Canvas refresh on a miss (a customer added a moment ago); backfilled ones accept
   * an index this object refreshed within BACKFILL_CANVAS_REFRESH_MS, so a run of unknown numbers does not cost a
   * Notion query per flush.
   */
  private async matchCanvas(records: ResourceRecord[], config: Config): Promise<Map<string, string | null>> {
    const matcher = (this.matcher ??= new CanvasMatcher(this.env, config, this.canvasCounter));
    const keysOf = (rs: ResourceRecord[]) => rs.map((r) => this.participant(r.state)).filter((k): k is string => Boolean(k));
    const live = keysOf(records.filter((r) => r.source !== "backfill"));
    const past = keysOf(records.filter((r) => r.source === "backfill"));
    const [liveMatches, pastMatches] = await Promise.all([
      live.length > 0 ? matcher.match(live) : new Map<string, string | null>(),
      past.length > 0 ? matcher.match(past, { acceptRefreshWithinMs: BACKFILL_CANVAS_REFRESH_MS }) : new Map<string, string | null>(),
    ]);
    return new Map([...pastMatches, ...liveMatches]);
  }

  /** A customer's name from the D1 Canvas index (no Notion request); undefined when the page has no title. */
  private async canvasTitle(pageId: string): Promise<string | undefined> {
    const row = await this.env.DB.prepare("SELECT title FROM canvas_pages WHERE page_id = ?1").bind(pageId).first<{ title: string | null }>().catch(() => null);
    return row?.title?.trim() || undefined;
  }

  private async flushOne(record: ResourceRecord, config: Config, canvas: Map<string, string | null>, report: FlushReport, spend: BackfillSpend): Promise<void> {
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
      canvasTitle: canvasPageId ? await this.canvasTitle(canvasPageId) : undefined,
      now: Date.now,
      names: (kind) => resolvePropertyNames(kind, config.NOTION_PROPERTY_MAP),
      parent: (kind) => this.lookups.pageParent(kind, config, notion),
      userNames: (ids) => this.lookups.userNames(ids, openphone),
      line: (lineId) => this.lookups.lineLabel(lineId, openphone),
      claim: async (resourceId, props, sections) => {
        this.store.claimCreate(resourceId, props, sections, Date.now());
        await this.ctx.storage.sync();
      },
    });
    settleFlush(this.store, record, result, { canvasPageId, pendingSince, counter, participantOf: (state) => this.participant(state) }, report);
    if (record.source === "backfill") spend.add(backfillRunOf(this.store.eventMessages(record.resourceId)), counter, result.outcome === "failed");
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
    const found = await this.lookups.lineOf(record.kind, record.resourceId, openphone);
    if (!found) return false;
    const messages = this.store.eventMessages(record.resourceId);
    if (messages.every((m) => m.lineId === found)) return false;
    await this.env.LINE.get(this.env.LINE.idFromName(found)).ingest(messages.map((m) => ({ ...m, lineId: found })));
    const current = this.store.get(record.resourceId) ?? record;
    this.store.put({ ...current, dirty: current.version !== record.version, dueAt: current.version !== record.version ? current.dueAt : null });
    this.store.markEventsFlushed(record.resourceId, Date.now());
    return true;
  }

}

