/**
 * Line Durable Object: one per OpenPhone line. Every event of that line's calls and texts meets here, so the map
 * "resource → Notion page" is claimed in strongly consistent storage before Notion is called.
 *
 * `ingest` reads each webhook with the one normaliser (either webhook system), stores it once (deduplicated by
 * envelope id, and across the two systems by type and resource), merges it into its call's or text's
 * state and marks that resource due after the coalescing window; all of it is durable before `ingest` returns, and
 * only then is the queue message acknowledged. The alarm flushes due resources (see `flush.ts`). A flush that fails
 * keeps its events and is retried by the alarm with backoff; one that fails permanently (Notion 400) is written to
 * D1 `dead_letters` from here, with Notion's message and the property at fault, together with the problem `/health`
 * shows. Replaying such a dead letter re-enqueues an event this object has seen: the duplicate re-opens the failed
 * resource instead of being swallowed.
 *
 * The alarm is a shell over the planner in alarm-plan.ts: it never throws, every await in it is bounded (bounded.ts),
 * and it always sets the next alarm before it returns. `liveness()` says how far behind the line is, from storage
 * rather than from the alarm; `revive()` is the watchdog's wake-up (watchdog.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { isBackfillEnvelope } from "../backfill/envelope";
import { CanvasMatcher } from "../canvas/matcher";
import { getConfig, type Config } from "../config";
import { contactDisplayName, contactLabel } from "../contacts/openphone-contact";
import { readCanvasTitle } from "../db/canvas-index";
import { registerLineObject } from "../db/lines";
import { readContactsByPhones } from "../db/openphone-contacts";
import { claimLineOfResource } from "../db/webhook-routes";
import { getFlags } from "../flags/flags";
import { incrementMetrics } from "../db/metrics";
import { runStatements } from "../db/statements";
import { emptyReport, flushReportStatements, type FlushReport } from "../db/sync-history";
import { newRequestCounter } from "../gates/gated-fetch";
import { createNotionClient } from "../notion/client";
import { resolvePropertyNames } from "../notion/schema";
import { createOpenPhoneClient, type OpenPhoneClient } from "../openphone/client";
import { createLogger } from "../observability/logger";
import { d1WriteBucket } from "../observability/timings";
import type { MessageOutcome, SyncMessage } from "../queue/messages";
import { lineAtOpenPhone } from "../queue/routing";
import { backoffMs } from "../retry/backoff";
import { loadWebhookEnvelope } from "../webhooks/envelope-store";
import { normaliseWebhook } from "../webhooks/normalise";
import { BackfillSpend, backfillRunOf } from "./backfill-spend";
import { flushResource, participantOf, participantsOf } from "./flush";
import { LineLookups, notFoundAsUndefined } from "./lookups";
import { alarmToSet, copyMoreNow, nextWorkAt, overdueMs, waitBeforeNextFlush, wakeAfterAlarm, type LineWork } from "./alarm-plan";
import { BOUNDS, withTimeout } from "./bounded";
import type { LineLivenessReport } from "./liveness";
import { copyRequestedMedia, syncMediaNotices } from "../media/line-media";
import { COPY_RETENTION_MS } from "../media/line-media-storage";
import { backfillWindowMs, FLUSH_RETRY_BACKOFF, markDue, newRecord } from "./schedule";
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
  return isBackfillEnvelope(envelope) ? "backfill" : "webhook";
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
/** While the configuration is incomplete, how often the alarm looks again. */
const POSTPONED_RETRY_MS = 60_000;
/** After a copy run failed as a whole (D1 unreachable), when to try again. */
const MEDIA_COPY_RETRY_MS = 60_000;
/** How fresh the Canvas index must be for a backfilled participant's miss to be taken as final (see matchCanvas). */
const BACKFILL_CANVAS_REFRESH_MS = 5 * 60_000;

