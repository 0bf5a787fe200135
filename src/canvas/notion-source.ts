/**
 * Querying a user's database (Canvas, Mail) whichever Notion version is configured.
 *
 * With `2025-09-03` a database is a container of data sources and rows are queried through its data source; the
 * data source id is looked up once (`databases.retrieve`) and kept in D1 (`canvas_state`), so later queries cost
 * one request each. With `2022-06-28` the database itself is queried.
 */
import { APIErrorCode, isNotionClientError, type Client } from "@notionhq/client";
import type { Config } from "../config";
import { deleteCanvasState, readCanvasState, writeCanvasState } from "../db/canvas-index";
import type { NotionPageLike } from "./notion-page";

export interface QueryBody {
  filter?: unknown;
  sorts?: unknown[];
  start_cursor?: string;
  page_size?: number;
  /** Only pages in the trash (which queries otherwise leave out). */
  in_trash?: boolean;
}

export interface QueryPage {
  results: NotionPageLike[];
  next_cursor: string | null;
  has_more: boolean;
  /** Set when Notion stopped at its 10,000-results cap. */
  request_status?: { type?: string; incomplete_reason?: string };
}

export interface RowSource {
  databaseId: string;
  /** The data source to query (2025-09-03), undefined on 2022-06-28. */
  dataSourceId?: string;
}

const stateName = (databaseId: string) => `data_source:${databaseId}`;

/** Finds (once) the data source of a database, remembering it in D1. */
export async function resolveRowSource(client: Client, db: D1Database, config: Config, databaseId: string): Promise<RowSource> {
  if (config.NOTION_VERSION === "2022-06-28") return { databaseId };
  const cached = (await readCanvasState(db, [stateName(databaseId)]))[stateName(databaseId)];
  if (cached) return { databaseId, dataSourceId: cached };
  let dataSourceId: string;
  try {
    const database = (await client.databases.retrieve({ database_id: databaseId })) as { data_sources?: { id: string }[] };
    const first = database.data_sources?.[0]?.id;
    if (!first) throw new Error(`Notion database ${databaseId} has no data source`);
    dataSourceId = first;
  } catch (error) {
    // A data source id pasted where the database id was expected works too.
    if (!isNotionClientError(error) || error.code !== APIErrorCode.ObjectNotFound) throw error;
    await client.dataSources.retrieve({ data_source_id: databaseId });
    dataSourceId = databaseId;
  }
  await writeCanvasState(db, stateName(databaseId), dataSourceId).run();
  return { databaseId, dataSourceId };
}

/** Forgets a remembered data source (it was deleted or unshared), so the next call looks it up again. */
export async function forgetRowSource(db: D1Database, databaseId: string): Promise<void> {
  await deleteCanvasState(db, stateName(databaseId));
}

export async function queryRows(client: Client, source: RowSource, body: QueryBody): Promise<QueryPage> {
  if (source.dataSourceId) {
    return (await client.dataSources.query({ data_source_id: source.dataSourceId, ...(body as object) })) as unknown as QueryPage;
  }
  return client.request<QueryPage>({ path: `databases/${source.databaseId}/query`, method: "post", body: body as Record<string, unknown> });
}

/**
 * Runs `fn` with the row source, looking the data source up again once if the remembered one is gone.
 */
export async function withRowSource<T>(client: Client, db: D1Database, config: Config, databaseId: string, fn: (source: RowSource) => Promise<T>): Promise<T> {
  const source = await resolveRowSource(client, db, config, databaseId);
  try {
    return await fn(source);
  } catch (error) {
    if (!source.dataSourceId || !isNotionClientError(error) || error.code !== APIErrorCode.ObjectNotFound) throw error;
    await forgetRowSource(db, databaseId);
    return fn(await resolveRowSource(client, db, config, databaseId));
  }
}
