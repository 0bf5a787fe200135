/**
 * The audit: OpenPhone is the truth, Notion is compared with it. For every call and text created since a date on
 * every line, its page must exist once (`missing`, `duplicated`) and show what OpenPhone has (`stale`).
 *
 * Cost: Notion's side is one paginated query per database for the whole window (100 pages a request), never one per
 * item. OpenPhone's side is the backfill's walk of each line, plus, for a call page that lacks a recording, transcript,
 * summary or voicemail, one request per thing it lacks. The audit stops at its request budget or deadline and says
 * so (`complete: false`, `stoppedBy`) with the position it reached (`next`); an audit sent that position as `after`
 * checks the rest of the same window, and the parts together count every item once (see `listing.ts`).
 *
 * With `repair`, exactly what was found is repaired: a missing or stale item is handed to its line as a fresh
 * re-sync event (the line is told first when the page it remembers is gone, or that a stale page's properties must
 * be written again in full), and duplicates are merged onto the
 * first page and the others trashed (`duplicates.ts`), the line pointed at the page kept.
 */
import { callEvent, messageEvent } from "../backfill/envelope";
import { currentLineFilter } from "../line-filter/decide";
import { lineIdentity, lineVerdict } from "../line-filter/filter";
import { getConfig, type Config } from "../config";
import { insertAuditRun } from "../db/audit-runs";
import { incrementMetrics } from "../db/metrics";
import { newRequestCounter } from "../gates/gated-fetch";
import { createNotionClient } from "../notion/client";
import { resolvePageParent } from "../notion/pages";
import { resolvePropertyNames, uniqueProperty, type DatabaseKind } from "../notion/schema";
import { createOpenPhoneClient } from "../openphone/client";
import { createLogger } from "../observability/logger";
import type { WebhookMessage } from "../queue/messages";
import { AuditBudget, AuditBudgetSpent } from "./budget";
import { repairDuplicate } from "./duplicates";
import { encodePosition, lineConversations, listConversation, type AuditPosition, type ListedItem } from "./listing";
import { indexPages, type NotionPageView } from "./notion-index";
import { callHas, callPageLacks, messagePageLacks } from "./stale";
import type { AuditRepairs, AuditReport, DriftItem } from "./types";

export type { AuditRepairs, AuditReport, DriftItem } from "./types";

/**
 * Requests (OpenPhone and Notion together) one audit may spend unless the caller asks for fewer. Each costs about three
 * subrequests (the gate permit, the request, the gate report), so 300 stays under 1,000 subrequests per invocation.
 */
export const AUDIT_MAX_REQUESTS = 300;
/** Longest one audit runs before it stops and reports what it checked. */
export const AUDIT_TIME_BUDGET_MS = 25_000;
/** The scheduled audit leaves out the last minutes: those items may still be inside the sync's coalescing window. */
export const SCHEDULED_SETTLE_MS = 10 * 60_000;
export const SCHEDULED_WINDOW_MS = 86_400_000;

export interface AuditOptions {
  since: number;
  until?: number;
  /** Continues an audit that stopped at its budget, from the position it answered (`next`); its window wins. */
  after?: AuditPosition;
  repair?: boolean;
  maxRequests?: number;
  timeBudgetMs?: number;
  trigger: "api" | "cron";
}

export class AuditUnavailableError extends Error {
  override name = "AuditUnavailableError";
}

const DATE_PROPERTY: Record<DatabaseKind, string> = { calls: "Started", messages: "Sent" };

function drift(entry: ListedItem): DriftItem {
  return { id: entry.item.id, kind: entry.kind, lineId: entry.lineId, createdAt: entry.item.createdAt };
}

