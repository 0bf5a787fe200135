/**
 * Builds and refreshes the Canvas index in D1.
 *
 * A full build pages through the whole Canvas (100 pages per request) and drops pages it did not see. An
 * incremental refresh asks only for pages edited since the watermark (the newest `last_edited_time` seen), minus an
 * overlap: Notion rounds `last_edited_time` to the minute and query results can lag an edit by a few seconds, so
 * the overlap re-reads the last moments instead of missing them. A handful of edits therefore costs one request.
 * Trashed pages returned by a query leave the index at once; pages trashed without being returned leave it at the
 * next full build (at most a day later).
 */
import type { Client } from "@notionhq/client";
import type { Config } from "../config";
import {
  dropExpiredNegativeStatement,
  dropPagesNotSeenSince,
  markSeenStatements,
  readCanvasState,
  readKeysOfPages,
  readPageVersions,
  replacePageStatements,
  runBatched,
  writeCanvasState,
} from "../db/canvas-index";
import { readCanvasPage, type CanvasPageRecord, type CanvasReadSettings } from "./notion-page";
import { queryRows, withRowSource, type QueryBody } from "./notion-source";

export const FULL_REBUILD_INTERVAL_MS = 24 * 3_600_000;
const PAGE_SIZE = 100;

export type RefreshMode = "auto" | "full" | "incremental";

export interface RefreshSummary {
  mode: "full" | "incremental" | "skipped";
  /** Why nothing was done, when skipped. */
  reason?: string;
  pagesRead: number;
  pagesChanged: number;
  pagesRemoved: number;
  /** Keys a page gained: its earlier calls and texts can now be linked. */
  keysGained: { key: string; pageId: string }[];
  keysLost: number;
  notionRequests: number;
  indexVersion: number;
  /** Configured Canvas properties missing from the pages read (a renamed property or a typo in the setting). */
  missingProperties: string[];
  startedAt: number;
  finishedAt: number;
}

export function canvasReadSettings(config: Config): CanvasReadSettings {
  return {
    phoneProperties: config.CANVAS_PHONE_PROPERTIES,
    emailProperties: config.CANVAS_EMAIL_PROPERTIES,
    titleProperty: config.CANVAS_TITLE_PROPERTY,
    companyProperty: config.CANVAS_COMPANY_PROPERTY,
    defaultRegion: config.DEFAULT_REGION,
  };
}

export interface RefreshOptions {
  mode?: RefreshMode;
  now?: () => number;
  /** Requests spent are added here (the caller's counter also sees them through the gated fetch). */
  requests?: { notion: number };
}

/**
 * Brings the index up to date with the Canvas. `client` must spend the shared Notion budget (createNotionClient).
 */
export async function refreshCanvasIndex(client: Client, db: D1Database, config: Config, options: RefreshOptions = {}): Promise<RefreshSummary> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const summary: RefreshSummary = {
    mode: "skipped",
    pagesRead: 0,
    pagesChanged: 0,
    pagesRemoved: 0,
    keysGained: [],
    keysLost: 0,
    notionRequests: 0,
    indexVersion: 0,
    missingProperties: [],
    startedAt,
    finishedAt: startedAt,
  };
  const databaseId = config.NOTION_CANVAS_DATABASE_ID;
  if (!databaseId) {
    summary.reason = "NOTION_CANVAS_DATABASE_ID is not set";
    return summary;
  }
  const state = await readCanvasState(db, ["watermark", "full_built_at", "index_version"]);
  const fullDue = !state.watermark || !state.full_built_at || startedAt - Number(state.full_built_at) >= FULL_REBUILD_INTERVAL_MS;
  const mode = options.mode === "full" || (options.mode !== "incremental" && fullDue) || !state.watermark ? "full" : "incremental";
  summary.mode = mode;
  let version = Number(state.index_version ?? 0);
  let watermark = state.watermark ?? null;
  const overlapMs = config.CANVAS_REFRESH_OVERLAP_SECONDS * 1000;
  const settings = canvasReadSettings(config);
  const missing = new Set<string>();

  await withRowSource(client, db, config, databaseId, async (source) => {
    let since = mode === "incremental" && watermark ? new Date(Date.parse(watermark) - overlapMs).toISOString() : null;
    let cursor: string | undefined;
    for (;;) {
      const body: QueryBody = {
        page_size: PAGE_SIZE,
        sorts: [{ timestamp: "last_edited_time", direction: "ascending" }],
        ...(since ? { filter: { timestamp: "last_edited_time", last_edited_time: { on_or_after: since } } } : {}),
        ...(cursor ? { start_cursor: cursor } : {}),
      };
      const response = await queryRows(client, source, body);
      summary.notionRequests++;
      if (options.requests) options.requests.notion++;
      const records = response.results.map((page) => readCanvasPage(page, settings));
      for (const record of records) for (const name of record.missingProperties) missing.add(name);
      const changed = await applyRecords(db, records, mode, startedAt, summary);
      if (changed) version++;
      for (const record of records) if (!watermark || record.lastEditedTime > watermark) watermark = record.lastEditedTime;
      summary.pagesRead += records.length;
      if (response.has_more && response.next_cursor) {
        cursor = response.next_cursor;
        continue;
      }
      // Notion stops one query at 10,000 results: carry on from the newest page seen (results are in edit order).
      if (response.request_status?.type === "incomplete" && records.length > 0) {
        since = records[records.length - 1]!.lastEditedTime;
        cursor = undefined;
        continue;
      }
      break;
    }
  });

  if (mode === "full") {
    const dropped = await dropPagesNotSeenSince(db, startedAt);
    if (dropped > 0) version++;
    summary.pagesRemoved += dropped;
  }
  summary.missingProperties = [...missing];
  summary.finishedAt = now();
  summary.indexVersion = version;
  const stateWrites = [
    writeCanvasState(db, "index_version", String(version)),
    writeCanvasState(db, "last_refresh_at", String(summary.finishedAt)),
    writeCanvasState(db, "missing_properties", JSON.stringify(summary.missingProperties)),
    // Expired "unknown" entries are no longer read; keep the table to the live ones.
    dropExpiredNegativeStatement(db, summary.finishedAt),
  ];
  if (watermark) stateWrites.push(writeCanvasState(db, "watermark", watermark));
  if (mode === "full") stateWrites.push(writeCanvasState(db, "full_built_at", String(startedAt)));
  await db.batch(stateWrites);
  return summary;
}

