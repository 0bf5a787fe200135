/**
 * Repairing two pages with one `Call ID` / `Message ID`. The first page (oldest `created_time`) is kept: links to
 * it made since it was created stay valid. What only a later page has is moved onto it — properties the kept page
 * lacks, and body blocks it does not have (compared by type and content) — and the later page goes to the trash,
 * where Notion keeps it restorable. Each repair is recorded in D1 (`duplicate_repairs`) and counted
 * (`audit.duplicates_repaired`).
 */
import type { Client } from "@notionhq/client";
import type { Config } from "../config";
import { recordDuplicateRepair } from "../db/audit-runs";
import type { AuditBudget } from "./budget";
import type { NotionPageView } from "./notion-index";
import type { DuplicateRepair } from "./types";

export type { DuplicateRepair };

type PropertyValue = Record<string, unknown> & { type?: string };

interface RichTextRead {
  plain_text?: string;
  text?: { content?: string; link?: { url: string } | null };
  href?: string | null;
}

const writableText = (items: RichTextRead[]) =>
  items.map((i) => ({ type: "text", text: { content: i.text?.content ?? i.plain_text ?? "", ...(i.text?.link ? { link: i.text.link } : {}) } }));

/** A property value as read, turned into the value to write; undefined when it is empty (nothing to move). */
export function writableValue(value: PropertyValue | undefined): Record<string, unknown> | undefined {
  if (!value?.type) return undefined;
  const v = value[value.type];
  switch (value.type) {
    case "title":
    case "rich_text":
      return Array.isArray(v) && v.length > 0 ? { [value.type]: writableText(v as RichTextRead[]) } : undefined;
    case "url":
    case "phone_number":
    case "number":
      return v === null || v === undefined || v === "" ? undefined : { [value.type]: v };
    case "select":
      return v && typeof v === "object" && (v as { name?: string }).name ? { select: { name: (v as { name: string }).name } } : undefined;
    case "date":
      return v && typeof v === "object" && (v as { start?: string }).start ? { date: { start: (v as { start: string }).start, ...((v as { end?: string }).end ? { end: (v as { end: string }).end } : {}) } } : undefined;
    case "relation":
      return Array.isArray(v) && v.length > 0 ? { relation: (v as { id: string }[]).map((r) => ({ id: r.id })) } : undefined;
    default:
      return undefined;
  }
}

/** Properties `later` has and `kept` lacks, ready to write onto `kept`. */
export function propertiesToMove(kept: NotionPageView, later: NotionPageView): Record<string, Record<string, unknown>> {
  const moved: Record<string, Record<string, unknown>> = {};
  for (const [name, value] of Object.entries(later.properties)) {
    const theirs = writableValue(value);
    if (theirs && !writableValue(kept.properties[name])) moved[name] = theirs;
  }
  return moved;
}

type Block = Record<string, unknown> & { type: string; id?: string; has_children?: boolean };

/** The block types the sync writes, which can be re-created from what Notion returns. */
const COPYABLE = new Set(["paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item", "to_do", "callout", "quote", "audio", "file", "divider"]);

/** A block's content, without ids and timestamps: two blocks with one signature say the same. */
function signature(block: Block): string {
  return `${block.type}:${JSON.stringify(writableBlock(block))}`;
}

export function writableBlock(block: Block): Block | undefined {
  if (!COPYABLE.has(block.type)) return undefined;
  const content = (block[block.type] ?? {}) as Record<string, unknown>;
  if (block.type === "divider") return { type: "divider", divider: {} };
  if (block.type === "audio" || block.type === "file") {
    const external = (content.external as { url?: string } | undefined)?.url;
    if (!external) return undefined;
    return { type: block.type, [block.type]: { type: "external", external: { url: external }, caption: writableText((content.caption ?? []) as RichTextRead[]) } };
  }
  const out: Record<string, unknown> = { rich_text: writableText((content.rich_text ?? []) as RichTextRead[]) };
  if (block.type === "to_do") out.checked = Boolean(content.checked);
  return { type: block.type, [block.type]: out };
}

async function listBlocks(client: Client, pageId: string, budget: AuditBudget): Promise<Block[]> {
  const blocks: Block[] = [];
  let cursor: string | undefined;
  do {
    budget.take("notion");
    const page = (await client.blocks.children.list({ block_id: pageId, page_size: 100, ...(cursor ? { start_cursor: cursor } : {}) })) as { results: Block[]; has_more: boolean; next_cursor: string | null };
    blocks.push(...page.results);
    cursor = page.has_more && page.next_cursor ? page.next_cursor : undefined;
  } while (cursor);
  return blocks;
}


/** Merges every later page of one id onto the first and trashes it. `pages` is oldest first. */
export async function repairDuplicate(
  deps: { client: Client; config: Config; db: D1Database; budget: AuditBudget; auditId: string | null; now: () => number },
  kind: "call" | "message",
  id: string,
  pages: NotionPageView[],
): Promise<DuplicateRepair> {
  const [kept, ...later] = pages;
  if (!kept || later.length === 0) throw new Error(`${id} has a single page: nothing to repair`);
  const { client, budget } = deps;
  const result: DuplicateRepair = { id, kind, keptPageId: kept.id, trashedPageIds: [], movedProperties: [], movedBlocks: 0 };
  const keptBlocks = await listBlocks(client, kept.id, budget);
  const known = new Set(keptBlocks.map(signature));
  let keptView = kept;
  for (const page of later) {
    const moved = propertiesToMove(keptView, page);
    const blocks = (await listBlocks(client, page.id, budget)).filter((b) => !known.has(signature(b))).map(writableBlock).filter((b): b is Block => b !== undefined);
    if (Object.keys(moved).length > 0) {
      budget.take("notion");
      await client.pages.update({ page_id: kept.id, properties: moved } as unknown as Parameters<Client["pages"]["update"]>[0]);
      keptView = { ...keptView, properties: { ...keptView.properties, ...Object.fromEntries(Object.entries(moved).map(([n, v]) => [n, { type: Object.keys(v)[0], ...v }])) } };
    }
    for (let i = 0; i < blocks.length; i += 100) {
      budget.take("notion");
      await client.blocks.children.append({ block_id: kept.id, children: blocks.slice(i, i + 100) } as unknown as Parameters<Client["blocks"]["children"]["append"]>[0]);
    }
    for (const b of blocks) known.add(signature(b));
    budget.take("notion");
    const trash = deps.config.NOTION_VERSION < "2025-09-03" ? { archived: true } : { in_trash: true };
    await client.pages.update({ page_id: page.id, ...trash } as unknown as Parameters<Client["pages"]["update"]>[0]);
    await recordDuplicateRepair(deps.db, {
      auditId: deps.auditId,
      kind,
      resourceId: id,
      keptPageId: kept.id,
      trashedPageId: page.id,
      movedProperties: Object.keys(moved),
      movedBlocks: blocks.length,
      repairedAt: deps.now(),
    });
    result.trashedPageIds.push(page.id);
    result.movedProperties.push(...Object.keys(moved).filter((n) => !result.movedProperties.includes(n)));
    result.movedBlocks += blocks.length;
  }
  return result;
}