export async function runAudit(env: Env, options: AuditOptions): Promise<AuditReport> {
  const { config } = getConfig(env);
  if (!config.OPENPHONE_API_KEY || !config.NOTION_TOKEN || !config.NOTION_CALLS_DATABASE_ID || !config.NOTION_MESSAGES_DATABASE_ID) {
    throw new AuditUnavailableError("the audit needs OPENPHONE_API_KEY, NOTION_TOKEN, NOTION_CALLS_DATABASE_ID and NOTION_MESSAGES_DATABASE_ID");
  }
  const startedAt = Date.now();
  const budget = new AuditBudget(Math.min(options.maxRequests ?? AUDIT_MAX_REQUESTS, AUDIT_MAX_REQUESTS), startedAt + (options.timeBudgetMs ?? AUDIT_TIME_BUDGET_MS));
  const counter = newRequestCounter();
  const openphone = createOpenPhoneClient(env, config, counter);
  const notion = createNotionClient(env, config, counter);
  const start = options.after ?? { since: new Date(options.since).toISOString(), until: options.until ?? startedAt, line: 0, conversation: 0 };
  const { since, until } = start;
  const position = { line: start.line, conversation: start.conversation };
  const report: AuditReport = { id: crypto.randomUUID(), since, checked: 0, missing: [], duplicated: [], stale: [], skipped: 0, complete: true, requests: { openphone: 0, notion: 0 } };
  const names = { calls: resolvePropertyNames("calls", config.NOTION_PROPERTY_MAP), messages: resolvePropertyNames("messages", config.NOTION_PROPERTY_MAP) };
  const pagesFor: Record<"call" | "message", Map<string, NotionPageView[]>> = { call: new Map(), message: new Map() };
  /** The listed objects of what drifted: a repair re-syncs from them without asking OpenPhone again. */
  const listed = new Map<string, ListedItem>();
  let error: unknown;

  try {
    for (const kind of ["calls", "messages"] as const) {
      const databaseId = kind === "calls" ? config.NOTION_CALLS_DATABASE_ID : config.NOTION_MESSAGES_DATABASE_ID;
      budget.take("notion");
      const parent = await resolvePageParent(notion, databaseId, config.NOTION_VERSION);
      pagesFor[kind === "calls" ? "call" : "message"] = await indexPages(notion, parent, names[kind], DATE_PROPERTY[kind], uniqueProperty(kind), since, budget);
    }
    budget.take("openphone");
    const { data: unordered } = await openphone.request("listPhoneNumbers_v1", {});
    // A line the filter skips is not synced, so nothing of it is missing from Notion.
    const filter = await currentLineFilter(env, config);
    const synced = unordered.filter((line) => lineVerdict(filter, lineIdentity(line.id, line.number, config.DEFAULT_REGION)) !== "skipped");
    const lines = synced.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (position.line = start.line; position.line < lines.length; position.line++) {
      const line = lines[position.line]!;
      // Set before the listing: a part that stops while listing this line's conversations resumes at its start.
      const first = position.line === start.line ? start.conversation : 0;
      position.conversation = first;
      const units = await lineConversations(openphone, { id: line.id, number: line.number }, since, budget);
      for (position.conversation = first; position.conversation < units.length; position.conversation++) {
        // A conversation counts once it is wholly checked, details included: a part that stops inside one leaves it
        // whole to the next part.
        const listing = await listConversation(openphone, line.id, units[position.conversation]!, since, until, budget);
        const found: Pick<AuditReport, "missing" | "duplicated" | "stale"> = { missing: [], duplicated: [], stale: [] };
        for (const entry of listing.items) {
          const pages = pagesFor[entry.kind].get(entry.item.id) ?? [];
          if (pages.length === 0) {
            found.missing.push(drift(entry));
            continue;
          }
          if (pages.length > 1) found.duplicated.push({ ...drift(entry), pageIds: pages.map((p) => p.id) });
          const page = pages[0]!;
          const lacks = entry.kind === "call" ? callPageLacks(entry.item, page, names.calls) : messagePageLacks(entry.item, page, names.messages);
          if (lacks.length === 0) continue;
          const has = entry.kind === "call" ? await callHas(openphone, entry.item.id, lacks, budget) : lacks;
          if (has.length > 0) found.stale.push({ ...drift(entry), pageId: page.id, lacks: has });
        }
        report.checked += listing.items.length;
        report.skipped += listing.unfinished;
        report.missing.push(...found.missing);
        report.duplicated.push(...found.duplicated);
        report.stale.push(...found.stale);
        for (const entry of listing.items) if ([...found.missing, ...found.stale].some((d) => d.id === entry.item.id)) listed.set(entry.item.id, entry);
      }
    }
  } catch (caught) {
    report.complete = false;
    if (caught instanceof AuditBudgetSpent) {
      report.stoppedBy = caught.reason;
      report.next = encodePosition({ since, until, line: position.line, conversation: position.conversation });
    }
    else {
      report.stoppedBy = `failed: ${caught instanceof Error ? caught.message : String(caught)}`;
      error = caught;
    }
  }

  if (options.repair && error === undefined) report.repaired = await repair(env, config, report, pagesFor, listed, budget);
  report.requests = { openphone: counter.openphone, notion: counter.notion };
  const endedAt = Date.now();
  await insertAuditRun(env.DB, {
    id: report.id,
    trigger: options.trigger,
    since: options.since,
    startedAt,
    endedAt,
    checked: report.checked,
    missing: report.missing.length,
    duplicated: report.duplicated.length,
    stale: report.stale.length,
    complete: report.complete,
    stoppedBy: report.stoppedBy ?? null,
    openphoneRequests: counter.openphone,
    notionRequests: counter.notion,
    repaired: report.repaired,
    drift: { missing: report.missing, duplicated: report.duplicated, stale: report.stale },
  });
  await incrementMetrics(env.DB, {
    "audit.runs": 1,
    "audit.checked": report.checked,
    "audit.missing": report.missing.length,
    "audit.duplicated": report.duplicated.length,
    "audit.stale": report.stale.length,
    "audit.resynced": report.repaired?.resynced.length ?? 0,
    "audit.duplicates_repaired": report.repaired?.duplicatesRepaired.reduce((n, d) => n + d.trashedPageIds.length, 0) ?? 0,
    "audit.repair_failed": report.repaired?.failed.length ?? 0,
  });
  if (error !== undefined) throw error;
  return report;
}

