/**
 * D1 queries of the Canvas links written outside the Line Durable Object: calls and texts relinked once the index
 * knew their customer (`canvas_relinks`, `resources.canvas_page_id`), and Mail pages found to match no customer at an
 * index version (`mail_unmatched`).
 */
import { chunk } from "./canvas-index";

export interface RelinkCandidate {
  resourceId: string;
  kind: "call" | "message";
  notionPageId: string;
  /** The customer the index now has for its participant (the smallest page id when several share it). */
  canvasPageId: string;
}

/**
 * Up to `limit` calls and texts with a Notion page and no Canvas relation whose participant the index now knows,
 * oldest first. Our own numbers are never customers, and a customer a page was already refused for is not offered
 * again.
 */
export async function listRelinkCandidates(db: D1Database, limit: number): Promise<RelinkCandidate[]> {
  const { results } = await db
    .prepare(
      `SELECT r.resource_id, r.kind, r.notion_page_id, MIN(ci.page_id) AS canvas_page_id
       FROM resources r
       JOIN canvas_index ci ON ci.key = CASE WHEN instr(r.participant, '@') > 0 THEN 'email:' || lower(r.participant) ELSE 'phone:' || r.participant END
       WHERE r.canvas_page_id IS NULL AND r.notion_page_id IS NOT NULL AND r.participant IS NOT NULL
         AND r.participant NOT IN (SELECT number FROM lines WHERE number IS NOT NULL)
         AND NOT EXISTS (SELECT 1 FROM canvas_relinks f WHERE f.resource_id = r.resource_id AND f.status = 'failed' AND f.canvas_page_id = ci.page_id)
       GROUP BY r.resource_id
       ORDER BY r.occurred_at
       LIMIT ?1`,
    )
    .bind(limit)
    .all<{ resource_id: string; kind: "call" | "message"; notion_page_id: string; canvas_page_id: string }>();
  return results.map((r) => ({ resourceId: r.resource_id, kind: r.kind, notionPageId: r.notion_page_id, canvasPageId: r.canvas_page_id }));
}

/** Sets a call's or text's Canvas page in the `resources` mirror, unless it has one already. */
export function linkResourceStatement(db: D1Database, resourceId: string, canvasPageId: string, at: number): D1PreparedStatement {
  return db.prepare("UPDATE resources SET canvas_page_id = ?1, updated_at = ?2 WHERE resource_id = ?3 AND canvas_page_id IS NULL").bind(canvasPageId, at, resourceId);
}

/** Records a relink, done or refused, replacing what was recorded for that call or text before. */
export function recordRelinkStatement(
  db: D1Database,
  link: RelinkCandidate,
  property: string,
  status: "linked" | "failed",
  error: string | null,
  at: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO canvas_relinks (resource_id, kind, notion_page_id, canvas_page_id, property, status, error, linked_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
       ON CONFLICT (resource_id) DO UPDATE SET notion_page_id = excluded.notion_page_id, canvas_page_id = excluded.canvas_page_id,
         property = excluded.property, status = excluded.status, error = excluded.error, linked_at = excluded.linked_at`,
    )
    .bind(link.resourceId, link.kind, link.notionPageId, link.canvasPageId, property, status, error, at);
}

/**
 * The relations written outside the Line Durable Object for these resources: resource id → Canvas page id.
 * A flush treats them as already written.
 */
export async function readRelinks(db: D1Database, resourceIds: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const ids of chunk(resourceIds, 90)) {
    const { results } = await db
      .prepare(`SELECT resource_id, canvas_page_id FROM canvas_relinks WHERE status = 'linked' AND resource_id IN (${ids.map((_, j) => `?${j + 1}`).join(", ")})`)
      .bind(...ids)
      .all<{ resource_id: string; canvas_page_id: string }>();
    for (const row of results) found.set(row.resource_id, row.canvas_page_id);
  }
  return found;
}

export interface UnmatchedMail {
  indexVersion: number;
  lastEditedTime: string;
}

/** What `mail_unmatched` remembers of these Mail pages: the index version and page edit they matched nobody at. */
export async function readUnmatchedMail(db: D1Database, pageIds: string[]): Promise<Map<string, UnmatchedMail>> {
  const rows = new Map<string, UnmatchedMail>();
  for (const ids of chunk(pageIds, 90)) {
    const { results } = await db
      .prepare(`SELECT page_id, index_version, last_edited_time FROM mail_unmatched WHERE page_id IN (${ids.map((_, i) => `?${i + 1}`).join(", ")})`)
      .bind(...ids)
      .all<{ page_id: string; index_version: number; last_edited_time: string }>();
    for (const row of results) rows.set(row.page_id, { indexVersion: row.index_version, lastEditedTime: row.last_edited_time });
  }
  return rows;
}

/** Remembers a Mail page as set aside at this index version and edit; `detail` is kept as JSON. */
export function rememberUnmatchedMailStatement(db: D1Database, pageId: string, lastEditedTime: string, indexVersion: number, detail: unknown, at: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO mail_unmatched (page_id, last_edited_time, index_version, addresses, checked_at) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (page_id) DO UPDATE SET last_edited_time = excluded.last_edited_time, index_version = excluded.index_version,
         addresses = excluded.addresses, checked_at = excluded.checked_at`,
    )
    .bind(pageId, lastEditedTime, indexVersion, JSON.stringify(detail), at);
}

export function forgetUnmatchedMailStatement(db: D1Database, pageId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM mail_unmatched WHERE page_id = ?1").bind(pageId);
}
