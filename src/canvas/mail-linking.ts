/**
 * Mail linking: pages of the user's Mail database (filled by some other email→Notion tool) whose Canvas relation is
 * empty get it from their sender and recipient addresses, through the Canvas index. Only that relation is written;
 * we never create or otherwise change mail pages.
 *
 * At most MAIL_LINK_BATCH pages are looked up per run. A page that matches no customer is remembered in D1
 * (`mail_unmatched`) with the index version, and is skipped until the index changes or the page is edited. While
 * the index is unchanged since the last complete pass, only pages edited since then are asked for.
 */
import { APIErrorCode, APIResponseError, type Client } from "@notionhq/client";
import type { Config } from "../config";
import { lookupIndex, readCanvasState, readIndexVersion, runBatched, writeCanvasState } from "../db/canvas-index";
import { forgetUnmatchedMailStatement, readUnmatchedMail, rememberUnmatchedMailStatement } from "../db/canvas-links";
import { isNotionRefusal } from "../notion/errors";
import { indexKey } from "./normalize";
import { readMailAddresses, type NotionPageLike } from "./notion-page";
import { queryRows, withRowSource, type QueryBody } from "./notion-source";

/** Notion allows at most 100 pages in one relation value. */
const MAX_RELATION = 100;
/** Queries per run (100 pages each), however many remembered pages they skip. */
const MAX_QUERIES_PER_RUN = 10;

export interface MailLinkSummary {
  skipped?: string;
  /** Pages whose addresses were looked up (at most MAIL_LINK_BATCH). */
  pagesRead: number;
  linked: number;
  unmatched: number;
  /** Pages skipped because they were already found to match nobody at this index version. */
  remembered: number;
  failed: number;
  notionRequests: number;
  /** The pass reached the end of the unlinked pages (false when MAIL_LINK_BATCH stopped it). */
  complete: boolean;
  missingProperties: string[];
}

export async function linkMailPages(client: Client, db: D1Database, config: Config, options: { now?: () => number } = {}): Promise<MailLinkSummary> {
  const now = options.now ?? Date.now;
  const summary: MailLinkSummary = { pagesRead: 0, linked: 0, unmatched: 0, remembered: 0, failed: 0, notionRequests: 0, complete: false, missingProperties: [] };
  const databaseId = config.NOTION_MAIL_DATABASE_ID;
  if (!databaseId) return { ...summary, skipped: "NOTION_MAIL_DATABASE_ID is not set" };
  if (config.MAIL_LINK_BATCH === 0) return { ...summary, skipped: "MAIL_LINK_BATCH is 0" };
  const relation = config.MAIL_CANVAS_RELATION_PROPERTY;
  const version = await readIndexVersion(db);
  const state = await readCanvasState(db, ["mail_pass_version", "mail_watermark"]);
  // Unchanged index since the last complete pass: only mail edited (or added) since then can newly match.
  const onlyEdited = state.mail_pass_version !== undefined && Number(state.mail_pass_version) === version && state.mail_watermark !== undefined;
  const overlapMs = config.CANVAS_REFRESH_OVERLAP_SECONDS * 1000;
  const startedAt = new Date(now()).toISOString();
  const emptyRelation = { property: relation, relation: { is_empty: true } };
  const filter = onlyEdited
    ? { and: [emptyRelation, { timestamp: "last_edited_time", last_edited_time: { on_or_after: new Date(Date.parse(state.mail_watermark!) - overlapMs).toISOString() } }] }
    : emptyRelation;
  const missing = new Set<string>();

  await withRowSource(client, db, config, databaseId, async (source) => {
    let cursor: string | undefined;
    for (let requests = 0; requests < MAX_QUERIES_PER_RUN; requests++) {
      const body: QueryBody = {
        filter,
        sorts: [{ timestamp: "last_edited_time", direction: "ascending" }],
        page_size: 100,
        ...(cursor ? { start_cursor: cursor } : {}),
      };
      const response = await queryRows(client, source, body);
      summary.notionRequests++;
      const stoppedEarly = await handlePages(client, db, config, response.results, version, missing, summary, now);
      if (stoppedEarly) break;
      if (!response.has_more || !response.next_cursor) {
        summary.complete = true;
        break;
      }
      cursor = response.next_cursor;
    }
  });

  summary.missingProperties = [...missing];
  if (summary.complete && summary.failed === 0) {
    await db.batch([writeCanvasState(db, "mail_pass_version", String(version)), writeCanvasState(db, "mail_watermark", startedAt)]);
  }
  return summary;
}

async function handlePages(
  client: Client,
  db: D1Database,
  config: Config,
  pages: NotionPageLike[],
  version: number,
  missing: Set<string>,
  summary: MailLinkSummary,
  now: () => number,
): Promise<boolean> {
  if (pages.length === 0) return false;
  let stoppedEarly = false;
  const remembered = await readUnmatchedMail(db, pages.map((p) => p.id));
  const writes: D1PreparedStatement[] = [];
  for (const page of pages) {
    const seen = remembered.get(page.id);
    if (seen && seen.indexVersion === version && seen.lastEditedTime === page.last_edited_time) {
      summary.remembered++;
      continue;
    }
    if (summary.pagesRead >= config.MAIL_LINK_BATCH) {
      stoppedEarly = true;
      break;
    }
    summary.pagesRead++;
    const { addresses, missingProperties } = readMailAddresses(page, config.MAIL_ADDRESS_PROPERTIES);
    for (const name of missingProperties) missing.add(name);
    const keys = addresses.map(indexKey);
    const found = keys.length > 0 ? await lookupIndex(db, keys) : new Map<string, string>();
    const canvasPages = [...new Set(keys.map((k) => found.get(k)).filter((id): id is string => id !== undefined))].slice(0, MAX_RELATION);
    if (canvasPages.length === 0) {
      summary.unmatched++;
      writes.push(rememberUnmatchedMailStatement(db, page.id, page.last_edited_time ?? "", version, addresses, now()));
      continue;
    }
    try {
      summary.notionRequests++;
      await client.pages.update({ page_id: page.id, properties: { [config.MAIL_CANVAS_RELATION_PROPERTY]: { relation: canvasPages.map((id) => ({ id })) } } });
    } catch (error) {
      summary.failed++;
      // Notion refuses this page (e.g. the relation points at another database): say so once per index version. A
      // conflict is set aside the same way; the page is tried again with the next index version or edit.
      if (isNotionRefusal(error) || (error instanceof APIResponseError && error.code === APIErrorCode.ConflictError)) {
        writes.push(rememberUnmatchedMailStatement(db, page.id, page.last_edited_time ?? "", version, { addresses, error: error.message }, now()));
        continue;
      }
      await runBatched(db, writes);
      throw error;
    }
    summary.linked++;
    writes.push(forgetUnmatchedMailStatement(db, page.id));
  }
  await runBatched(db, writes);
  return stoppedEarly;
}
