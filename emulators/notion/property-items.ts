/**
 * `GET /v1/pages/{page_id}/properties/{property_id}`: one property of a page, paginated for the list types. This is
 * how clients read relations beyond the 25 references a page object carries.
 */
import { notFound } from "./errors.ts";
import { findProperty } from "./property-schema.ts";
import { serializeValue } from "./property-values.ts";
import { paginate } from "./queries.ts";
import type { Workspace } from "./workspace.ts";

const LISTED = new Set(["title", "rich_text", "relation", "people"]);

export function retrievePropertyItem(ws: Workspace, pageId: string, propertyId: string, query: URLSearchParams): Record<string, unknown> {
  const page = ws.page(pageId);
  const property = findProperty(ws.schemaOf(page), propertyId);
  if (!property) throw notFound("page", `${pageId}/properties/${propertyId}`);
  const value = serializeValue(property.type, page.values[property.id], page, ws.bot.id);
  if (!LISTED.has(property.type)) return { object: "property_item", id: property.id, type: property.type, [property.type]: value };
  const items = (value as unknown[]).map((item, index) => ({ id: `${property.id}:${index}`, item }));
  const size = query.has("page_size") ? Math.min(100, Math.max(1, Number(query.get("page_size")) || 100)) : 100;
  const result = paginate(ws, items, query.get("start_cursor") ?? undefined, size, "start_cursor");
  return {
    object: "list",
    results: result.results.map(({ item }) => ({ object: "property_item", id: property.id, type: property.type, [property.type]: item })),
    next_cursor: result.next_cursor,
    has_more: result.has_more,
    type: "property_item",
    property_item: { id: property.id, next_url: null, type: property.type, [property.type]: {} },
  };
}
