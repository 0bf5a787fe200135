/**
 * Relinking: calls and messages synced before their customer's number was in Canvas get their Canvas relation once
 * the index has it. Only the relation property of those pages is written, and only when it is still empty: each page
 * is read first, so a customer someone linked by hand in Notion meanwhile is kept (and recorded as the link).
 *
 * Which pages: D1 `resources` rows with a Notion page, no `canvas_page_id`, and a participant the index now knows.
 * A join, so a number gained by a miss-triggered refresh, or a call synced while a Line Durable Object still
 * remembered the number as unknown, is linked by the next pass all the same.
 *
 * For the Line Durable Object: each link is recorded in `canvas_relinks` (status 'linked') and in
 * `resources.canvas_page_id`. A flush must treat that relation as already written (and never clear a relation
 * because a lookup returned null), so it does not undo the link.
 */
import type { Client } from "@notionhq/client";
import type { Config } from "../config";
import { runBatched } from "../db/canvas-index";
import { isNotionRefusal } from "../notion/errors";

/** Our name of the Calls/Messages relation to Canvas, before the user's NOTION_PROPERTY_MAP renames it. */
export const CANVAS_RELATION = "Canvas";

/** The relation's name in the user's database: `NOTION_PROPERTY_MAP` may rename it per database or for both. */
export function canvasRelationProperty(config: Config, kind: "call" | "message"): string {
  const qualifier = kind === "call" ? "Calls" : "Messages";
  return config.NOTION_PROPERTY_MAP[`${qualifier}.${CANVAS_RELATION}`] ?? config.NOTION_PROPERTY_MAP[CANVAS_RELATION] ?? CANVAS_RELATION;
}

export interface RelinkSummary {
  linked: number;
  /** Pages someone had linked by hand meanwhile: their relation is kept as it is. */
  kept: number;
  failed: number;
  /** Stopped early (rate limit, Notion down): the rest waits for the next pass. */
  interrupted: boolean;
  notionRequests: number;
}

interface Candidate {
  resource_id: string;
  kind: "call" | "message";
  notion_page_id: string;
  canvas_page_id: string;
}

/** Links up to `limit` unlinked calls and messages whose participant now has a customer. */
export async function relinkResources(client: Client, db: D1Database, config: Config, options: { limit?: number; now?: () => number } = {}): Promise<RelinkSummary> {
  const now = options.now ?? Date.now;
  const summary: RelinkSummary = { linked: 0, kept: 0, failed: 0, interrupted: false, notionRequests: 0 };
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
    .bind(options.limit ?? 100)
    .all<Candidate>();

  const writes: D1PreparedStatement[] = [];
  for (const candidate of results) {
    const property = canvasRelationProperty(config, candidate.kind);
    let linkedTo = candidate.canvas_page_id;
    try {
      summary.notionRequests++;
      const existing = relationOf(await client.pages.retrieve({ page_id: candidate.notion_page_id }), property);
      if (existing.length > 0) {
        linkedTo = existing[0]!;
        summary.kept++;
      } else {
        summary.notionRequests++;
        await client.pages.update({ page_id: candidate.notion_page_id, properties: { [property]: { relation: [{ id: candidate.canvas_page_id }] } } });
        summary.linked++;
      }
    } catch (error) {
      // A refusal will come again: record it instead of retrying every pass.
      if (isNotionRefusal(error)) {
        summary.failed++;
        writes.push(recordRelink(db, candidate, property, "failed", error instanceof Error ? error.message : String(error), now()));
        continue;
      }
      summary.interrupted = true;
      break;
    }
    writes.push(
      db.prepare("UPDATE resources SET canvas_page_id = ?1, updated_at = ?2 WHERE resource_id = ?3 AND canvas_page_id IS NULL").bind(linkedTo, now(), candidate.resource_id),
      recordRelink(db, { ...candidate, canvas_page_id: linkedTo }, property, "linked", null, now()),
    );
  }
  await runBatched(db, writes);
  return summary;
}

/** The page ids a page's relation property holds (none when the property is missing or not a relation). */
function relationOf(page: unknown, property: string): string[] {
  const value = (page as { properties?: Record<string, { type?: string; relation?: { id: string }[] }> }).properties?.[property];
  return value?.type === "relation" ? (value.relation ?? []).map((r) => r.id) : [];
}

function recordRelink(db: D1Database, c: Candidate, property: string, status: "linked" | "failed", error: string | null, at: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO canvas_relinks (resource_id, kind, notion_page_id, canvas_page_id, property, status, error, linked_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
       ON CONFLICT (resource_id) DO UPDATE SET notion_page_id = excluded.notion_page_id, canvas_page_id = excluded.canvas_page_id,
         property = excluded.property, status = excluded.status, error = excluded.error, linked_at = excluded.linked_at`,
    )
    .bind(c.resource_id, c.kind, c.notion_page_id, c.canvas_page_id, property, status, error, at);
}

/**
 * The relations written outside the Line Durable Object for these resources: resource id → Canvas page id.
 * A flush treats them as already written.
 */
export async function readRelinks(db: D1Database, resourceIds: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let i = 0; i < resourceIds.length; i += 90) {
    const ids = resourceIds.slice(i, i + 90);
    const { results } = await db
      .prepare(`SELECT resource_id, canvas_page_id FROM canvas_relinks WHERE status = 'linked' AND resource_id IN (${ids.map((_, j) => `?${j + 1}`).join(", ")})`)
      .bind(...ids)
      .all<{ resource_id: string; canvas_page_id: string }>();
    for (const row of results) found.set(row.resource_id, row.canvas_page_id);
  }
  return found;
}
