/**
 * Reading pages back: data source queries (filters, sorts, cursors, the 10,000-result cap) and search. Both see
 * pages as they were before changes younger than the configured query lag.
 */
import { bodyInvalid, validationError } from "./errors.ts";
import { compileFilter, compileSorts, type PageView } from "./filters.ts";
import type { PageRecord } from "./model.ts";
import { expectObject, expectString, plainText } from "./rich-text.ts";
import type { Workspace } from "./workspace.ts";

export const MAX_PAGE_SIZE = 100;
export const MAX_QUERY_RESULTS = 10_000;
const MAX_CURSORS = 50_000;

export interface VisiblePage extends PageView {
  page: PageRecord;
  archived: boolean;
}

/** What queries see of a page now, or null while a new page is still hidden by the lag. */
export function visibleView(ws: Workspace, page: PageRecord): VisiblePage | null {
  if (ws.now() >= page.queryView.visibleAt) return { page, values: page.values, archived: page.archived, createdTime: page.createdTime, lastEditedTime: page.lastEditedTime };
  const previous = page.queryView.previous;
  if (!previous) return null;
  return { page, values: previous.values, archived: previous.archived, createdTime: page.createdTime, lastEditedTime: previous.lastEditedTime };
}

export interface ResultPage<T> {
  results: T[];
  next_cursor: string | null;
  has_more: boolean;
  request_status?: Record<string, unknown>;
}

export function pageSizeOf(body: Record<string, unknown>): number {
  if (body.page_size === undefined) return MAX_PAGE_SIZE;
  const size = body.page_size;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1) throw bodyInvalid("body.page_size", "should be a positive integer", size);
  if (size > MAX_PAGE_SIZE) throw bodyInvalid("body.page_size", `should be ≤ \`${MAX_PAGE_SIZE}\``, size);
  return size;
}

/** Cuts one page of results from `items`, resuming at `start_cursor`; cursors survive items moving or vanishing. */
export function paginate<T extends { id: string }>(ws: Workspace, items: T[], startCursor: unknown, pageSize: number, cursorPath = "body.start_cursor"): ResultPage<T> {
  let start = 0;
  if (startCursor !== undefined && startCursor !== null) {
    const cursor = ws.cursors.get(expectString(cursorPath, startCursor));
    if (!cursor) throw validationError(`${cursorPath.replace(/^body\./, "")} provided is invalid: ${String(startCursor)}`);
    const index = items.findIndex((item) => item.id === cursor.nextId);
    start = index >= 0 ? index : Math.min(cursor.offset, items.length);
  }
  const results = items.slice(start, start + pageSize);
  const next = items[start + pageSize];
  if (!next) return { results, next_cursor: null, has_more: false };
  const id = ws.ids.uuid();
  ws.cursors.set(id, { nextId: next.id, offset: start + pageSize });
  // Keep the newest continuations only; a long benchmark would otherwise grow this without end.
  if (ws.cursors.size > MAX_CURSORS) ws.cursors.delete(ws.cursors.keys().next().value!);
  return { results, next_cursor: id, has_more: true };
}

export function queryDataSource(ws: Workspace, dataSourceId: string, body: Record<string, unknown>): ResultPage<VisiblePage> {
  const dataSource = ws.dataSource(dataSourceId);
  const pageSize = pageSizeOf(body);
  const predicate = body.filter === undefined ? () => true : compileFilter("body.filter", body.filter, dataSource.properties);
  const compare = compileSorts("body.sorts", body.sorts, dataSource.properties);
  const wantTrash = (body.in_trash ?? body.archived) === true;
  const matches: VisiblePage[] = [];
  for (const page of ws.pages.values()) {
    if (page.parent.type !== "data_source_id" || page.parent.data_source_id !== dataSource.id) continue;
    const view = visibleView(ws, page);
    if (view && view.archived === wantTrash && predicate(view)) matches.push(view);
  }
  if (compare) matches.sort(compare);
  const capped = matches.slice(0, MAX_QUERY_RESULTS);
  const result = paginate(ws, capped.map((view) => Object.assign(view, { id: view.page.id })), body.start_cursor, pageSize);
  if (!result.has_more && matches.length > MAX_QUERY_RESULTS) {
    result.request_status = { type: "incomplete", incomplete_reason: "query_result_limit_reached" };
  }
  return result;
}

export type SearchHit = { kind: "page"; view: VisiblePage; id: string } | { kind: "data_source" | "database"; id: string };

/** `POST /v1/search`: pages and data sources (databases before 2025-09-03) whose title contains `query`. */
export function search(ws: Workspace, body: Record<string, unknown>, usesDataSources: boolean): ResultPage<SearchHit> {
  const pageSize = pageSizeOf(body);
  const query = body.query === undefined ? "" : expectString("body.query", body.query).toLowerCase();
  let only: string | undefined;
  if (body.filter !== undefined) {
    const filter = expectObject("body.filter", body.filter);
    if (filter.property !== "object") throw bodyInvalid("body.filter.property", 'should be `"object"`', filter.property);
    const allowed = usesDataSources ? ["page", "data_source"] : ["page", "database"];
    if (typeof filter.value !== "string" || !allowed.includes(filter.value)) throw bodyInvalid("body.filter.value", `should be \`"${allowed[0]}"\` or \`"${allowed[1]}"\``, filter.value);
    only = filter.value;
  }
  const hits: (SearchHit & { edited: number })[] = [];
  if (only !== "data_source" && only !== "database") {
    for (const page of ws.pages.values()) {
      const view = visibleView(ws, page);
      if (!view || view.archived) continue;
      const title = ws.schemaOf(page).find((p) => p.type === "title");
      if (plainText((title ? view.values[title.id] : undefined) as never).toLowerCase().includes(query)) hits.push({ kind: "page", view, id: page.id, edited: view.lastEditedTime });
    }
  }
  if (only !== "page") {
    if (usesDataSources) {
      for (const ds of ws.dataSources.values()) if (!ds.archived && plainText(ds.title).toLowerCase().includes(query)) hits.push({ kind: "data_source", id: ds.id, edited: ds.lastEditedTime });
    } else {
      for (const db of ws.databases.values()) if (!db.archived && plainText(db.title).toLowerCase().includes(query)) hits.push({ kind: "database", id: db.id, edited: db.lastEditedTime });
    }
  }
  const direction = body.sort === undefined ? "descending" : expectObject("body.sort", body.sort).direction;
  hits.sort((a, b) => (direction === "ascending" ? a.edited - b.edited : b.edited - a.edited));
  return paginate(ws, hits, body.start_cursor, pageSize);
}
