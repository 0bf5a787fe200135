/**
 * HTML building blocks for the viewer: the page frame, rich text and property values. Markup is written with
 * `hono/html`, which escapes every interpolated string; only markup already built this way goes in unescaped.
 */
import { html as honoHtml, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { RichTextItem, SelectOption } from "../model.ts";

export type Html = HtmlEscapedString;

/** `hono/html`'s tag, typed for the viewer's case: no value is a promise, so the markup is ready at once. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return honoHtml(strings, ...values) as Html;
}

/** Markup pieces with a separator that is itself markup (`", "`, `"<br>"`). */
export function joinHtml(parts: readonly Html[], separator: string): Html {
  return raw(parts.join(separator));
}

/** Built markup is a `String` object, so emptiness is asked of its length rather than its truthiness. */
export function orElse(markup: Html, fallback: Html | string): Html | string {
  return markup.length > 0 ? markup : fallback;
}

/** Only web links become hrefs or media sources; anything else (javascript:, data:) is shown as text. */
export function safeUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" || parsed.protocol === "mailto:" ? parsed.href : null;
  } catch {
    return null;
  }
}

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1f1f1f;background:#fafafa}
header{background:#fff;border-bottom:1px solid #e5e5e5;padding:10px 24px}header a{color:inherit;text-decoration:none;font-weight:600}
main{padding:16px 24px;max-width:1200px}h1{font-size:26px;margin:8px 0 16px}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%}th,td{border:1px solid #e5e5e5;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}.tag{display:inline-block;background:#eee;border-radius:4px;padding:0 6px;margin:1px}
.props{display:grid;grid-template-columns:180px 1fr;gap:4px 12px;margin-bottom:20px;font-size:14px}.props dt{color:#777}.props dd{margin:0}
.content{background:#fff;border:1px solid #e5e5e5;padding:12px 24px;border-radius:6px}.callout{background:#f1f1ef;padding:8px 12px;border-radius:4px}
blockquote{border-left:3px solid #ccc;margin:0;padding-left:12px}.content p,.content li,.content blockquote,.content summary{white-space:pre-wrap}figure{margin:8px 0}.muted{color:#888}audio{display:block;margin:8px 0;width:100%;max-width:520px}
`;

export function layout(title: string, body: Html): Html {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · Notion emulator</title><style>${raw(STYLE)}</style></head><body><header><a href="/">Notion emulator</a></header><main>${body}</main></body></html>`;
}

export function renderRichText(items: readonly RichTextItem[] | undefined): Html {
  return html`${(items ?? []).map((item) => {
    let markup = html`${item.plain_text}`;
    const a = item.annotations;
    if (a.code) markup = html`<code>${markup}</code>`;
    if (a.bold) markup = html`<strong>${markup}</strong>`;
    if (a.italic) markup = html`<em>${markup}</em>`;
    if (a.strikethrough) markup = html`<s>${markup}</s>`;
    if (a.underline) markup = html`<u>${markup}</u>`;
    const href = item.href ? safeUrl(item.href) : null;
    return href ? html`<a href="${href}">${markup}</a>` : markup;
  })}`;
}

export function link(href: string, label: string): Html {
  return html`<a href="${href}">${label || "Untitled"}</a>`;
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/**
 * A date as Notion shows it by default: "December 2, 2026" for a day, "December 2, 2026 1:05 PM" for a time. The
 * viewer has no user time zone, so times are shown in UTC and say so.
 */
export function notionDate(iso: string): string {
  const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(iso);
  const d = new Date(dayOnly ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
  if (dayOnly) return day;
  const hours = d.getUTCHours();
  return `${day} ${hours % 12 === 0 ? 12 : hours % 12}:${String(d.getUTCMinutes()).padStart(2, "0")} ${hours < 12 ? "AM" : "PM"} UTC`;
}

/** A number in its property's format, as Notion shows it ("number" plain, "number_with_commas" grouped, "percent", "dollar", "euro", …). */
export function notionNumber(n: number, format = "number"): string {
  if (!Number.isFinite(n)) return String(n);
  if (format === "number") return String(n);
  if (format === "number_with_commas") return n.toLocaleString("en-US", { maximumFractionDigits: 20 });
  if (format === "percent") return `${(n * 100).toLocaleString("en-US", { maximumFractionDigits: 20 })}%`;
  const currencies: Record<string, string> = { dollar: "USD", euro: "EUR", pound: "GBP", yen: "JPY", canadian_dollar: "CAD", australian_dollar: "AUD" };
  const currency = currencies[format];
  return currency ? n.toLocaleString("en-US", { style: "currency", currency }) : String(n);
}

/** A property value in a table cell or the page header; `titleOf` names related pages, `format` is a number's. */
export function renderValue(type: string, value: unknown, titleOf: (pageId: string) => string, format?: string): Html {
  if (value === undefined || value === null) return html``;
  switch (type) {
    case "title":
    case "rich_text":
      return renderRichText(value as RichTextItem[]);
    case "select":
    case "status":
      return html`<span class="tag">${(value as SelectOption).name}</span>`;
    case "multi_select":
      return joinHtml((value as SelectOption[]).map((o) => html`<span class="tag">${o.name}</span>`), " ");
    case "checkbox":
      return html`${value ? "☑" : "☐"}`;
    case "date": {
      const date = value as { start: string; end: string | null };
      return html`${date.end ? `${notionDate(date.start)} → ${notionDate(date.end)}` : notionDate(date.start)}`;
    }
    case "number":
      return html`${notionNumber(Number(value), format)}`;
    case "url": {
      const href = safeUrl(String(value));
      return href ? html`<a href="${href}">${String(value)}</a>` : html`${String(value)}`;
    }
    case "email":
      return html`<a href="mailto:${String(value)}">${String(value)}</a>`;
    case "relation":
      return joinHtml((value as string[]).map((id) => link(`/pages/${id}`, titleOf(id))), ", ");
    case "files":
      return joinHtml(
        (value as { name: string; external?: { url: string }; file?: { url: string } }[]).map((f) => {
          const href = safeUrl(f.external?.url ?? f.file?.url ?? "");
          return href ? html`<a href="${href}">${f.name}</a>` : html`${f.name}`;
        }),
        ", ",
      );
    case "people":
      return html`${(value as { id: string }[]).map((p) => p.id).join(", ")}`;
    default:
      return html`${typeof value === "string" ? value : JSON.stringify(value)}`;
  }
}
