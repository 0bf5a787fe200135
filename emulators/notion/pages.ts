/**
 * Writing pages and blocks: create (with children), update only the properties sent, trash, append/update/delete
 * blocks. Two-way relations keep their mirror property in step, and every change is recorded so the configured
 * query lag can hide it from queries for a while.
 */
import { bodyInvalid, notFound, validationError } from "./errors.ts";
import { normalizeId } from "./ids.ts";
import { type BlockRecord, type PageParent, type PageRecord, type PropertyValues, type RelationConfig } from "./model.ts";
import { type ParsedBlock, parseBlocks, parseContent } from "./blocks.ts";
import { commitNewOptions, parsePropertyValues, type ValueContext } from "./property-values.ts";
import { expectObject, expectString, isRecord } from "./rich-text.ts";
import type { Workspace } from "./workspace.ts";

function valueContext(ws: Workspace): ValueContext {
  return {
    ids: ws.ids,
    page: (id) => ws.pages.get(id),
    dataSourceOfPage: (page) => ws.dataSourceOfPage(page),
    user: (id) => ws.users.get(id),
  };
}

/** Resolves `parent` of `POST /v1/pages`; a database parent stands for its only data source. */
function resolveParent(ws: Workspace, raw: unknown): PageParent {
  const parent = expectObject("body.parent", raw);
  const key = (["data_source_id", "database_id", "page_id"] as const).find((k) => parent[k] !== undefined);
  if (!key) throw bodyInvalid("body.parent.data_source_id", "should be defined", undefined);
  const given = expectString(`body.parent.${key}`, parent[key]);
  const id = normalizeId(given);
  if (!id) throw bodyInvalid(`body.parent.${key}`, "should be a valid uuid", given);
  if (key === "page_id") return { type: "page_id", page_id: ws.page(id).id };
  if (key === "data_source_id") return { type: "data_source_id", data_source_id: ws.dataSource(id).id };
  const database = ws.database(id);
  if (database.dataSourceIds.length !== 1) {
    throw validationError(`Database ${id} has ${database.dataSourceIds.length} data sources; create the page with a data_source_id parent.`);
  }
  return { type: "data_source_id", data_source_id: database.dataSourceIds[0]! };
}

function checkEditable(page: PageRecord): void {
  if (page.archived) throw validationError("Can't edit block that is archived. You must unarchive the block before editing.");
}

export function createPage(ws: Workspace, body: Record<string, unknown>): PageRecord {
  if (body.parent === undefined) throw bodyInvalid("body.parent", "should be defined", undefined);
  const parent = resolveParent(ws, body.parent);
  if (parent.type === "page_id") checkEditable(ws.page(parent.page_id));
  const at = ws.now();
  const page: PageRecord = {
    id: ws.ids.uuid(),
    parent,
    values: {},
    icon: body.icon ?? null,
    cover: body.cover ?? null,
    childIds: [],
    createdTime: at,
    lastEditedTime: at,
    archived: false,
    queryView: { visibleAt: at + ws.queryLagMs, previous: null },
  };
  const schema = ws.schemaOf(page);
  const parsed = body.properties === undefined ? { values: {}, newOptions: [] } : parsePropertyValues("body.properties", body.properties, schema, valueContext(ws));
  const counter = { count: 0 };
  const children = body.children === undefined ? [] : parseBlocks("body.children", body.children, 0, counter);
  commitNewOptions(parsed, ws.ids);
  page.values = parsed.values;
  ws.pages.set(page.id, page);
  if (parent.type === "page_id") ws.page(parent.page_id).childIds.push(page.id);
  syncRelations(ws, page, {}, parsed.values);
  insertBlocks(ws, page.id, children, null);
  return page;
}

export function updatePage(ws: Workspace, id: string, body: Record<string, unknown>): PageRecord {
  const page = ws.page(id);
  const trash = body.in_trash ?? body.archived;
  if (trash !== undefined && typeof trash !== "boolean") throw bodyInvalid(body.in_trash !== undefined ? "body.in_trash" : "body.archived", "should be a boolean", trash);
  if (trash !== false) checkEditable(page);
  const parsed = body.properties === undefined ? { values: {}, newOptions: [] } : parsePropertyValues("body.properties", body.properties, ws.schemaOf(page), valueContext(ws));
  commitNewOptions(parsed, ws.ids);
  const before = { ...page.values };
  recordChange(ws, page, () => {
    Object.assign(page.values, parsed.values);
    if (trash !== undefined) page.archived = trash;
    if (body.icon !== undefined) page.icon = body.icon;
    if (body.cover !== undefined) page.cover = body.cover;
  });
  syncRelations(ws, page, before, parsed.values);
  return page;
}

