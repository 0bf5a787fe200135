/**
 * The few Notion operations the sync performs on its own databases, and the one place that decides what a Notion
 * failure means: retry later (rate limit, 5xx, timeout, gate closed), blocked by configuration (token, sharing,
 * missing database), or permanent for this page (400: the payload does not fit the database, e.g. a renamed
 * property, named in the result).
 *
 * With Notion-Version 2025-09-03 pages live in a data source: its id is resolved from the database once.
 */
import { APIErrorCode, APIResponseError, type Client, isNotionClientError, RequestTimeoutError, UnknownHTTPResponseError } from "@notionhq/client";
import { GateClosedError } from "../gates/gated-fetch";
import { retryAfterMs } from "../retry/retry-after";
import type { Block, PageProperties } from "./mapping";
import { chunkBlocks } from "./mapping";

export type NotionFailure =
  /** Try again later; `outcomeUnknown` when a write may have happened anyway (5xx, timeout after sending). */
  | { kind: "retry"; delayMs: number; message: string; outcomeUnknown: boolean }
  /** Nothing will work until the configuration is fixed (token, sharing, database id). Keep the events. */
  | { kind: "blocked"; delayMs: number; message: string }
  /** This payload will never be accepted as it is. */
  | { kind: "permanent"; message: string; property?: string };

/** The property Notion names in a validation message, if it names one. */
export function propertyFromNotionMessage(message: string): string | undefined {
  const patterns = [
    /^(.+?) is not a property that exists/,
    /body\.properties\.(?:\["([^"]+)"\]|([^.[\s]+))/,
    /^(.+?) is expected to be /,
    /Could not find property with name or id:\s*(.+?)\.?$/,
    /property [`"“](.+?)[`"”]/i,
  ];
  for (const pattern of patterns) {
    const match = message.match(pattern);
    const name = match?.slice(1).find((g) => g !== undefined);
    if (name) return name.trim();
  }
  return undefined;
}

export function classifyNotionError(error: unknown): NotionFailure {
  if (error instanceof GateClosedError) return { kind: "retry", delayMs: Math.max(1000, error.retryAfterMs), message: error.message, outcomeUnknown: false };
  if (error instanceof RequestTimeoutError) return { kind: "retry", delayMs: 5000, message: "Notion did not answer in time", outcomeUnknown: true };
  if (error instanceof APIResponseError) {
    const message = `Notion ${error.status} ${error.code}: ${error.message}`;
    switch (error.code) {
      case APIErrorCode.RateLimited:
      case APIErrorCode.ServiceOverload: {
        // No wait asked for (or none that can be read): 5 s, as for other passing failures.
        const asked = retryAfterMs(error.headers instanceof Headers ? error.headers.get("retry-after") : null);
        return { kind: "retry", delayMs: asked || 5000, message, outcomeUnknown: false };
      }
      case APIErrorCode.ConflictError:
        return { kind: "retry", delayMs: 2000, message, outcomeUnknown: false };
      case APIErrorCode.InternalServerError:
      case APIErrorCode.ServiceUnavailable:
      case APIErrorCode.GatewayTimeout:
        return { kind: "retry", delayMs: 5000, message, outcomeUnknown: true };
      case APIErrorCode.Unauthorized:
      case APIErrorCode.RestrictedResource:
      case APIErrorCode.ObjectNotFound:
        return { kind: "blocked", delayMs: 60_000, message };
      default:
        if (error.status >= 500) return { kind: "retry", delayMs: 5000, message, outcomeUnknown: true };
        return { kind: "permanent", message, property: propertyFromNotionMessage(error.message) };
    }
  }
  if (error instanceof UnknownHTTPResponseError || isNotionClientError(error)) {
    const status = (error as { status?: number }).status ?? 0;
    if (status === 400) return { kind: "permanent", message: `Notion 400: ${(error as Error).message}` };
    return { kind: "retry", delayMs: 5000, message: `Notion: ${(error as Error).message}`, outcomeUnknown: true };
  }
  // Network failures (fetch threw): the request may or may not have reached Notion.
  return { kind: "retry", delayMs: 5000, message: `Notion request failed: ${error instanceof Error ? error.message : String(error)}`, outcomeUnknown: true };
}

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
