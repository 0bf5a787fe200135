/**
 * The `/v1/...` routes: which operation a request is, which `Notion-Version` may call it, and what it answers.
 * Data-source routes need 2025-09-03 or later (older versions get 400 `invalid_request_url`, as the real API gives);
 * `POST /v1/databases/{id}/query` is the 2022-06-28 query and is refused the same way from 2025-09-03 on.
 */
import { Hono, type Context } from "hono";
import { bodyInvalid, invalidRequestUrl, NotionApiError, notFound, validationError } from "./errors.ts";
import { normalizeId } from "./ids.ts";
import { retrievePropertyItem } from "./property-items.ts";
import { appendChildren, createPage, updateBlock, updatePage } from "./pages.ts";
import { paginate, pageSizeOf, queryDataSource, search, type ResultPage, type VisiblePage } from "./queries.ts";
import { expectObject, parseRichText } from "./rich-text.ts";
import { serializeChild, serializeDatabase, serializeDataSource, serializePage, usesDataSources } from "./serialize.ts";
import type { NodeBindings } from "../shared/hono.ts";
import type { Workspace } from "./workspace.ts";

export interface ApiRequest {
  ws: Workspace;
  version: string;
  params: string[];
  body: Record<string, unknown>;
  query: URLSearchParams;
}

export interface Route {
  method: string;
  /** The Hono path, `/v1/pages/:id`. */
  path: string;
  /** The path's parameters in order: `params` holds their decoded values. */
  paramNames: string[];
  operation: string;
  /** Names of the path ids, for Notion's `path.<name> should be a valid uuid` message. */
  idNames: string[];
  gate?: "data_sources" | "legacy";
  handle(request: ApiRequest): unknown;
}

const route = (method: string, path: string, operation: string, idNames: string[], handle: Route["handle"], gate?: Route["gate"]): Route => ({
  method,
  path: `/v1/${path}`,
  paramNames: [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!),
  operation,
  idNames,
  gate,
  handle,
});

function list<T>(result: ResultPage<T>, map: (item: T) => unknown, type: string): Record<string, unknown> {
  const body: Record<string, unknown> = { object: "list", results: result.results.map(map), next_cursor: result.next_cursor, has_more: result.has_more, type, [type]: {} };
  if (result.request_status) body.request_status = result.request_status;
  return body;
}

function queryResult(r: ApiRequest, result: ResultPage<VisiblePage>): Record<string, unknown> {
  const only = r.query.getAll("filter_properties[]").concat(r.query.getAll("filter_properties"));
  return list(result, (view) => {
    const page = serializePage(r.ws, view.page, r.version, view);
    if (only.length > 0) {
      const properties = page.properties as Record<string, { id: string }>;
      page.properties = Object.fromEntries(Object.entries(properties).filter(([name, p]) => only.includes(name) || only.includes(p.id)));
    }
    return page;
  }, usesDataSources(r.version) ? "page_or_data_source" : "page_or_database");
}

function soleDataSource(r: ApiRequest, databaseId: string): string {
  const database = r.ws.database(databaseId);
  if (database.dataSourceIds.length !== 1) {
    throw validationError(`Databases with multiple data sources are not supported in this API version. Use Notion-Version ${"2025-09-03"} or later.`);
  }
  return database.dataSourceIds[0]!;
}

function createDatabase(r: ApiRequest): unknown {
  const parent = expectObject("body.parent", r.body.parent);
  const given = parent.page_id;
  if (typeof given !== "string") throw bodyInvalid("body.parent.page_id", "should be defined", given);
  const pageId = normalizeId(given);
  if (!pageId) throw bodyInvalid("body.parent.page_id", "should be a valid uuid", given);
  const modern = usesDataSources(r.version);
  const initial = modern ? expectObject("body.initial_data_source", r.body.initial_data_source ?? { properties: r.body.properties }) : undefined;
  const database = r.ws.createDatabase(modern ? "body.initial_data_source" : "body", {
    parentPageId: pageId,
    title: r.body.title,
    description: r.body.description,
    isInline: r.body.is_inline,
    properties: modern ? initial!.properties : r.body.properties,
    dataSourceTitle: initial?.title,
  });
  return serializeDatabase(r.ws, database, r.version);
}

