/** Page content as HTML: headings, paragraphs, to-dos, lists, toggles, callouts, quotes, dividers, audio and other media. */
import type { RichTextItem } from "../model.ts";
import type { Workspace } from "../workspace.ts";
import { html, type Html, link, renderRichText, safeUrl } from "./html.ts";

function media(type: string, content: Record<string, unknown>): Html {
  const source = (content.external as { url: string } | undefined)?.url ?? "";
  const src = safeUrl(source);
  const caption = renderRichText(content.caption as RichTextItem[] | undefined);
  const label = caption.length > 0 ? html`<div class="muted">${caption}</div>` : "";
  if (!src) return html`<p class="muted">${type}: ${source}</p>`;
  if (type === "audio") return html`<figure><audio controls preload="metadata" src="${src}"></audio>${label}</figure>`;
  if (type === "image") return html`<figure><img src="${src}" alt="" style="max-width:100%">${label}</figure>`;
  if (type === "video") return html`<figure><video controls preload="none" src="${src}" style="max-width:100%"></video>${label}</figure>`;
  // A file or PDF shows as Notion shows it: a named attachment to open or download.
  const name = typeof content.name === "string" && content.name ? content.name : decodeURIComponent(new URL(src).pathname.split("/").pop() || source);
  return html`<p class="file">📎 <a href="${src}" download="${name}">${name}</a>${label}</p>`;
}

export function renderContent(ws: Workspace, childIds: readonly string[]): Html {
  // Consecutive list items share one <ul> or <ol>, as Notion groups them.
  const groups: { list: "ul" | "ol" | null; items: Html[] }[] = [];
  for (const id of childIds) {
    const block = ws.blocks.get(id);
    const list = block?.type === "bulleted_list_item" ? "ul" : block?.type === "numbered_list_item" ? "ol" : null;
    const last = groups.at(-1);
    if (last && list !== null && last.list === list) last.items.push(renderOne(ws, id));
    else groups.push({ list, items: [renderOne(ws, id)] });
  }
  return html`${groups.map(({ list, items }) => (list === "ul" ? html`<ul>${items}</ul>` : list === "ol" ? html`<ol>${items}</ol>` : items))}`;
}

function renderOne(ws: Workspace, id: string): Html {
  const page = ws.pages.get(id);
  if (page) return html`<p>📄 ${link(`/pages/${id}`, (page.values.title as RichTextItem[] | undefined)?.map((t) => t.plain_text).join("") ?? "")}</p>`;
  const database = ws.databases.get(id);
  if (database) return html`<p>🗂 ${link(`/databases/${id}`, database.title.map((t) => t.plain_text).join(""))}</p>`;
  const block = ws.blocks.get(id);
  if (!block || block.archived) return html``;
  const content = block.content;
  const text = renderRichText(content.rich_text as RichTextItem[] | undefined);
  const children = block.childIds.length > 0 ? renderContent(ws, block.childIds) : html``;
  switch (block.type) {
    case "heading_1":
      return html`<h2>${text}</h2>${children}`;
    case "heading_2":
      return html`<h3>${text}</h3>${children}`;
    case "heading_3":
      return html`<h4>${text}</h4>${children}`;
    case "paragraph":
      return html`<p>${text}</p>${children.length > 0 ? html`<div style="margin-left:24px">${children}</div>` : ""}`;
    case "to_do":
      return html`<div><label><input type="checkbox" disabled${content.checked ? html` checked` : ""}> ${text}</label>${children}</div>`;
    case "bulleted_list_item":
    case "numbered_list_item":
      return html`<li>${text}${children}</li>`;
    case "toggle":
      return html`<details open><summary>${text}</summary>${children}</details>`;
    case "callout":
      return html`<div class="callout">${text}${children}</div>`;
    case "quote":
      return html`<blockquote>${text}${children}</blockquote>`;
    case "code":
      return html`<pre><code>${text}</code></pre>`;
    case "divider":
      return html`<hr>`;
    case "embed":
    case "bookmark": {
      const href = safeUrl(String(content.url ?? ""));
      return href ? html`<p><a href="${href}">${String(content.url)}</a></p>` : html`<p>${String(content.url ?? "")}</p>`;
    }
    case "audio":
    case "image":
    case "video":
    case "file":
    case "pdf":
      return media(block.type, content);
    default:
      return html`<p class="muted">${block.type}</p>`;
  }
}
