/**
 * Every page of one database in the audit's window, from one paginated query (100 pages a request), keyed by its
 * unique id (`Call ID` / `Message ID`). The window is the date property the mapping fills from OpenPhone's
 * `createdAt` (`Started` for calls, `Sent` for texts), so the same window is listed on both sides. Pages in the trash
 * are not returned by Notion's queries, so a trashed page counts as missing. Pages come oldest first (created_time):
 * the first page of an id is the one a duplicate repair keeps.
 */
import type { Client } from "@notionhq/client";
import type { PageParent } from "../notion/pages";
import type { PropertyNames } from "../notion/schema";
import type { AuditBudget } from "./budget";

export interface NotionPageView {
  id: string;
  createdTime: string;
  properties: Record<string, Record<string, unknown> & { type?: string }>;
}

/** The plain text of a title or rich_text property value as Notion returns it. */
export function plainTextOf(value: Record<string, unknown> | undefined): string {
  const items = (value?.rich_text ?? value?.title) as { plain_text?: string; text?: { content?: string } }[] | undefined;
  return (items ?? []).map((i) => i.plain_text ?? i.text?.content ?? "").join("");
}

export async function indexPages(
  client: Client,
  parent: PageParent,
  names: PropertyNames,
  dateProperty: string,
  uniqueProperty: string,
  since: string,
  budget: AuditBudget,
): Promise<Map<string, NotionPageView[]>> {
  const byId = new Map<string, NotionPageView[]>();
  const idName = names[uniqueProperty] ?? uniqueProperty;
  let cursor: string | undefined;
  do {
    budget.take("notion");
    const body = {
      filter: { property: names[dateProperty] ?? dateProperty, date: { on_or_after: since } },
      sorts: [{ timestamp: "created_time", direction: "ascending" }],
      page_size: 100,
      ...(cursor ? { start_cursor: cursor } : {}),
    };
    const result = (
      parent.type === "data_source_id"
        ? await client.dataSources.query({ data_source_id: parent.data_source_id, ...body } as Parameters<Client["dataSources"]["query"]>[0])
        : await client.request({ path: `databases/${parent.database_id}/query`, method: "post", body })
    ) as { results: { id: string; created_time: string; properties?: NotionPageView["properties"] }[]; has_more: boolean; next_cursor: string | null };
    for (const page of result.results) {
      const view: NotionPageView = { id: page.id, createdTime: page.created_time, properties: page.properties ?? {} };
      const id = plainTextOf(view.properties[idName]).trim();
      if (!id) continue;
      const list = byId.get(id);
      if (list) list.push(view);
      else byId.set(id, [view]);
    }
    cursor = result.has_more && result.next_cursor ? result.next_cursor : undefined;
  } while (cursor);
  return byId;
}
