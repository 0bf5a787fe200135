/**
 * The viewer: server-rendered pages so a person can see what the product wrote. `/` lists the databases and pages
 * under the root page, `/databases/{id}` shows each data source as a table, `/pages/{id}` a page's properties and
 * content (audio blocks playable).
 */
import type http from "node:http";
import { normalizeId } from "../ids.ts";
import type { PageRecord, RichTextItem } from "../model.ts";
import { plainText } from "../rich-text.ts";
import type { EmulatorState } from "../server.ts";
import type { Workspace } from "../workspace.ts";
import { renderContent } from "./blocks-html.ts";
import { html, type Html, joinHtml, layout, link, orElse, renderRichText, renderValue } from "./html.ts";

function send(res: http.ServerResponse, status: number, page: Html): void {
  const text = page.toString();
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
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

export function handleViewer(state: EmulatorState, req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
  if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, layout("Not allowed", html`<h1>Only GET</h1>`));
  const ws = state.ws;
  if (url.pathname === "/") return send(res, 200, indexPage(ws));
  const match = /^\/(databases|pages)\/([^/]+)$/.exec(url.pathname);
  const id = match ? normalizeId(decodeURIComponent(match[2]!)) : null;
  const page = match && id ? (match[1] === "databases" ? databasePage(ws, id) : pageView(ws, id)) : null;
  if (page === null) return send(res, 404, layout("Not found", html`<h1>Not found</h1><p>${url.pathname}</p>`));
  send(res, 200, page);
}
