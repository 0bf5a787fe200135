/** Page content as HTML: headings, paragraphs, to-dos, lists, toggles, callouts, quotes, dividers, audio and other media. */
import type { RichTextItem } from "../model.ts";
import type { Workspace } from "../workspace.ts";
import { escapeHtml, link, renderRichText, safeUrl } from "./html.ts";

function media(type: string, content: Record<string, unknown>): string {
  const source = (content.external as { url: string } | undefined)?.url ?? "";
  const src = safeUrl(source);
  const caption = renderRichText(content.caption as RichTextItem[] | undefined);
  const label = caption ? `<div class="muted">${caption}</div>` : "";
  if (!src) return `<p class="muted">${escapeHtml(type)}: ${escapeHtml(source)}</p>`;
  const safe = escapeHtml(src);
  if (type === "audio") return `<figure><audio controls preload="metadata" src="${safe}"></audio>${label}</figure>`;
  if (type === "image") return `<figure><img src="${safe}" alt="" style="max-width:100%">${label}</figure>`;
  if (type === "video") return `<figure><video controls preload="none" src="${safe}" style="max-width:100%"></video>${label}</figure>`;
  // A file or PDF shows as Notion shows it: a named attachment to open or download.
  const name = typeof content.name === "string" && content.name ? content.name : decodeURIComponent(new URL(src).pathname.split("/").pop() || source);
  return `<p class="file">📎 <a href="${safe}" download="${escapeHtml(name)}">${escapeHtml(name)}</a>${label}</p>`;
}

export function renderContent(ws: Workspace, childIds: readonly string[]): string {
  let html = "";
  let list: "ul" | "ol" | null = null;
  for (const id of childIds) {
    const block = ws.blocks.get(id);
    const kind = block?.type === "bulleted_list_item" ? "ul" : block?.type === "numbered_list_item" ? "ol" : null;
    if (list && kind !== list) {
      html += `</${list}>`;
      list = null;
    }
    if (kind && !list) {
      html += `<${kind}>`;
      list = kind;
    }
    html += renderOne(ws, id);
  }
  return list ? `${html}</${list}>` : html;
}

function renderOne(ws: Workspace, id: string): string {
  const page = ws.pages.get(id);
  if (page) return `<p>📄 ${link(`/pages/${id}`, (page.values.title as RichTextItem[] | undefined)?.map((t) => t.plain_text).join("") ?? "")}</p>`;
  const database = ws.databases.get(id);
  if (database) return `<p>🗂 ${link(`/databases/${id}`, database.title.map((t) => t.plain_text).join(""))}</p>`;
  const block = ws.blocks.get(id);
  if (!block || block.archived) return "";
  const content = block.content;
  const text = renderRichText(content.rich_text as RichTextItem[] | undefined);
  const children = block.childIds.length > 0 ? renderContent(ws, block.childIds) : "";
  switch (block.type) {
    case "heading_1":
      return `<h2>${text}</h2>${children}`;
    case "heading_2":
      return `<h3>${text}</h3>${children}`;
    case "heading_3":
      return `<h4>${text}</h4>${children}`;
    case "paragraph":
      return `<p>${text}</p>${children ? `<div style="margin-left:24px">${children}</div>` : ""}`;
    case "to_do":
      return `<div><label><input type="checkbox" disabled${content.checked ? " checked" : ""}> ${text}</label>${children}</div>`;
    case "bulleted_list_item":
    case "numbered_list_item":
      return `<li>${text}${children}</li>`;
    case "toggle":
      return `<details open><summary>${text}</summary>${children}</details>`;
    case "callout":
      return `<div class="callout">${text}${children}</div>`;
    case "quote":
      return `<blockquote>${text}${children}</blockquote>`;
    case "code":
      return `<pre><code>${text}</code></pre>`;
    case "divider":
      return "<hr>";
    case "embed":
    case "bookmark": {
      const href = safeUrl(String(content.url ?? ""));
      return href ? `<p><a href="${escapeHtml(href)}">${escapeHtml(String(content.url))}</a></p>` : `<p>${escapeHtml(String(content.url ?? ""))}</p>`;
    }
    case "audio":
    case "image":
    case "video":
    case "file":
    case "pdf":
      return media(block.type, content);
    default:
      return `<p class="muted">${escapeHtml(block.type)}</p>`;
  }
}
