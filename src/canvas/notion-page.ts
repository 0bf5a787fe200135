/**
 * Pure readers of Notion page objects: what a Canvas page says about phones and addresses, and which addresses a
 * Mail page was sent from or to. No I/O; the shells pass in the page objects the API returned.
 */
import { extractEmails, extractPhones, indexKey } from "./normalize";

/** The parts of a Notion page object these readers look at. */
export interface NotionPageLike {
  id: string;
  last_edited_time?: string;
  in_trash?: boolean;
  archived?: boolean;
  properties?: Record<string, NotionPropertyValue>;
}

export interface NotionPropertyValue {
  type?: string;
  [key: string]: unknown;
}

export interface CanvasReadSettings {
  /** Properties holding phone numbers; empty = every `phone_number` property of the page. */
  phoneProperties: string[];
  /** Properties holding addresses; empty = every `email` property of the page. */
  emailProperties: string[];
  /** The customer's name; undefined = the page's title property. */
  titleProperty?: string;
  /** The customer's company (text or select); undefined = none is read. */
  companyProperty?: string;
  defaultRegion: string;
}

export interface CanvasIndexEntry {
  key: string;
  property: string;
  raw: string;
}

export interface CanvasPageRecord {
  pageId: string;
  title: string | null;
  /** From CANVAS_COMPANY_PROPERTY, when configured and filled. */
  company: string | null;
  lastEditedTime: string;
  /** Archived or in the trash: the page leaves the index. */
  removed: boolean;
  entries: CanvasIndexEntry[];
  unparsed: { property: string; raw: string }[];
  /** Configured properties this page does not have (a renamed property, a typo in the setting). */
  missingProperties: string[];
}

const TEXT_TYPES = new Set(["phone_number", "email", "rich_text", "title", "url"]);

/** The plain text of a property of a text-like type, or null when it is empty; undefined when it is not text. */
export function propertyText(value: NotionPropertyValue | undefined): string | null | undefined {
  if (!value || typeof value.type !== "string") return undefined;
  const content = value[value.type];
  if (value.type === "formula") {
    const formula = content as { type?: string; string?: string | null } | undefined;
    return formula?.type === "string" ? (formula.string ?? null) : undefined;
  }
  if (!TEXT_TYPES.has(value.type)) return undefined;
  if (typeof content === "string") return content.trim() === "" ? null : content;
  if (content === null || content === undefined) return null;
  if (Array.isArray(content)) {
    const text = content.map((item: { plain_text?: string; text?: { content?: string } }) => item.plain_text ?? item.text?.content ?? "").join("");
    return text.trim() === "" ? null : text;
  }
  return undefined;
}

function namesOfType(page: NotionPageLike, type: string): string[] {
  return Object.entries(page.properties ?? {})
    .filter(([, value]) => value.type === type)
    .map(([name]) => name);
}

export function pageTitle(page: NotionPageLike, titleProperty?: string): string | null {
  const name = titleProperty ?? namesOfType(page, "title")[0];
  if (!name) return null;
  return propertyText(page.properties?.[name])?.trim() ?? null;
}

/** A company as text, or the name of a select option. */
export function pageCompany(page: NotionPageLike, property: string): string | null {
  const value = page.properties?.[property];
  if (value?.type === "select") return (value.select as { name?: string } | null)?.name?.trim() || null;
  return propertyText(value)?.trim() || null;
}

/** Everything the index keeps about one Canvas page. */
export function readCanvasPage(page: NotionPageLike, settings: CanvasReadSettings): CanvasPageRecord {
  const record: CanvasPageRecord = {
    pageId: page.id,
    title: pageTitle(page, settings.titleProperty),
    company: settings.companyProperty ? pageCompany(page, settings.companyProperty) : null,
    lastEditedTime: page.last_edited_time ?? new Date(0).toISOString(),
    removed: page.in_trash === true || page.archived === true,
    entries: [],
    unparsed: [],
    missingProperties: [],
  };
  if (record.removed) return record;
  const seen = new Set<string>();
  const read = (names: string[], kind: "phone" | "email") => {
    for (const name of names) {
      const value = page.properties?.[name];
      if (!value) {
        record.missingProperties.push(name);
        continue;
      }
      const text = propertyText(value);
      if (text === undefined) {
        record.missingProperties.push(name);
        continue;
      }
      if (text === null) continue;
      const { values, problems } = kind === "phone" ? extractPhones(text, settings.defaultRegion) : extractEmails(text);
      for (const normalised of values) {
        const key = indexKey(normalised);
        if (seen.has(key)) continue;
        seen.add(key);
        record.entries.push({ key, property: name, raw: text });
      }
      for (const raw of problems) record.unparsed.push({ property: name, raw });
    }
  };
  read(settings.phoneProperties.length > 0 ? settings.phoneProperties : namesOfType(page, "phone_number"), "phone");
  read(settings.emailProperties.length > 0 ? settings.emailProperties : namesOfType(page, "email"), "email");
  return record;
}

/**
 * The addresses of a Mail page (sender and recipients), in property order. Properties may be `email`, `rich_text`
 * or `title` and hold `Name <addr>` or several addresses. Empty settings = every `email` property.
 */
export function readMailAddresses(page: NotionPageLike, properties: string[]): { addresses: string[]; missingProperties: string[] } {
  const names = properties.length > 0 ? properties : namesOfType(page, "email");
  const addresses: string[] = [];
  const missingProperties: string[] = [];
  for (const name of names) {
    const text = propertyText(page.properties?.[name]);
    if (text === undefined) {
      missingProperties.push(name);
      continue;
    }
    if (text !== null) addresses.push(...extractEmails(text).values);
  }
  return { addresses: [...new Set(addresses)], missingProperties };
}
