/**
 * Canvas index Durable Object: one instance for the whole Worker ("canvas-index"). It is where refreshes of the
 * Canvas index happen, one at a time, so every isolate and every Line Durable Object shares them.
 *
 * A lookup that misses the index asks for a refresh. A refresh that began after the miss's calls and texts reached
 * the Worker has read every customer added before they did: when one has finished, the miss needs none, and when one
 * is querying Notion, the miss shares it. Otherwise the first miss waits a short window so the rest of its burst
 * joins it; a miss that arrives while an older refresh is running joins the next one (the running one may have
 * started before that customer was added), and everyone waiting then shares that next refresh. A burst of unknown
 * numbers therefore costs one incremental refresh however far apart the lines' flushes fall, and two when an older
 * refresh was running as it arrived; usually one request each.
 */
import { DurableObject } from "cloudflare:workers";
import { getConfig, type Config } from "../config";
import { incrementMetrics } from "../db/metrics";
import { getFlags } from "../flags/flags";
import { newRequestCounter } from "../gates/gated-fetch";
import { createNotionClient } from "../notion/client";
import { createLogger } from "../observability/logger";
import { createOpenPhoneClient } from "../openphone/client";
import { refreshOpenPhoneContacts, type ContactsRefreshSummary } from "../contacts/refresh";
import { syncContactsToOpenPhone, type ContactSyncOptions, type ContactSyncReport } from "../contacts/sync";
import { createCanvasPageForUnknown } from "./create-unknown";
import { refreshCanvasIndex, sweepTrashedCanvasPages, type RefreshMode, type RefreshSummary } from "./index-refresh";
import { linkMailPages, type MailLinkSummary } from "./mail-linking";
import { refreshOwnNumbers } from "./own-numbers";
import { relinkResources, type RelinkSummary } from "./relink";

/** How long the first miss of a burst waits for the others. */
export const MISS_WINDOW_MS = 150;

export interface MissRefreshResult {
  ok: boolean;
  error?: string;
  indexVersion: number;
  /** Notion requests the refresh spent; reported to the caller that started it, 0 to those who joined. */
  notionRequests: number;
}

