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
import { linkResourceStatement, listRelinkCandidates, recordRelinkStatement } from "../db/canvas-links";
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

/** Links up to `limit` unlinked calls and messages whose participant now has a customer. */
export async function relinkResources(client: Client, db: D1Database, config: Config, options: { limit?: number; now?: () => number } = {}): Promise<RelinkSummary> {
  const now = options.now ?? Date.now;
  const summary: RelinkSummary = { linked: 0, kept: 0, failed: 0, interrupted: false, notionRequests: 0 };
  const candidates = await listRelinkCandidates(db, options.limit ?? 100);

  const writes: D1PreparedStatement[] = [];
  for (const candidate of candidates) {
    const property = canvasRelationProperty(config, candidate.kind);
    let linkedTo = candidate.canvasPageId;
    try {
      summary.notionRequests++;
      const existing = relationOf(await client.pages.retrieve({ page_id: candidate.notionPageId }), property);
      if (existing.length > 0) {
        linkedTo = existing[0]!;
        summary.kept++;
      } else {
        summary.notionRequests++;
        await client.pages.update({ page_id: candidate.notionPageId, properties: { [property]: { relation: [{ id: candidate.canvasPageId }] } } });
        summary.linked++;
      }
    } catch (error) {
      // A refusal will come again: record it instead of retrying every pass.
      if (isNotionRefusal(error)) {
        summary.failed++;
        writes.push(recordRelinkStatement(db, candidate, property, "failed", error instanceof Error ? error.message : String(error), now()));
        continue;
      }
      summary.interrupted = true;
      break;
    }
    writes.push(
      linkResourceStatement(db, candidate.resourceId, linkedTo, now()),
      recordRelinkStatement(db, { ...candidate, canvasPageId: linkedTo }, property, "linked", null, now()),
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
