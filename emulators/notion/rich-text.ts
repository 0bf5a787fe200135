/** Rich text in requests (checked against Notion's size limits) and in responses (with annotations and plain_text). */
import { bodyInvalid, mustBeDefined, tooMany } from "./errors.ts";
import type { RichTextItem } from "./model.ts";

export const MAX_TEXT_CONTENT = 2000;
export const MAX_URL = 2000;
export const MAX_EQUATION = 1000;
export const MAX_ARRAY = 100;

const DEFAULT_ANNOTATIONS = { bold: false, italic: false, strikethrough: false, underline: false, code: false, color: "default" };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function checkLength(path: string, value: string, max: number): void {
  if (value.length > max) {
    throw bodyInvalid(`${path}.length`, `should be ≤ \`${max}\``, value.length);
  }
}

export function expectString(path: string, value: unknown): string {
  if (value === undefined) throw mustBeDefined(path);
  if (typeof value !== "string") throw bodyInvalid(path, "should be a string", value);
  return value;
}

export function expectArray(path: string, value: unknown, max = MAX_ARRAY): unknown[] {
  if (value === undefined) throw mustBeDefined(path);
  if (!Array.isArray(value)) throw bodyInvalid(path, "should be an array", value);
  if (value.length > max) throw tooMany(path, max, value.length);
  return value;
}

export function expectObject(path: string, value: unknown): Record<string, unknown> {
  if (value === undefined) throw mustBeDefined(path);
  if (!isRecord(value)) throw bodyInvalid(path, "should be an object", value);
  return value;
}

function annotations(path: string, value: unknown): RichTextItem["annotations"] {
  if (value === undefined) return { ...DEFAULT_ANNOTATIONS };
  const given = expectObject(path, value);
  const result = { ...DEFAULT_ANNOTATIONS };
  for (const key of ["bold", "italic", "strikethrough", "underline", "code"] as const) {
    if (given[key] === undefined) continue;
    if (typeof given[key] !== "boolean") throw bodyInvalid(`${path}.${key}`, "should be a boolean", given[key]);
    result[key] = given[key];
  }
  if (given.color !== undefined) result.color = expectString(`${path}.color`, given.color);
  return result;
}

/** A request's rich-text array at `path`, as stored and answered. */
export function parseRichText(path: string, value: unknown): RichTextItem[] {
  return expectArray(path, value).map((raw, index) => parseRichTextItem(`${path}[${index}]`, raw));
}

function parseRichTextItem(path: string, raw: unknown): RichTextItem {
  const item = expectObject(path, raw);
  const type = item.type ?? (item.equation !== undefined ? "equation" : item.mention !== undefined ? "mention" : "text");
  const common = { annotations: annotations(`${path}.annotations`, item.annotations) };
  if (type === "text") {
    const text = expectObject(`${path}.text`, item.text);
    const content = expectString(`${path}.text.content`, text.content);
    checkLength(`${path}.text.content`, content, MAX_TEXT_CONTENT);
    let link: { url: string } | null = null;
    if (text.link !== undefined && text.link !== null) {
      const url = expectString(`${path}.text.link.url`, expectObject(`${path}.text.link`, text.link).url);
      checkLength(`${path}.text.link.url`, url, MAX_URL);
      link = { url };
    }
    return { type: "text", text: { content, link }, ...common, plain_text: content, href: link?.url ?? null };
  }
  if (type === "equation") {
    const expression = expectString(`${path}.equation.expression`, expectObject(`${path}.equation`, item.equation).expression);
    checkLength(`${path}.equation.expression`, expression, MAX_EQUATION);
    return { type: "equation", equation: { expression }, ...common, plain_text: expression, href: null };
  }
  if (type === "mention") {
    const mention = expectObject(`${path}.mention`, item.mention);
    const label = typeof item.plain_text === "string" ? item.plain_text : "@mention";
    return { type: "mention", mention, ...common, plain_text: label, href: null };
  }
  throw bodyInvalid(`${path}.type`, 'should be `"text"`, `"mention"` or `"equation"`', type);
}

export function plainText(items: readonly RichTextItem[] | undefined): string {
  return (items ?? []).map((item) => item.plain_text).join("");
}

/** Rich text the emulator writes itself (titles of reverse relations, demo data). */
export function textItems(content: string): RichTextItem[] {
  if (!content) return [];
  return [{ type: "text", text: { content, link: null }, annotations: { ...DEFAULT_ANNOTATIONS }, plain_text: content, href: null }];
}