async function repair(env: Env, config: Config, report: AuditReport, pagesFor: Record<"call" | "message", Map<string, NotionPageView[]>>, listed: Map<string, ListedItem>, budget: AuditBudget): Promise<AuditRepairs> {
  const repairs: AuditRepairs = { resynced: [], duplicatesRepaired: [], failed: [] };
  const notion = createNotionClient(env, config);
  // Merging duplicates spends what the comparison left of the budget (one invocation's subrequests are shared), with
  // a fresh deadline; a merge the budget cannot pay for is reported failed, with the reason, and the next audit finds it.
  const repairBudget = new AuditBudget(Math.max(0, budget.maxRequests - budget.spent), Date.now() + AUDIT_TIME_BUDGET_MS);
  const repoint = new Map<string, { resourceId: string; pageId: string | null; rewrite?: boolean }[]>();
  const queue = (lineId: string, change: { resourceId: string; pageId: string | null; rewrite?: boolean }) => {
    const list = repoint.get(lineId) ?? [];
    list.push(change);
    repoint.set(lineId, list);
  };

  for (const d of report.duplicated) {
    try {
      const result = await repairDuplicate({ client: notion, config, db: env.DB, budget: repairBudget, auditId: report.id, now: Date.now }, d.kind, d.id, pagesFor[d.kind].get(d.id)!);
      repairs.duplicatesRepaired.push(result);
      queue(d.lineId, { resourceId: d.id, pageId: result.keptPageId });
    } catch (error) {
      repairs.failed.push({ id: d.id, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  for (const m of report.missing) queue(m.lineId, { resourceId: m.id, pageId: null });
  // A stale page may lack what the line believes it wrote (the page was edited): its properties are written again.
  for (const s of report.stale) queue(s.lineId, { resourceId: s.id, pageId: s.pageId, rewrite: true });

  // A fresh event per missing or stale item, through the same merge as webhooks: the page is found or created once.
  const events = new Map<string, WebhookMessage[]>();
  const now = Date.now();
  for (const item of [...report.missing, ...report.stale]) {
    const entry = listed.get(item.id);
    if (!entry) continue;
    const event = entry.kind === "call" ? callEvent(item.lineId, "audit", entry.item, now) : messageEvent(item.lineId, "audit", entry.item, now);
    const eventId = `audit:${item.id}:${now}`;
    const list = events.get(item.lineId) ?? [];
    list.push({ ...event, eventId, envelope: { ...(event.envelope as object), id: eventId, source: "resync" } });
    events.set(item.lineId, list);
  }
  for (const lineId of new Set([...repoint.keys(), ...events.keys()])) {
    const stub = env.LINE.get(env.LINE.idFromName(lineId));
    try {
      const changes = repoint.get(lineId) ?? [];
      if (changes.length > 0) await stub.auditRepoint(changes);
      const messages = events.get(lineId) ?? [];
      if (messages.length === 0) continue;
      const result = await stub.ingest(messages);
      result.outcomes.forEach((outcome, i) => {
        const id = messages[i]!.eventId.split(":")[1]!;
        if (outcome.status === "done") repairs.resynced.push(id);
        else repairs.failed.push({ id, reason: outcome.reason });
      });
    } catch (error) {
      for (const m of events.get(lineId) ?? []) repairs.failed.push({ id: m.eventId.split(":")[1]!, reason: `line ${lineId}: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  return repairs;
}

/**
 * The six-hourly audit of the last day (without its last minutes, which may still be coalescing). Its figures go
 * to D1 like any audit; it repairs nothing by itself, so drift stays visible until an operator or the alert acts.
 */
export async function runScheduledAudit(env: Env, now = Date.now()): Promise<AuditReport | undefined> {
  const { config } = getConfig(env);
  const log = createLogger(config.LOG_LEVEL, { component: "audit" });
  try {
    const report = await runAudit(env, { since: now - SCHEDULED_WINDOW_MS, until: now - SCHEDULED_SETTLE_MS, trigger: "cron" });
    const figures = { checked: report.checked, missing: report.missing.length, duplicated: report.duplicated.length, stale: report.stale.length, complete: report.complete, stoppedBy: report.stoppedBy };
    if (figures.missing + figures.duplicated + figures.stale > 0) log.warn("the audit found drift between OpenPhone and Notion", figures);
    else log.info("audit: Notion matches OpenPhone", figures);
    return report;
  } catch (error) {
    log.error("the scheduled audit failed", { error });
    return undefined;
  }
}