/** Applies a change to a page, stamps it, and keeps the pre-change view for queries while the lag lasts. */
export function recordChange(ws: Workspace, page: PageRecord, change: () => void): void {
  const now = ws.now();
  const snapshot = { values: structuredClone(page.values), archived: page.archived, lastEditedTime: page.lastEditedTime };
  change();
  page.lastEditedTime = now;
  if (ws.queryLagMs > 0) {
    if (now >= page.queryView.visibleAt) page.queryView.previous = snapshot;
    page.queryView.visibleAt = now + ws.queryLagMs;
  }
}

/** Mirrors changes of two-way relations onto the related pages' synced property. */
function syncRelations(ws: Workspace, page: PageRecord, before: PropertyValues, changed: PropertyValues): void {
  for (const schema of ws.schemaOf(page)) {
    if (schema.type !== "relation" || !(schema.id in changed)) continue;
    const relation = schema.config as unknown as RelationConfig;
    const mirrorId = relation.type === "dual_property" ? relation.synced_property_id : undefined;
    if (!mirrorId) continue;
    const old = (before[schema.id] as string[] | undefined) ?? [];
    const now = (changed[schema.id] as string[] | undefined) ?? [];
    for (const otherId of new Set([...old, ...now])) {
      const linked = now.includes(otherId);
      if (linked === old.includes(otherId)) continue;
      const other = ws.pages.get(otherId);
      if (!other) continue;
      recordChange(ws, other, () => {
        const list = ((other.values[mirrorId] as string[] | undefined) ?? []).filter((x) => x !== page.id);
        if (linked) list.push(page.id);
        other.values[mirrorId] = list;
      });
    }
  }
}

/** The page or block that holds children at `id`; pages are blocks too. */
function container(ws: Workspace, id: string): { childIds: string[]; archived: boolean; isPage: boolean } {
  const page = ws.pages.get(id);
  if (page) return { childIds: page.childIds, archived: page.archived, isPage: true };
  const block = ws.blocks.get(id);
  if (block) return { childIds: block.childIds, archived: block.archived, isPage: false };
  throw notFound("block", id);
}

function insertBlocks(ws: Workspace, parentId: string, blocks: ParsedBlock[], after: string | null): BlockRecord[] {
  const holder = container(ws, parentId);
  const at = ws.now();
  const made = blocks.map((parsed) => {
    const block: BlockRecord = { id: ws.ids.uuid(), parentId, type: parsed.type, content: parsed.content, childIds: [], createdTime: at, lastEditedTime: at, archived: false };
    ws.blocks.set(block.id, block);
    insertBlocks(ws, block.id, parsed.children, null);
    return block;
  });
  const position = after === null ? holder.childIds.length : holder.childIds.indexOf(after) + 1;
  holder.childIds.splice(position, 0, ...made.map((b) => b.id));
  return made;
}

export function appendChildren(ws: Workspace, parentId: string, body: Record<string, unknown>): BlockRecord[] {
  const holder = container(ws, parentId);
  if (holder.archived) throw validationError("Can't edit block that is archived. You must unarchive the block before editing.");
  let after: string | null = null;
  if (body.after !== undefined) {
    const given = expectString("body.after", body.after);
    after = normalizeId(given);
    if (!after || !holder.childIds.includes(after)) throw bodyInvalid("body.after", "should be the id of a child block", given);
  }
  if (body.children === undefined) throw bodyInvalid("body.children", "should be defined", undefined);
  const blocks = parseBlocks("body.children", body.children, 0, { count: 0 });
  const made = insertBlocks(ws, parentId, blocks, after);
  const page = ws.pages.get(parentId);
  if (page) page.lastEditedTime = ws.now();
  return made;
}

export function updateBlock(ws: Workspace, id: string, body: Record<string, unknown>): BlockRecord {
  const block = ws.blocks.get(id);
  if (!block) throw notFound("block", id);
  const trash = body.in_trash ?? body.archived;
  if (trash !== undefined && typeof trash !== "boolean") throw bodyInvalid("body.archived", "should be a boolean", trash);
  if (block.archived && trash !== false) throw validationError("Can't edit block that is archived. You must unarchive the block before editing.");
  if (body[block.type] !== undefined) {
    const given = expectObject(`body.${block.type}`, body[block.type]);
    const merged = { ...block.content, ...given };
    if (isRecord(merged) && "children" in merged) throw bodyInvalid(`body.${block.type}.children`, "should be not present", given.children);
    block.content = parseContent(`body.${block.type}`, block.type, merged);
  }
  if (trash !== undefined) block.archived = trash;
  block.lastEditedTime = ws.now();
  return block;
}
