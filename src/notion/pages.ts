/**
 * The few Notion operations the sync performs on its own databases. What their failures mean is decided in
 * `./errors`.
 *
 * With Notion-Version 2025-09-03 pages live in a data source: its id is resolved from the database once.
 */
import type { Client } from "@notionhq/client";
import type { Block, PageProperties } from "./mapping";
import { chunkBlocks } from "./mapping";

/** Where pages of a database are created and queried. */
export type PageParent = { type: "data_source_id"; data_source_id: string } | { type: "database_id"; database_id: string };

/** The database's first data source (2025-09-03), or the database itself on the older API version. */
export async function resolvePageParent(client: Client, databaseId: string, notionVersion: string): Promise<PageParent> {
  if (notionVersion < "2025-09-03") return { type: "database_id", database_id: databaseId };
  const database = (await client.databases.retrieve({ database_id: databaseId })) as { data_sources?: { id: string }[] };
  const dataSourceId = database.data_sources?.[0]?.id;
  if (!dataSourceId) throw new Error(`Notion database ${databaseId} has no data source`);
  return { type: "data_source_id", data_source_id: dataSourceId };
}

/** The page whose unique id property equals `value`, if one exists (used after a create whose outcome is unknown). */
export async function findPageByUniqueId(client: Client, parent: PageParent, property: string, value: string): Promise<string | undefined> {
  const body = { filter: { property, rich_text: { equals: value } }, page_size: 1 };
  const result =
    parent.type === "data_source_id"
      ? await client.dataSources.query({ data_source_id: parent.data_source_id, ...body } as Parameters<Client["dataSources"]["query"]>[0])
      : await client.request<{ results: { id: string }[] }>({ path: `databases/${parent.database_id}/query`, method: "post", body });
  return (result.results as { id: string }[])[0]?.id;
}

export async function createPage(client: Client, parent: PageParent, properties: PageProperties, children: Block[]): Promise<string> {
  const page = await client.pages.create({ parent, properties, ...(children.length > 0 ? { children } : {}) } as unknown as Parameters<Client["pages"]["create"]>[0]);
  return page.id;
}

export async function updatePageProperties(client: Client, pageId: string, properties: PageProperties): Promise<void> {
  await client.pages.update({ page_id: pageId, properties } as unknown as Parameters<Client["pages"]["update"]>[0]);
}

/** Appends blocks in requests of at most 100; returns how many requests it took. */
export async function appendBlocks(client: Client, pageId: string, blocks: Block[]): Promise<number> {
  const chunks = chunkBlocks(blocks);
  for (const chunk of chunks) {
    await client.blocks.children.append({ block_id: pageId, children: chunk } as unknown as Parameters<Client["blocks"]["children"]["append"]>[0]);
  }
  return chunks.length;
}
