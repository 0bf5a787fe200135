/**
 * The viewer: server-rendered pages so a person can see what the product wrote. `/` lists the databases and pages
 * under the root page, `/databases/{id}` shows each data source as a table, `/pages/{id}` a page's properties and
 * content (audio blocks playable).
 */
import { Hono, type Context } from "hono";
import { normalizeId } from "../ids.ts";
import type { PageRecord, RichTextItem } from "../model.ts";
import { plainText } from "../rich-text.ts";
import type { EmulatorState } from "../server.ts";
import type { Workspace } from "../workspace.ts";
import { renderContent } from "./blocks-html.ts";
import { html, type Html, joinHtml, layout, link, orElse, renderRichText, renderValue } from "./html.ts";

function send(c: Context, status: 200 | 404 | 405, page: Html): Response {
  const text = page.toString();
  return c.body(text, status, { "content-type": "text/html; charset=utf-8", "content-length": String(Buffer.byteLength(text)) });
}

export function pageTitle(ws: Workspace, page: PageRecord): string {
  const title = ws.schemaOf(page).find((p) => p.type === "title");
  return plainText((title ? page.values[title.id] : undefined) as RichTextItem[] | undefined);
}

/** A number property's format from its schema entry (`config.format`), when it has one. */
function numberFormat(property: { type: string; config?: unknown }): string | undefined {
  const format = (property.config as { format?: unknown } | undefined)?.format;
  return property.type === "number" && typeof format === "string" ? format : undefined;
}

function titleLookup(ws: Workspace): (id: string) => string {
  return (id) => {
    const page = ws.pages.get(id);
    return page ? pageTitle(ws, page) : id;
  };
}

function indexPage(ws: Workspace): Html {
  const rows = [...ws.databases.values()]
    .filter((db) => !db.archived)
    .map((db) => {
      const count = db.dataSourceIds.reduce((n, dsId) => n + [...ws.pages.values()].filter((p) => !p.archived && p.parent.type === "data_source_id" && p.parent.data_source_id === dsId).length, 0);
      return html`<tr><td>${link(`/databases/${db.id}`, plainText(db.title))}</td><td>${count}</td><td><code>${db.id}</code></td><td>${joinHtml(db.dataSourceIds.map((id) => html`<code>${id}</code>`), "<br>")}</td></tr>`;
    });
  const root = ws.pages.get(ws.rootPageId)!;
  return layout(
    "Databases",
    html`<h1>Databases</h1><table><tr><th>Database</th><th>Pages</th><th>Database id</th><th>Data source ids</th></tr>${rows}</table>
     <h2>Root page</h2><p>${link(`/pages/${root.id}`, pageTitle(ws, root))} <code>${root.id}</code></p>`,
  );
}

function databasePage(ws: Workspace, id: string): Html | null {
  const database = ws.databases.get(id);
  if (!database) return null;
  const titleOf = titleLookup(ws);
  const sections = database.dataSourceIds.map((dsId) => {
    const dataSource = ws.dataSource(dsId);
    const pages = [...ws.pages.values()].filter((p) => !p.archived && p.parent.type === "data_source_id" && p.parent.data_source_id === dsId);
    const head = dataSource.properties.map((p) => html`<th>${p.name}</th>`);
    const rows = pages.map((page) => {
      const cells = dataSource.properties.map((p) => {
        const value = renderValue(p.type, page.values[p.id], titleOf, numberFormat(p));
        return html`<td>${p.type === "title" ? html`<a href="/pages/${page.id}">${orElse(value, "Untitled")}</a>` : value}</td>`;
      });
      return html`<tr>${cells}</tr>`;
    });
    return html`<h2>${plainText(dataSource.title) || "Data source"} <span class="muted">(${pages.length})</span></h2><table><tr>${head}</tr>${rows}</table>`;
  });
  return layout(plainText(database.title), html`<h1>${orElse(renderRichText(database.title), "Untitled")}</h1>${sections}`);
}

function pageView(ws: Workspace, id: string): Html | null {
  const page = ws.pages.get(id);
  if (!page) return null;
  const titleOf = titleLookup(ws);
  const props = ws
    .schemaOf(page)
    .filter((p) => p.type !== "title")
    .map((p) => html`<dt>${p.name}</dt><dd>${orElse(renderValue(p.type, page.values[p.id], titleOf, numberFormat(p)), html`<span class="muted">Empty</span>`)}</dd>`);
  let where: Html | string = "";
  if (page.parent.type === "data_source_id") {
    const database = ws.database(ws.dataSource(page.parent.data_source_id).databaseId);
    where = html`<p class="muted">In ${link(`/databases/${database.id}`, plainText(database.title))}</p>`;
  }
  const title = pageTitle(ws, page);
  const trashed = page.archived ? html`<p class="muted">This page is in the trash.</p>` : "";
  return layout(title || "Untitled", html`${where}<h1>${title || "Untitled"}</h1>${trashed}<dl class="props">${props}</dl><div class="content">${orElse(renderContent(ws, page.childIds), html`<p class="muted">No content</p>`)}</div>`);
}

/** GET (and HEAD) only: any other method is 405 on every path. */
export function viewerRoutes(state: EmulatorState): Hono {
  const viewer = new Hono();
  const notFound = (c: Context) => send(c, 404, layout("Not found", html`<h1>Not found</h1><p>${new URL(c.req.url).pathname}</p>`));
  const found = (c: Context, page: Html | null) => (page === null ? notFound(c) : send(c, 200, page));
  const id = (c: Context) => normalizeId(c.req.param("id") ?? "");
  viewer.get("/", (c) => send(c, 200, indexPage(state.ws)));
  viewer.get("/databases/:id", (c) => {
    const databaseId = id(c);
    return found(c, databaseId ? databasePage(state.ws, databaseId) : null);
  });
  viewer.get("/pages/:id", (c) => {
    const pageId = id(c);
    return found(c, pageId ? pageView(state.ws, pageId) : null);
  });
  viewer.get("*", notFound);
  viewer.all("*", (c) => send(c, 405, layout("Not allowed", html`<h1>Only GET</h1>`)));
  return viewer;
}