function updateDatabase(r: ApiRequest, id: string): unknown {
  const database = r.ws.database(id);
  if (!usesDataSources(r.version) && (r.body.properties !== undefined || r.body.title !== undefined)) {
    const dataSourceId = soleDataSource(r, id);
    r.ws.updateDataSource("body", dataSourceId, { properties: r.body.properties });
  }
  if (r.body.title !== undefined) database.title = parseRichText("body.title", r.body.title);
  if (r.body.description !== undefined) database.description = parseRichText("body.description", r.body.description);
  if (typeof r.body.is_inline === "boolean") database.isInline = r.body.is_inline;
  const trash = r.body.in_trash ?? r.body.archived;
  if (typeof trash === "boolean") database.archived = trash;
  database.lastEditedTime = r.ws.now();
  return serializeDatabase(r.ws, database, r.version);
}

function listChildren(r: ApiRequest, id: string): unknown {
  const holder = r.ws.pages.get(id) ?? r.ws.blocks.get(id);
  if (!holder) throw notFound("block", id);
  const pageSize = pageSizeOf({ page_size: r.query.has("page_size") ? Number(r.query.get("page_size")) : undefined });
  const children = holder.childIds.filter((childId) => {
    const child = r.ws.blocks.get(childId) ?? r.ws.pages.get(childId) ?? r.ws.databases.get(childId);
    return child && !child.archived;
  });
  const result = paginate(r.ws, children.map((childId) => ({ id: childId })), r.query.get("start_cursor") ?? undefined, pageSize, "start_cursor");
  return list(result, (child) => serializeChild(r.ws, child.id, id), "block");
}

function retrieveBlock(r: ApiRequest, id: string): unknown {
  const block = r.ws.blocks.get(id);
  const page = r.ws.pages.get(id);
  if (!block && !page) throw notFound("block", id);
  const parentId = block ? block.parentId : page!.parent.type === "page_id" ? page!.parent.page_id : id;
  return serializeChild(r.ws, id, parentId);
}

