/**
 * Text cut to fit Notion's rich text: at most 2000 characters per item and 100 items per array.
 *
 * Notion's docs say "2000 characters" without naming the unit; its validation reports `.length`, which in
 * JavaScript counts UTF-16 code units, and an emoji outside the Basic Multilingual Plane is two of them. The strict
 * reading is taken: a chunk holds at most 2000 UTF-16 units, which is also at most 2000 code points. Chunks end on a
 * code point boundary (never between the two halves of a surrogate pair) and, when a whitespace falls within the
 * last 200 characters, right after it, so words stay whole. Joined again, the chunks are the input exactly.
 *
 * A value longer than 100 items is cut to 99 and a last item says so; the callers put the whole value in the page
 * body, which has no such limit.
 */

export const RICH_TEXT_LIMIT = 2000;
export const ARRAY_LIMIT = 100;
/** How far back from a full chunk's end a whitespace is looked for, to end the chunk there. */
export const WORD_BREAK_LOOKBACK = 200;
/** The last item of a value that did not fit. */
export const CUT_NOTICE = " … (cut; the full text is in the page body)";

export interface RichTextItem {
  type: "text";
  text: { content: string; link?: { url: string } | null };
}

export interface SplitLimits {
  /** UTF-16 units per chunk. */
  units?: number;
  /**
   * Bytes per chunk once the text is JSON-encoded as UTF-8 (quotes and control characters escaped). Bounds the
   * size of a request made of many chunks, which Notion caps at 500 KB.
   */
  jsonBytes?: number;
}

/** Splits text into chunks within `limits`, on code point boundaries and where possible after a whitespace. */
export function splitText(content: string, limits: SplitLimits = {}): string[] {
  const maxUnits = limits.units ?? RICH_TEXT_LIMIT;
  const maxBytes = limits.jsonBytes ?? Number.POSITIVE_INFINITY;
  const chunks: string[] = [];
  let start = 0;
  while (start < content.length) {
    let end = start;
    let bytes = 0;
    let lastBreak = -1;
    while (end < content.length) {
      const cp = content.codePointAt(end)!;
      const units = cp > 0xffff ? 2 : 1;
      const cost = jsonUtf8Bytes(cp);
      if (end + units - start > maxUnits || bytes + cost > maxBytes) break;
      end += units;
      bytes += cost;
      if (isWhitespace(cp)) lastBreak = end;
    }
    // A limit below one code point still moves on by one, so the loop always ends.
    if (end === start) end = start + (content.codePointAt(start)! > 0xffff ? 2 : 1);
    else if (end < content.length && lastBreak > start && end - lastBreak <= WORD_BREAK_LOOKBACK) end = lastBreak;
    chunks.push(content.slice(start, end));
    start = end;
  }
  return chunks;
}

/** Rich text items for `content`, and whether it had to be cut to fit 100 items. */
export function richTextValue(content: string, link?: string): { items: RichTextItem[]; cut: boolean } {
  const chunks = splitText(content);
  const item = (piece: string): RichTextItem => ({ type: "text", text: link ? { content: piece, link: { url: link } } : { content: piece } });
  if (chunks.length <= ARRAY_LIMIT) return { items: chunks.map(item), cut: false };
  return { items: [...chunks.slice(0, ARRAY_LIMIT - 1).map(item), { type: "text", text: { content: CUT_NOTICE } }], cut: true };
}

/** Rich text items for `content`: all of it when it fits 100 items, else 99 of them and the notice that it was cut. */
export function richText(content: string, link?: string): RichTextItem[] {
  return richTextValue(content, link).items;
}

/** Whether `content` is too long for one rich text value. */
export function needsCut(content: string): boolean {
  return splitText(content).length > ARRAY_LIMIT;
}

function isWhitespace(cp: number): boolean {
  return cp === 0x20 || cp === 0x0a || cp === 0x09 || cp === 0x0d || cp === 0x3000 || cp === 0xa0 || (cp >= 0x2000 && cp <= 0x200a);
}

/** The bytes one code point takes in a JSON string sent as UTF-8. */
function jsonUtf8Bytes(cp: number): number {
  if (cp === 0x22 || cp === 0x5c || cp === 0x0a || cp === 0x0d || cp === 0x09 || cp === 0x08 || cp === 0x0c) return 2;
  if (cp < 0x20) return 6;
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}