export interface CanvasCronSummary {
  ownNumbersRefreshed: boolean;
  refresh?: RefreshSummary;
  trashSwept?: { removed: number; notionRequests: number };
  relink?: RelinkSummary;
  mail?: MailLinkSummary;
  /** The OpenPhone contacts listing (null: not due yet). */
  contacts?: ContactsRefreshSummary | null;
  contactSync?: Pick<ContactSyncReport, "counts" | "openphoneRequests" | "listed" | "stoppedEarly">;
  errors: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class CanvasIndexDurableObject extends DurableObject<Env> {
  /** Tail of the chain of work that must not overlap (refreshes, creations, cron passes). */
  private tail: Promise<unknown> = Promise.resolve();
  /** A refresh that has not started querying yet: a miss arriving now can share it. */
  private gathering: Promise<MissRefreshResult> | null = null;
  /** A refresh already querying Notion, and when it began: a miss shares it only when it began after the miss's events. */
  private running: Promise<MissRefreshResult> | null = null;
  private runningSince = 0;
  /**
   * When the last refresh that finished began (ms), and the index version it left. Kept in memory: after an eviction
   * it is 0, and the next miss asks for a refresh as it would without it.
   */
  private refreshed = { since: 0, indexVersion: -1 };

  private get config(): Config {
    return getConfig(this.env).config;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * A refresh of the index that began after the misses' calls and texts reached the Worker (`seenAt`, ms): the last
   * finished one or the running one when it did, else an incremental refresh that starts after this call, shared with
   * every miss of the same burst. Without `seenAt`, always one that starts after this call.
   */
  async refreshForMisses(seenAt?: number): Promise<MissRefreshResult> {
    if (seenAt !== undefined && this.refreshed.since >= seenAt) return { ok: true, indexVersion: this.refreshed.indexVersion, notionRequests: 0 };
    if (this.gathering) return { ...(await this.gathering), notionRequests: 0 };
    if (this.running && seenAt !== undefined && this.runningSince >= seenAt) return { ...(await this.running), notionRequests: 0 };
    const previous = this.running;
    let self: Promise<MissRefreshResult> | undefined;
    const refresh = (async (): Promise<MissRefreshResult> => {
      // Alone: wait a moment for the rest of the burst. Behind a running refresh: the wait is already long enough.
      if (previous) await previous.catch(() => undefined);
      else await sleep(MISS_WINDOW_MS);
      try {
        const summary = await this.exclusive(() => {
          if (this.gathering === self) this.gathering = null;
          this.running = self ?? null;
          this.runningSince = Date.now();
          return this.refreshNow("incremental");
        });
        return { ok: true, indexVersion: summary.indexVersion, notionRequests: summary.notionRequests };
      } catch (error) {
        createLogger(this.config.LOG_LEVEL).warn("canvas refresh for lookup misses failed", { error });
        await incrementMetrics(this.env.DB, { "canvas.refresh.failed": 1 });
        return { ok: false, error: error instanceof Error ? error.message : String(error), indexVersion: -1, notionRequests: 0 };
      } finally {
        if (this.gathering === self) this.gathering = null;
        if (this.running === self) this.running = null;
      }
    })();
    self = refresh;
    this.gathering = refresh;
    return refresh;
  }

  /** A refresh for the cron or the admin API (full, incremental, or whichever is due). */
  refresh(mode: RefreshMode = "auto"): Promise<RefreshSummary> {
    return this.exclusive(() => this.refreshNow(mode));
  }

  /** Reads the workspace's lines into D1 when they are missing or old. */
  ensureOwnNumbers(force = false): Promise<boolean> {
    return this.exclusive(() => refreshOwnNumbers(createOpenPhoneClient(this.env, this.config), this.env.DB, this.config, { force }));
  }

  /** A Canvas page for an unknown number (CANVAS_CREATE_UNKNOWN), created once even when several lines ask. */
  createForUnknown(phone: string): Promise<string | null> {
    return this.exclusive(async () => {
      const config = this.config;
      if (!(await getFlags(this.env)).CANVAS_CREATE_UNKNOWN) return null;
      const counter = newRequestCounter();
      const openphone = config.OPENPHONE_API_KEY ? createOpenPhoneClient(this.env, config, counter) : undefined;
      const id = await createCanvasPageForUnknown(createNotionClient(this.env, config, counter), openphone, this.env.DB, config, phone);
      await incrementMetrics(this.env.DB, { "canvas.created": id ? 1 : 0, "notion.requests.canvas": counter.notion, "openphone.requests.canvas": counter.openphone });
      return id;
    });
  }

  /** The frequent cron's Canvas work: own numbers, index refresh, relinking, Mail linking. */
  runScheduled(): Promise<CanvasCronSummary> {
    return this.exclusive(async () => {
      const config = this.config;
      const summary: CanvasCronSummary = { ownNumbersRefreshed: false, errors: [] };
      const attempt = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
        try {
          return await work();
        } catch (error) {
          summary.errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
          return undefined;
        }
      };
      const flags = await getFlags(this.env);
      summary.ownNumbersRefreshed =
        (await attempt("own numbers", () => refreshOwnNumbers(createOpenPhoneClient(this.env, config), this.env.DB, config))) ?? false;
      if (flags.CANVAS_INDEX_ENABLED) {
        summary.refresh = await attempt("canvas refresh", () => this.refreshNow("auto"));
        if (summary.refresh?.mode === "incremental") {
          summary.trashSwept = await attempt("canvas trash sweep", () =>
            sweepTrashedCanvasPages(createNotionClient(this.env, config), this.env.DB, config),
          );
        }
        summary.relink = await attempt("relink", () => this.relinkNow());
      }
      const contactsStarted = Date.now();
      summary.contacts = await attempt("openphone contacts", () => this.refreshContactsNow(false));
      if (flags.CONTACTS_SYNC) {
        const pass = await attempt("contact sync", () => this.syncContactsNow({ dryRun: false, listedSince: summary.contacts ? contactsStarted : undefined }));
        if (pass) summary.contactSync = { counts: pass.counts, openphoneRequests: pass.openphoneRequests, listed: pass.listed, stoppedEarly: pass.stoppedEarly };
      }
      if (flags.MAIL_LINKING_ENABLED) summary.mail = await attempt("mail linking", () => this.linkMailNow());
      if (summary.errors.length > 0) createLogger(config.LOG_LEVEL).warn("canvas cron pass had errors", { errors: summary.errors });
      return summary;
    });
  }

  /** Lists OpenPhone's contacts into D1 when due (or now, when forced). */
  refreshContacts(force = false): Promise<ContactsRefreshSummary | null> {
    return this.exclusive(() => this.refreshContactsNow(force));
  }

  /** One pass of the Canvas → OpenPhone contact sync, or its plan (dry run). */
  syncContacts(dryRun: boolean): Promise<ContactSyncReport> {
    return this.exclusive(() => this.syncContactsNow({ dryRun }));
  }

  /** Links earlier calls and texts after a refresh triggered by lookups gained keys. */
  override async alarm(): Promise<void> {
    await this.exclusive(() => this.relinkNow());
  }

  private async refreshNow(mode: RefreshMode): Promise<RefreshSummary> {
    const config = this.config;
    const counter = newRequestCounter();
    const summary = await refreshCanvasIndex(createNotionClient(this.env, config, counter), this.env.DB, config, { mode });
    if (summary.mode !== "skipped") this.refreshed = { since: summary.startedAt, indexVersion: summary.indexVersion };
    await incrementMetrics(this.env.DB, {
      [`canvas.refresh.${summary.mode}`]: 1,
      "canvas.refresh.requests": summary.notionRequests,
      "canvas.keys.gained": summary.keysGained.length,
      "notion.requests.canvas": counter.notion,
    });
    if (summary.missingProperties.length > 0) {
      createLogger(config.LOG_LEVEL).warn("Canvas properties from the configuration are missing on Canvas pages", { properties: summary.missingProperties });
    }
    if (summary.keysGained.length > 0 && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 1000);
    return summary;
  }

  private async refreshContactsNow(force: boolean): Promise<ContactsRefreshSummary | null> {
    const config = this.config;
    if (!config.OPENPHONE_API_KEY) return null;
    const counter = newRequestCounter();
    const summary = await refreshOpenPhoneContacts(createOpenPhoneClient(this.env, config, counter, { maxWaitMs: config.CONTACTS_GATE_MAX_WAIT_MS }), this.env.DB, config, { force });
    if (summary) await incrementMetrics(this.env.DB, { "contacts.listings": 1, "contacts.listed": summary.listed, "openphone.requests.contacts": counter.openphone });
    return summary;
  }

  private async syncContactsNow(options: ContactSyncOptions): Promise<ContactSyncReport> {
    const config = this.config;
    if (!config.OPENPHONE_API_KEY) throw new Error("the contact sync needs OPENPHONE_API_KEY");
    const counter = newRequestCounter();
    const report = await syncContactsToOpenPhone({ db: this.env.DB, config, openphone: createOpenPhoneClient(this.env, config, counter, { maxWaitMs: config.CONTACTS_GATE_MAX_WAIT_MS }), counter, now: Date.now }, options);
    if (!options.dryRun) {
      await incrementMetrics(this.env.DB, {
        "contacts.sync.passes": 1,
        "contacts.sync.created": report.counts.create,
        "contacts.sync.updated": report.counts.update,
        "contacts.sync.failed": report.counts.failed,
        "openphone.requests.contacts": counter.openphone,
      });
    }
    return report;
  }

  private async relinkNow(): Promise<RelinkSummary> {
    const config = this.config;
    const counter = newRequestCounter();
    const summary = await relinkResources(createNotionClient(this.env, config, counter), this.env.DB, config);
    await incrementMetrics(this.env.DB, { "canvas.relinked": summary.linked, "canvas.relink.kept": summary.kept, "canvas.relink.failed": summary.failed, "notion.requests.canvas": counter.notion });
    return summary;
  }

  private async linkMailNow(): Promise<MailLinkSummary> {
    const config = this.config;
    const counter = newRequestCounter();
    const summary = await linkMailPages(createNotionClient(this.env, config, counter), this.env.DB, config);
    await incrementMetrics(this.env.DB, { "mail.linked": summary.linked, "mail.unmatched": summary.unmatched, "mail.failed": summary.failed, "notion.requests.mail": counter.notion });
    return summary;
  }
}