/** Writes what changed among `records`; returns whether any key was added or removed. */
async function applyRecords(db: D1Database, records: CanvasPageRecord[], mode: "full" | "incremental", now: number, summary: RefreshSummary): Promise<boolean> {
  if (records.length === 0) return false;
  const previous = await readKeysOfPages(db, records.map((r) => r.pageId));
  const known = await readPageVersions(db, records.map((r) => r.pageId));
  const statements: D1PreparedStatement[] = [];
  let keysChanged = false;
  for (const record of records) {
    const before = previous.get(record.pageId) ?? new Set<string>();
    const after = new Set(record.removed ? [] : record.entries.map((e) => e.key));
    const gained = [...after].filter((k) => !before.has(k));
    const lost = [...before].filter((k) => !after.has(k));
    const existing = known.get(record.pageId);
    const unchanged = gained.length === 0 && lost.length === 0 && existing !== undefined && !record.removed && existing.lastEditedTime === record.lastEditedTime && existing.title === record.title && existing.company === record.company;
    if (unchanged) continue;
    if (record.removed && existing === undefined && before.size === 0) continue;
    statements.push(...replacePageStatements(db, record, before, now));
    if (record.removed) summary.pagesRemoved++;
    else summary.pagesChanged++;
    for (const key of gained) summary.keysGained.push({ key, pageId: record.pageId });
    summary.keysLost += lost.length;
    if (gained.length > 0 || lost.length > 0) keysChanged = true;
  }
  if (mode === "full") statements.push(...markSeenStatements(db, records.filter((r) => !r.removed).map((r) => r.pageId), now));
  await runBatched(db, statements);
  return keysChanged;
}

/**
 * Pages moved to the trash since the last sweep leave the index. Queries leave trashed pages out, so an incremental
 * refresh never sees them; this asks for them explicitly (`in_trash: true`, edited since the last sweep). The cron
 * runs it after each incremental refresh: one request per pass.
 */
export async function sweepTrashedCanvasPages(client: Client, db: D1Database, config: Config, options: { now?: () => number } = {}): Promise<{ removed: number; notionRequests: number }> {
  const now = options.now ?? Date.now;
  const databaseId = config.NOTION_CANVAS_DATABASE_ID;
  if (!databaseId) return { removed: 0, notionRequests: 0 };
  const state = await readCanvasState(db, ["trash_watermark", "full_built_at", "index_version"]);
  // A full build already left trashed pages out: the first sweep starts there.
  const since = state.trash_watermark ?? (state.full_built_at ? new Date(Number(state.full_built_at)).toISOString() : undefined);
  const startedAt = new Date(now()).toISOString();
  if (!since) return { removed: 0, notionRequests: 0 };
  const overlapMs = config.CANVAS_REFRESH_OVERLAP_SECONDS * 1000;
  let removed = 0;
  let requests = 0;
  await withRowSource(client, db, config, databaseId, async (source) => {
    let cursor: string | undefined;
    do {
      const response = await queryRows(client, source, {
        in_trash: true,
        page_size: PAGE_SIZE,
        filter: { timestamp: "last_edited_time", last_edited_time: { on_or_after: new Date(Date.parse(since) - overlapMs).toISOString() } },
        ...(cursor ? { start_cursor: cursor } : {}),
      });
      requests++;
      const ids = response.results.map((p) => p.id);
      const previous = await readKeysOfPages(db, ids);
      const known = await readPageVersions(db, ids);
      const statements = ids
        .filter((id) => known.has(id) || previous.has(id))
        .flatMap((id) => {
          removed++;
          return replacePageStatements(db, { pageId: id, title: null, company: null, lastEditedTime: "", removed: true, entries: [], unparsed: [], missingProperties: [] }, previous.get(id) ?? new Set(), now());
        });
      await runBatched(db, statements);
      cursor = response.has_more && response.next_cursor ? response.next_cursor : undefined;
    } while (cursor);
  });
  const writes = [writeCanvasState(db, "trash_watermark", startedAt)];
  if (removed > 0) writes.push(writeCanvasState(db, "index_version", String(Number(state.index_version ?? 0) + 1)));
  await db.batch(writes);
  return { removed, notionRequests: requests };
}