export class LineDurableObject extends DurableObject<Env> {
  private readonly store: LineStorage;
  private readonly canvasCounter = newRequestCounter();
  private matcher?: CanvasMatcher;
  /** D1 write times not yet counted in D1 (`d1.batch_ms.le_…` buckets): they go with the next flush's or media copy's write. */
  private d1WriteTimings: Record<string, number> = {};
  private readonly lookups: LineLookups;
  private flushing: Promise<void> = Promise.resolve();
  private mediaRun?: Promise<void>;
  /** Alarms failed in a row: the next one waits a backoff (alarm-plan.ts). */
  private alarmFailures = 0;
  /** The bounds of the alarm path (bounded.ts); a field so tests can shorten them. */
  private bounds: Record<keyof typeof BOUNDS, number> = { ...BOUNDS };
  /** Whether this object is known to be listed in D1 `line_objects`. */
  private registered = false;
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
    const { COALESCE_MS } = await getFlags(this.env);
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
      // Read with the id the intake keyed it by, so an envelope without an id is the same event here as there.
      const parsed = normaliseWebhook(envelope, { fallbackId: message.eventId, receivedAt: message.receivedAt });
      if (parsed.outcome === "invalid" || parsed.outcome === "unknown_version") {
        outcomes.push({ status: "failed", reason: parsed.reason });
        continue;
      }
      if (parsed.outcome === "ignored" || parsed.outcome === "contact") {
        ignored++;
        outcomes.push({ status: "done" });
        continue;
      }
      const event = parsed.event;
      // Webhooks are deduplicated across the two systems; backfill and re-sync events always count.
      const fromWebhook = (envelope as { source?: unknown }).source === undefined;
      const isNew = this.store.recordEvent(message, event.resourceId, event.type, now, fromWebhook ? event.dedupeKey : undefined);
      const current = this.store.get(event.resourceId);
      if (isNew) {
        accepted++;
        const base: ResourceState = current?.state ?? (event.kind === "call" ? emptyCall(event.resourceId) : emptyMessage(event.resourceId));
        const source = { id: event.eventId, at: event.occurredAt };
        // Handed over by another line that saw the same id (see claimLineOfResource in db/webhook-routes.ts): the page keeps showing this line.
        const handed = message.lineId?.startsWith("PN") && event.patch.lineId !== undefined && event.patch.lineId !== message.lineId;
        const own = handed ? { ...event.patch, lineId: undefined } : event.patch;
        // A re-sync asks OpenPhone again for everything the call can have (see enrich.ts).
        const patch = event.kind === "call" && (envelope as { source?: unknown }).source === "resync" ? { ...own, askAgainAt: now } : own;
        const state = event.kind === "call" && base.kind === "call" ? mergeCall(base, patch, source) : base.kind === "message" && event.kind === "message" ? mergeMessage(base, own, source) : base;
        // The intake routes by line when it knows it; other routing keys (`call:AC…`) are not lines.
        if (state.lineId === undefined && message.lineId?.startsWith("PN")) state.lineId = message.lineId;
        const record = current ?? newRecord(event.resourceId, event.kind, state, message.receivedAt ?? now);
        // The window counts from when the webhook arrived, not from when the queue handed it over.
        const since = Math.min(now, message.receivedAt ?? now);
        const window = sourceOf(envelope) === "backfill" ? backfillWindowMs(state, now, COALESCE_MS) : COALESCE_MS;
        this.store.put(markDue({ ...record, state, version: record.version + 1, failedAt: null, failedReason: null, failedProperty: null, source: current?.failedAt ? "replay" : current ? record.source : sourceOf(envelope) }, since, window));
      } else {
        duplicates++;
        // A replayed dead letter: the event is known, but the resource's last flush failed for good. Try again.
        if (current?.failedAt) this.store.put(markDue({ ...current, failedAt: null, failedReason: null, failedProperty: null, attempts: 0, source: "replay" }, now, COALESCE_MS));
      }
      outcomes.push({ status: "done" });
    }
    await this.armAlarm();
    const log = createLogger(config.LOG_LEVEL, { component: "line" });
    await this.register(messages.find((m) => m.lineId)?.lineId, log);
    if (ignored > 0) {
      await withTimeout(incrementMetrics(this.env.DB, { "webhook.ignored": ignored }), this.bounds.d1Ms, "counting ignored events in D1").catch((error) => createLogger(config.LOG_LEVEL).warn("could not count ignored events", { error }));
    }
    return { outcomes, accepted, duplicates };
  }

  /**
   * Flush a known call again, asking OpenPhone for everything it can have (after an operator copied its media, so
   * the page links what is now stored). False when this line has no such call.
   */
  async askAgain(resourceId: string): Promise<boolean> {
    const current = this.store.get(resourceId);
    if (!current || current.state.kind !== "call") return false;
    const now = Date.now();
    const state = mergeCall(current.state, { askAgainAt: now }, { id: `ask-again:${now}`, at: now });
    this.store.put(markDue({ ...current, state, version: current.version + 1, failedAt: null, failedReason: null, failedProperty: null, attempts: 0 }, now, 0));
    await this.armAlarm();
    return true;
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

  /**
   * The audit found this line's page for a call or text gone (`pageId: null`: deleted or trashed in Notion) or
   * merged into another (`pageId`: the page kept of two duplicates), or the page lacks what was written to it
   * (`rewrite`: someone edited it). The page id is replaced and the properties are written again in full at the next
   * flush; a missing page's body is written again too. Returns how many changed.
   */
  async auditRepoint(changes: { resourceId: string; pageId: string | null; rewrite?: boolean }[]): Promise<number> {
    const now = Date.now();
    let changed = 0;
    for (const { resourceId, pageId, rewrite } of changes) {
      const record = this.store.get(resourceId);
      if (!record || (record.pageId === pageId && !rewrite) || record.claim === "creating") continue;
      const bodySections = pageId === null ? [] : record.bodySections;
      this.store.put(markDue({ ...record, pageId, writtenProps: {}, bodySections, failedAt: null, failedReason: null, failedProperty: null, attempts: 0 }, now, 0));
      changed++;
    }
    if (changed > 0) await this.armAlarm();
    return changed;
  }

  /**
   * The alarm never throws and never ends without the next alarm set: a thrown alarm is retried by the runtime only
   * a few times, and meanwhile getAlarm() reports its past time, so nothing else would set it again. A failure is
   * recorded (liveness, the log) and the next alarm comes after a backoff; the work itself is bounded (see
   * bounded.ts), so an alarm cannot hang either.
   */
  override async alarm(): Promise<void> {
    const { config } = getConfig(this.env);
    const log = createLogger(config.LOG_LEVEL, { component: "line" });
    let failed = false;
    let postponed = false;
    try {
      postponed = await withTimeout(this.alarmWork(), this.bounds.alarmMs, "the line's alarm");
      this.alarmFailures = 0;
    } catch (error) {
      failed = true;
      this.alarmFailures++;
      this.noteError(error);
      log.error("line alarm failed; it is set again after a backoff", { failures: this.alarmFailures, error });
    }
    try {
      const at = postponed ? Date.now() + POSTPONED_RETRY_MS : wakeAfterAlarm(this.work(), failed ? this.alarmFailures : 0, Date.now());
      if (at !== null) await withTimeout(this.ctx.storage.setAlarm(at), this.bounds.rpcMs, "setting the alarm");
    } catch (error) {
      // Storage itself failed: the watchdog (the five-minute cron) wakes this line when its work is overdue.
      log.error("could not set the line's next alarm; the watchdog will wake it", { error });
    }
  }

  /**
   * Media is copied beside the flushes, never before them: while a batch of files streams into R2, due calls and
   * texts keep being written, and the files those pages link to are copied next. Each copy run first sets a lease:
   * the alarm set meanwhile counts from it, so should this object die mid-copy, that alarm copies again.
   */
  /** True when flushing is postponed (the configuration is incomplete). */
  private async alarmWork(): Promise<boolean> {
    const started = Date.now();
    this.startCopying();
    for (;;) {
      if (!(await this.flushInTurn())) {
        await this.mediaRun;
        return true;
      }
      // The flushes asked for more copies since the last run began: copy them now, not an alarm later.
      if (!this.mediaRun && !copyMoreNow(this.work(), started, Date.now())) break;
      const copied = (this.mediaRun ?? this.startCopying()).then(
        () => undefined,
        () => undefined,
      );
      // Until the copy ends, flush whatever falls due (a webhook's window closing, the next batch of a backlog).
      const wait = waitBeforeNextFlush(this.store.nextDueAt(), Date.now());
      if (wait === null) await copied;
      else if (wait > 0) {
        let timer: ReturnType<typeof setTimeout> | null = null;
        await Promise.race([copied, new Promise((resolve) => (timer = setTimeout(resolve, wait)))]);
        clearTimeout(timer);
      }
    }
    await this.mediaRun;
    return false;
  }

  /** Starts a run of media copies (or joins the one running), after setting its lease. */
  private startCopying(): Promise<void> {
    this.mediaCopyNotBefore = Date.now() + MEDIA_COPY_LEASE_MS;
    return (this.mediaRun ??= withTimeout(this.mediaWork(), this.bounds.mediaRunMs, "a media copy run")
      .catch((error) => {
        // A run that failed or timed out as a whole: copies wait MEDIA_COPY_RETRY_MS, the flushes go on.
        this.mediaCopyNotBefore = Date.now() + MEDIA_COPY_RETRY_MS;
        this.noteError(error);
        createLogger(getConfig(this.env).config.LOG_LEVEL, { component: "line-media" }).error("media run failed; trying again shortly", { error });
      })
      .finally(() => (this.mediaRun = undefined)));
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

  /** How far behind this line is, from its own storage (not from its alarm). */
  async liveness(): Promise<LineLivenessReport> {
    const now = Date.now();
    const write = this.store.health("write");
    const error = this.store.health("error");
    return {
      pending: this.store.pendingCount(),
      oldestDueAt: this.store.oldestOverdueAt(now),
      alarmAt: await this.ctx.storage.getAlarm(),
      lastWriteAt: write?.at ?? null,
      lastError: error ? { at: error.at, message: error.message ?? "" } : null,
    };
  }

  /**
   * The watchdog's wake-up: when work is overdue, the alarm is set for now whatever getAlarm() reports (a failed
   * alarm's past time, or none at all). Returns how long the oldest item has been overdue (ms; 0 when none is).
   */
  async revive(): Promise<number> {
    const now = Date.now();
    const overdue = overdueMs(this.store.oldestOverdueAt(now), now);
    const next = nextWorkAt(this.work(), now);
    if (next !== null && next <= now) await this.ctx.storage.setAlarm(now);
    else await this.armAlarm();
    return overdue;
  }

  /** Copies a batch of the media the flushes asked for, then brings the pages' "unavailable" notes up to date. */
  private async mediaWork(): Promise<void> {
    const { config, problems } = getConfig(this.env);
    if (problems.some((p) => ["NOTION_TOKEN", "OPENPHONE_API_KEY"].includes(p.setting))) return;
    const log = createLogger(config.LOG_LEVEL, { component: "line-media" });
    const counter = newRequestCounter();
    const deps = { env: this.env, store: this.store, config, notion: createNotionClient(this.env, config, counter), counter, log, now: Date.now };
    const metrics: Record<string, number> = {};
    const { MEDIA_COPY_ENABLED } = await getFlags(this.env);
    if (!MEDIA_COPY_ENABLED) {
      // Switched off at run time: the requested copies wait (asked again each minute) and run once it is on again.
      this.mediaCopyNotBefore = Date.now() + MEDIA_COPY_RETRY_MS;
    } else {
      try {
        const copied = await copyRequestedMedia(deps);
        this.mediaCopyNotBefore = 0;
        Object.assign(metrics, { "media.stored": copied.stored, "media.unavailable": copied.unavailable, "media.bytes": copied.bytes, "media.upload_ms": copied.uploadMs });
      } catch (error) {
        log.error("media copy failed; trying again shortly", { error });
        this.noteError(error);
        this.mediaCopyNotBefore = Date.now() + MEDIA_COPY_RETRY_MS;
      }
    }
    try {
      await syncMediaNotices(deps);
    } catch (error) {
      // The notes wait for the next alarm; the calls and texts of this line are not held back by them.
      log.error("could not bring the pages' media notes up to date; trying again at the next alarm", { error });
      this.noteError(error);
    }
    Object.assign(metrics, { "media.notion_requests": counter.notion, "notion.requests": counter.notion, "openphone.requests": counter.openphone, "notion.rate_limited": counter.rateLimited });
    // The flushes' D1 write times waiting for a write go with this one too.
    const timed = this.d1WriteTimings;
    this.d1WriteTimings = {};
    for (const [name, n] of Object.entries(timed)) metrics[name] = (metrics[name] ?? 0) + n;
    await withTimeout(incrementMetrics(this.env.DB, metrics), this.bounds.d1Ms, "counting media copies in D1").catch((error) => {
      log.warn("could not count media copies", { error });
      for (const [name, n] of Object.entries(timed)) this.d1WriteTimings[name] = (this.d1WriteTimings[name] ?? 0) + n;
    });
    await withTimeout(this.armAlarm(), this.bounds.rpcMs, "setting the alarm");
  }

  /** Flushes a batch of what is due; false when flushing is postponed (the configuration is incomplete). */
  private async flushDue(): Promise<boolean> {
    const { config, problems } = getConfig(this.env);
    const log = createLogger(config.LOG_LEVEL, { component: "line" });
    if (problems.some((p) => ["NOTION_TOKEN", "NOTION_CALLS_DATABASE_ID", "NOTION_MESSAGES_DATABASE_ID", "OPENPHONE_API_KEY"].includes(p.setting))) {
      log.warn("flush postponed: the configuration is incomplete (see /health)");
      this.noteError(new Error("flush postponed: the configuration is incomplete (see /health)"));
      return false;
    }
    const now = Date.now();
    const due = this.store.due(now, FLUSH_BATCH);
    const report = emptyReport();
    const spend = new BackfillSpend();
    if (due.length > 0) {
      await withTimeout(this.learnLineNumbers(due, config), this.bounds.rpcMs * 2, "looking up the line's own number").catch((error) => log.warn("could not look up the line's own number", { error }));
      const canvas = await withTimeout(this.matchCanvas(due, config), this.bounds.canvasMs, "the Canvas lookup").catch(async (error) => {
        log.warn("Canvas lookup failed; pages are written without the relation for now", { error });
        // The Canvas lookup failure rate the alerts watch: one failure per call or text left without its relation.
        await incrementMetrics(this.env.DB, { "canvas.lookups_failed": due.length }).catch(() => undefined);
        return new Map<string, string | null>();
      });
      const queue = [...due];
      const worker = async () => {
        for (let record = queue.shift(); record; record = queue.shift()) {
          // One stuck call or text is abandoned after this.bounds.flushMs and retried with backoff; the others go on.
          const run = { abandoned: false };
          await withTimeout(this.flushOne(record, config, canvas, report, spend, run), this.bounds.flushMs, `the flush of ${record.resourceId}`).catch((error) => {
            run.abandoned = true;
            log.error("flush crashed; retrying later", { resourceId: record.resourceId, error });
            this.noteError(error);
            const current = this.store.get(record.resourceId);
            if (current) this.store.put({ ...current, attempts: current.attempts + 1, dueAt: Date.now() + Math.max(5000, backoffMs(FLUSH_RETRY_BACKOFF, current.attempts + 1)) });
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(FLUSH_CONCURRENCY, due.length) }, worker));
      await this.writeReport(report, log);
      await withTimeout(spend.write(this.env.DB), this.bounds.d1Ms, "crediting the backfill run in D1").catch((error) => log.warn("could not credit the backfill run with its flush requests", { error }));
    }
    this.store.pruneFlushedEvents(now - EVENT_RETENTION_MS);
    this.store.media.pruneCopied(now - COPY_RETENTION_MS);
    // Set while the alarm still runs: should this object die mid-copy, this alarm (counted from the copy's lease)
    // copies again.
    await withTimeout(this.armAlarm(), this.bounds.rpcMs, "setting the alarm");
    return true;
  }

  /**
   * Sets the alarm for the next work unless one is already set in the future no later than it. A reported alarm
   * time in the past is not taken as armed (see alarm-plan.ts).
   */
  private async armAlarm(): Promise<void> {
    const now = Date.now();
    const next = nextWorkAt(this.work(), now);
    if (next === null) return;
    const at = alarmToSet(next, await this.ctx.storage.getAlarm(), now);
    if (at !== null) await this.ctx.storage.setAlarm(at);
  }

  /** What this object has waiting, for the planner. */
  private work(): LineWork {
    return { nextDueAt: this.store.nextDueAt(), nextNoticeAt: this.store.media.nextNoticeAt(), pendingCopies: this.store.media.hasPendingCopies(), copyNotBefore: this.mediaCopyNotBefore };
  }

  /** The last error, kept for the liveness report. */
  private noteError(error: unknown): void {
    try {
      this.store.noteHealth("error", Date.now(), error instanceof Error ? error.message : String(error));
    } catch {
      // Storage failing is reported by the alarm's own error; nothing more can be recorded here.
    }
  }

  /**
   * Lists this object in D1 `line_objects` (once per object lifetime), so the watchdog and the stats know to ask it.
   * A failure is logged and tried again at the next ingest; the events themselves are already stored.
   */
  private async register(name: string | undefined, log: ReturnType<typeof createLogger>): Promise<void> {
    if (this.registered || !name) return;
    try {
      await withTimeout(registerLineObject(this.env.DB, name, Date.now()), this.bounds.d1Ms, "listing the line in D1");
      this.registered = true;
    } catch (error) {
      log.warn("could not list the line in D1 line_objects; the watchdog cannot see it until the next ingest", { name, error });
    }
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
    // Switched off at run time: written without a Canvas relation, as when the lookup fails.
    if (!(await getFlags(this.env)).CANVAS_INDEX_ENABLED) return new Map();
    const matcher = (this.matcher ??= new CanvasMatcher(this.env, config, this.canvasCounter));
    // Every participant of a group text is looked up, so the relation holds each one who is a customer.
    const keysOf = (rs: ResourceRecord[]) => [...new Set(rs.flatMap((r) => participantsOf(r.state, this.lookups.cachedLineNumber(r.state.lineId))))];
    const liveRecords = records.filter((r) => r.source !== "backfill");
    const live = keysOf(liveRecords);
    const past = keysOf(records.filter((r) => r.source === "backfill"));
    const [liveMatches, pastMatches] = await Promise.all([
      live.length > 0 ? matcher.match(live, { seenAt: Math.max(...liveRecords.map((r) => r.firstEventAt)) }) : new Map<string, string | null>(),
      past.length > 0 ? matcher.match(past, { acceptRefreshWithinMs: BACKFILL_CANVAS_REFRESH_MS }) : new Map<string, string | null>(),
    ]);
    return new Map([...pastMatches, ...liveMatches]);
  }

  /** A customer's name from the D1 Canvas index (no Notion request); undefined when the page has no title. */
  private async canvasTitle(pageId: string): Promise<string | undefined> {
    const title = await withTimeout(readCanvasTitle(this.env.DB, pageId), this.bounds.d1Ms, "reading a customer's name from D1").catch(() => null);
    return title?.trim() || undefined;
  }

  /**
   * The caller's name from the OpenPhone contacts kept in D1 (no OpenPhone request), for a participant no customer
   * matches. When several contacts share the number, the oldest id wins, so the choice is stable.
   */
  private async openPhoneContact(participant: string): Promise<{ name: string; label: string } | undefined> {
    const found = await withTimeout(readContactsByPhones(this.env.DB, [participant]), this.bounds.d1Ms, "reading the caller's OpenPhone contact from D1").catch(() => undefined);
    const contact = found?.get(participant)?.[0];
    const name = contact ? contactDisplayName(contact) : null;
    const label = contact ? contactLabel(contact) : null;
    return name && label ? { name, label } : undefined;
  }

  /**
   * One call's or text's flush. Once `run.abandoned` (it took too long and its retry is scheduled), it may still be
   * awaiting a request, but it neither claims a create nor records its result: the retry owns the resource.
   */
  private async flushOne(record: ResourceRecord, config: Config, canvas: Map<string, string | null>, report: FlushReport, spend: BackfillSpend, run: { abandoned: boolean }): Promise<void> {
    const counter = newRequestCounter();
    const notion = createNotionClient(this.env, config, counter);
    const openphone = createOpenPhoneClient(this.env, config, counter);
    if (await this.handOff(record, openphone)) return;
    const startedAt = Date.now();
    const pendingSince = this.store.pendingSince(record.resourceId);
    const participant = this.participant(record.state);
    const canvasPageIds = [...new Set(participantsOf(record.state, this.lookups.cachedLineNumber(record.state.lineId)).map((p) => canvas.get(p)).filter((id): id is string => Boolean(id)))];
    // A group text whose main participant is no customer is still linked (and so left alone by the relink pass).
    const canvasPageId = (participant ? canvas.get(participant) : undefined) ?? canvasPageIds[0] ?? null;
    const result = await flushResource(record, {
      config,
      notion,
      openphone,
      canvasPageId,
      canvasPageIds,
      canvasTitle: canvasPageId ? await this.canvasTitle(canvasPageId) : undefined,
      contact: !canvasPageId && participant ? await this.openPhoneContact(participant) : undefined,
      now: Date.now,
      names: (kind) => resolvePropertyNames(kind, config.NOTION_PROPERTY_MAP),
      parent: (kind) => this.lookups.pageParent(kind, config, notion),
      userNames: (ids) => this.lookups.userNames(ids, openphone),
      line: (lineId) => this.lookups.lineLabel(lineId, openphone),
      claim: async (resourceId, props, sections) => {
        if (run.abandoned) throw new Error(`the flush of ${resourceId} was abandoned; its retry creates the page`);
        this.store.claimCreate(resourceId, props, sections, Date.now());
        await this.ctx.storage.sync();
      },
    });
    if (run.abandoned) return;
    settleFlush(this.store, record, result, { canvasPageId, pendingSince, counter, participantOf: (state) => this.participant(state) }, report);
    if (result.outcome === "created" || result.outcome === "updated" || result.outcome === "unchanged") {
      this.store.noteHealth("write", Date.now());
      // The work of this flush, without its waits for the gates' permits (src/observability/timings.ts).
      const m = report.metrics;
      m["flush.processing_ms"] = (m["flush.processing_ms"] ?? 0) + Math.max(0, Date.now() - startedAt - (counter.waitedMs ?? 0));
      m["flush.processed"] = (m["flush.processed"] ?? 0) + 1;
    }
    else this.noteError(new Error(`${record.resourceId}: ${"message" in result ? result.message : result.outcome}`));
    if (record.source === "backfill") spend.add(backfillRunOf(this.store.eventMessages(record.resourceId)), counter, result.outcome, record.pageId !== null);
  }

  /** One D1 round trip per alarm (one per statement with D1_BATCHING_ENABLED off). Dead letters must land: if D1 fails, the failed resources are retried instead. */
  private async writeReport(report: FlushReport, log: ReturnType<typeof createLogger>): Promise<void> {
    const m = report.metrics;
    m["notion.requests"] = (m["notion.requests"] ?? 0) + this.canvasCounter.notion;
    this.canvasCounter.notion = 0;
    // The times of earlier writes ride along with this one: timing a write cannot add a round trip of its own.
    const timed = this.d1WriteTimings;
    for (const [name, n] of Object.entries(timed)) m[name] = (m[name] ?? 0) + n;
    this.d1WriteTimings = {};
    try {
      const statements = flushReportStatements(this.env.DB, report, Date.now());
      const { D1_BATCHING_ENABLED } = await getFlags(this.env);
      const startedAt = Date.now();
      const roundTrips = await withTimeout(runStatements(this.env.DB, statements, D1_BATCHING_ENABLED), this.bounds.d1Ms, "recording the flush in D1");
      if (roundTrips > 0) {
        const bucket = d1WriteBucket(Date.now() - startedAt);
        this.d1WriteTimings[bucket] = (this.d1WriteTimings[bucket] ?? 0) + 1;
        this.d1WriteTimings["d1.flush_round_trips"] = (this.d1WriteTimings["d1.flush_round_trips"] ?? 0) + roundTrips;
      }
    } catch (error) {
      // Not recorded: counted again with the next write.
      for (const [name, n] of Object.entries(timed)) this.d1WriteTimings[name] = (this.d1WriteTimings[name] ?? 0) + n;
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
   * go to that line's object (deduplicated there), so every event of a call still meets in one place. Likewise an id
   * OpenPhone reports on two lines: before its page is created, the line that holds it in D1 takes its events
   * (see claimLineOfResource in db/webhook-routes.ts).
   */
  private async handOff(record: ResourceRecord, openphone: OpenPhoneClient): Promise<boolean> {
    const lineId = record.state.lineId;
    const found = lineId?.startsWith("PN")
      ? record.pageId
        ? undefined
        : await withTimeout(claimLineOfResource(this.env.DB, record.resourceId, record.kind, lineId, Date.now()), this.bounds.d1Ms, `claiming ${record.resourceId} for line ${lineId} in D1`)
      : await lineAtOpenPhone(openphone, record.kind, record.resourceId).catch(notFoundAsUndefined);
    if (!found) return false;
    const messages = this.store.eventMessages(record.resourceId);
    if (messages.every((m) => m.lineId === found)) return false;
    await withTimeout(this.env.LINE.get(this.env.LINE.idFromName(found)).ingest(messages.map((m) => ({ ...m, lineId: found }))), this.bounds.rpcMs, `handing ${record.resourceId} to line ${found}`);
    const current = this.store.get(record.resourceId) ?? record;
    this.store.put({ ...current, dirty: current.version !== record.version, dueAt: current.version !== record.version ? current.dueAt : null });
    this.store.markEventsFlushed(record.resourceId, Date.now());
    return true;
  }

}

