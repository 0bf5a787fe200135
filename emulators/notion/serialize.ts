/**
 * Response objects: pages, databases and data sources in the shape of the requested `Notion-Version` (databases
 * carry `data_sources` from 2025-09-03 on and `properties` before it), and the children of a page or block.
 */
import { serializeBlock } from "./blocks.ts";
import { isoMinute, type DatabaseRecord, type DataSourceRecord, type PageRecord, type PropertyValues } from "./model.ts";
import { serializeSchema } from "./property-schema.ts";
import { serializeValues } from "./property-values.ts";
import { plainText } from "./rich-text.ts";
import type { Workspace } from "./workspace.ts";

export const DATA_SOURCES_VERSION = "2025-09-03";

export function usesDataSources(version: string): boolean {
  return version >= DATA_SOURCES_VERSION;
}

function notionUrl(title: string, id: string): string {
  const slug = title.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `https://www.notion.so/${slug ? `${slug}-` : ""}${id.replace(/-/g, "")}`;
}

function user(ws: Workspace): Record<string, unknown> {
  return { object: "user", id: ws.bot.id };
}

/** A page; `view` substitutes what queries currently see of it (the query lag). */
export function serializePage(ws: Workspace, page: PageRecord, version: string, view?: { values: PropertyValues; archived: boolean; lastEditedTime: number }): Record<string, unknown> {
  const values = view?.values ?? page.values;
  const lastEditedTime = view?.lastEditedTime ?? page.lastEditedTime;
  const archived = view?.archived ?? page.archived;
  const schema = ws.schemaOf(page);
  const properties = serializeValues(schema, { createdTime: page.createdTime, lastEditedTime }, values, ws.bot.id);
  const titleSchema = schema.find((p) => p.type === "title");
  const title = titleSchema ? plainText(values[titleSchema.id] as never) : "";
  return {
    object: "page",
    id: page.id,
    created_time: isoMinute(page.createdTime),
    last_edited_time: isoMinute(lastEditedTime),
    created_by: user(ws),
    last_edited_by: user(ws),
    cover: page.cover,
    icon: page.icon,
    parent: pageParent(ws, page, version),
    archived,
    in_trash: archived,
    is_locked: false,
    properties,
    url: notionUrl(title, page.id),
    public_url: null,
  };
}

function pageParent(ws: Workspace, page: PageRecord, version: string): Record<string, unknown> {
  switch (page.parent.type) {
    case "workspace":
      return { type: "workspace", workspace: true };
    case "page_id":
      return { type: "page_id", page_id: page.parent.page_id };
    case "data_source_id": {
      const databaseId = ws.dataSource(page.parent.data_source_id).databaseId;
      if (!usesDataSources(version)) return { type: "database_id", database_id: databaseId };
      return { type: "data_source_id", data_source_id: page.parent.data_source_id, database_id: databaseId };
    }
  }
}

export function serializeDatabase(ws: Workspace, database: DatabaseRecord, version: string): Record<string, unknown> {
  const common = {
    object: "database",
    id: database.id,
    created_time: isoMinute(database.createdTime),
    last_edited_time: isoMinute(database.lastEditedTime),
    created_by: user(ws),
    last_edited_by: user(ws),
    title: database.title,
    description: database.description,
    icon: null,
    cover: null,
    parent: { type: "page_id", page_id: database.parentPageId },
    is_inline: database.isInline,
    archived: database.archived,
    in_trash: database.archived,
    is_locked: false,
    url: notionUrl(plainText(database.title), database.id),
    public_url: null,
  };
  if (usesDataSources(version)) {
    return { ...common, data_sources: database.dataSourceIds.map((id) => ({ id, name: plainText(ws.dataSource(id).title) })) };
  }
  // Before 2025-09-03 a database is its (only) data source; routes refuse databases with several before getting here.
  const only = ws.dataSource(database.dataSourceIds[0]!);
  return { ...common, properties: serializeProperties(ws, only) };
}

export function serializeProperties(ws: Workspace, dataSource: DataSourceRecord): Record<string, unknown> {
  const nameOf = (dataSourceId: string, propertyId: string) => ws.dataSources.get(dataSourceId)?.properties.find((p) => p.id === propertyId)?.name;
  return Object.fromEntries(dataSource.properties.map((p) => [p.name, serializeSchema(p, nameOf)]));
}

export function serializeDataSource(ws: Workspace, dataSource: DataSourceRecord): Record<string, unknown> {
  const database = ws.database(dataSource.databaseId);
  return {
    object: "data_source",
    id: dataSource.id,
    created_time: isoMinute(dataSource.createdTime),
    last_edited_time: isoMinute(dataSource.lastEditedTime),
    created_by: user(ws),
    last_edited_by: user(ws),
    title: dataSource.title,
    description: dataSource.description,
    icon: null,
    cover: null,
    properties: serializeProperties(ws, dataSource),
    parent: { type: "database_id", database_id: database.id },
    database_parent: { type: "page_id", page_id: database.parentPageId },
    is_inline: database.isInline,
    archived: dataSource.archived,
    in_trash: dataSource.archived,
    url: notionUrl(plainText(dataSource.title), dataSource.id),
    public_url: null,
  };
}

/** Any child of a page or block as a block object: blocks, and child pages and databases as Notion lists them. */
export function serializeChild(ws: Workspace, id: string, parentId: string): Record<string, unknown> {
  const parent = ws.pages.has(parentId) ? { type: "page_id" as const, page_id: parentId } : { type: "block_id" as const, block_id: parentId };
  const block = ws.blocks.get(id);
  if (block) return serializeBlock(block, parent, ws.bot.id);
  const page = ws.pages.get(id);
  const database = ws.databases.get(id);
  const record = page ?? database!;
  const title = page ? plainText(page.values.title as never) : plainText(database!.title);
  const type = page ? "child_page" : "child_database";
  return {
    object: "block",
    id,
    parent,
    created_time: isoMinute(record.createdTime),
    last_edited_time: isoMinute(record.lastEditedTime),
    created_by: user(ws),
    last_edited_by: user(ws),
    has_children: page ? page.childIds.length > 0 : false,
    archived: record.archived,
    in_trash: record.archived,
    type,
    [type]: { title },
  };
}