export const ROUTES: Route[] = [
  route("GET", "users/me", "users.me", [], (r) => r.ws.bot),
  route("GET", "users", "users.list", [], (r) => list(paginate(r.ws, [...r.ws.users.values()], r.query.get("start_cursor") ?? undefined, 100, "start_cursor"), (u) => u, "user")),
  route("GET", "users/:id", "users.retrieve", ["user_id"], (r) => r.ws.users.get(r.params[0]!) ?? (() => { throw notFound("user", r.params[0]!); })()),
  route("POST", "databases", "databases.create", [], createDatabase),
  route("GET", "databases/:id", "databases.retrieve", ["database_id"], (r) => {
    if (!usesDataSources(r.version)) soleDataSource(r, r.params[0]!);
    return serializeDatabase(r.ws, r.ws.database(r.params[0]!), r.version);
  }),
  route("PATCH", "databases/:id", "databases.update", ["database_id"], (r) => updateDatabase(r, r.params[0]!)),
  route("POST", "databases/:id/query", "databases.query", ["database_id"], (r) => queryResult(r, queryDataSource(r.ws, soleDataSource(r, r.params[0]!), r.body)), "legacy"),
  route("POST", "data_sources", "data_sources.create", [], (r) => {
    const parent = expectObject("body.parent", r.body.parent);
    const databaseId = normalizeId(String(parent.database_id ?? ""));
    if (!databaseId) throw bodyInvalid("body.parent.database_id", "should be a valid uuid", parent.database_id);
    return serializeDataSource(r.ws, r.ws.createDataSource("body.properties", databaseId, r.body.title, r.body.properties));
  }, "data_sources"),
  route("GET", "data_sources/:id", "data_sources.retrieve", ["data_source_id"], (r) => serializeDataSource(r.ws, r.ws.dataSource(r.params[0]!)), "data_sources"),
  route("PATCH", "data_sources/:id", "data_sources.update", ["data_source_id"], (r) => serializeDataSource(r.ws, r.ws.updateDataSource("body", r.params[0]!, r.body)), "data_sources"),
  route("POST", "data_sources/:id/query", "data_sources.query", ["data_source_id"], (r) => queryResult(r, queryDataSource(r.ws, r.params[0]!, r.body)), "data_sources"),
  route("POST", "pages", "pages.create", [], (r) => serializePage(r.ws, createPage(r.ws, r.body), r.version)),
  route("GET", "pages/:id", "pages.retrieve", ["page_id"], (r) => serializePage(r.ws, r.ws.page(r.params[0]!), r.version)),
  route("PATCH", "pages/:id", "pages.update", ["page_id"], (r) => serializePage(r.ws, updatePage(r.ws, r.params[0]!, r.body), r.version)),
  route("GET", "pages/:id/properties/:property", "pages.properties.retrieve", ["page_id"], (r) => retrievePropertyItem(r.ws, r.params[0]!, r.params[1]!, r.query)),
  route("GET", "blocks/:id", "blocks.retrieve", ["block_id"], (r) => retrieveBlock(r, r.params[0]!)),
  route("PATCH", "blocks/:id", "blocks.update", ["block_id"], (r) => {
    const block = updateBlock(r.ws, r.params[0]!, r.body);
    return serializeChild(r.ws, block.id, block.parentId);
  }),
  route("DELETE", "blocks/:id", "blocks.delete", ["block_id"], (r) => {
    const block = updateBlock(r.ws, r.params[0]!, { archived: true });
    return serializeChild(r.ws, block.id, block.parentId);
  }),
  route("GET", "blocks/:id/children", "blocks.children.list", ["block_id"], (r) => listChildren(r, r.params[0]!)),
  route("PATCH", "blocks/:id/children", "blocks.children.append", ["block_id"], (r) => {
    const made = appendChildren(r.ws, r.params[0]!, r.body);
    return { object: "list", results: made.map((b) => serializeChild(r.ws, b.id, r.params[0]!)), next_cursor: null, has_more: false, type: "block", block: {} };
  }),
  route("POST", "search", "search", [], (r) => {
    const modern = usesDataSources(r.version);
    return list(search(r.ws, r.body, modern), (hit) => {
      if (hit.kind === "page") return serializePage(r.ws, hit.view.page, r.version, hit.view);
      if (hit.kind === "data_source") return serializeDataSource(r.ws, r.ws.dataSource(hit.id));
      return serializeDatabase(r.ws, r.ws.database(hit.id), r.version);
    }, modern ? "page_or_data_source" : "page_or_database");
  }),
];

/**
 * The routes on Hono, each answered by `handle` (which runs the API's checks before the route); every other `/v1/...`
 * URL and method gets `handle` without a route. Hono answers a HEAD with the GET route; the API has no HEAD, so a HEAD
 * is a URL it does not have.
 */
export function apiRoutes(handle: (c: Context<NodeBindings>, route: Route | undefined) => Promise<Response>): Hono<NodeBindings> {
  const api = new Hono<NodeBindings>();
  for (const known of ROUTES) api.on(known.method, known.path, (c) => handle(c, c.req.method === known.method ? known : undefined));
  api.all("/v1/:path{.*}", (c) => handle(c, undefined));
  return api;
}

export function runRoute(route: Route, rawParams: string[], request: Omit<ApiRequest, "params">): unknown {
  if (route.gate === "data_sources" && !usesDataSources(request.version)) throw invalidRequestUrl();
  if (route.gate === "legacy" && usesDataSources(request.version)) throw invalidRequestUrl();
  const params = rawParams.map((raw, i) => {
    if (i >= route.idNames.length) return raw;
    const id = normalizeId(raw);
    if (!id) throw new NotionApiError(400, "validation_error", `path failed validation: path.${route.idNames[i]} should be a valid uuid, instead was \`"${raw}"\`.`);
    return id;
  });
  return route.handle({ ...request, params });
}
