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
    const unchanged = gained.length === 0 && lost.length === 0 && existing !== undefined && !record.removed && existing.lastEditedTime === record.lastEditedTime && existing.title === record.title;
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
