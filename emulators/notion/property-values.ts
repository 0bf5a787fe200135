/**
 * Page property values: parsing what `POST /v1/pages` and `PATCH /v1/pages/{id}` send against the data source's
 * schema (with Notion's refusals), and answering them in the page object's shape.
 */
import { bodyInvalid, notFound, validationError } from "./errors.ts";
import type { IdSource } from "./ids.ts";
import { normalizeId } from "./ids.ts";
import { isoMinute, type PageRecord, type PropertySchema, type PropertyValues, type RelationConfig, type RichTextItem, type SelectOption, type UserRecord } from "./model.ts";
import { checkOptionName, findProperty, optionColor, READ_ONLY_TYPES } from "./property-schema.ts";
import { checkLength, expectArray, expectObject, expectString, MAX_URL, parseRichText } from "./rich-text.ts";

export const MAX_EMAIL = 200;
export const MAX_PHONE = 200;
/** References a page object shows per relation or people property. */
export const MAX_REFERENCES = 25;

export interface ValueContext {
  ids: IdSource;
  page(id: string): PageRecord | undefined;
  dataSourceOfPage(page: PageRecord): string | undefined;
  user(id: string): UserRecord | undefined;
}

/** Values by property id, and select options to add to the schema once the whole request is known to be valid. */
export interface ParsedValues {
  values: PropertyValues;
  newOptions: { schema: PropertySchema; option: SelectOption }[];
}

const VALUE_TYPES = new Set([
  "title", "rich_text", "number", "select", "multi_select", "status", "date", "people", "files", "checkbox", "url",
  "email", "phone_number", "relation", "created_time", "created_by", "last_edited_time", "last_edited_by", "formula", "rollup",
]);

export function parsePropertyValues(path: string, raw: unknown, schema: readonly PropertySchema[], context: ValueContext): ParsedValues {
  const given = expectObject(path, raw);
  const parsed: ParsedValues = { values: {}, newOptions: [] };
  for (const [key, value] of Object.entries(given)) {
    const property = findProperty(schema, key);
    if (!property) throw validationError(`${key} is not a property that exists.`);
    parsed.values[property.id] = parseValue(`${path}.${key}`, property, value, context, parsed);
  }
  return parsed;
}

function parseValue(path: string, property: PropertySchema, raw: unknown, context: ValueContext, parsed: ParsedValues): unknown {
  const value = expectObject(path, raw);
  const type = property.type;
  const declared = typeof value.type === "string" ? value.type : undefined;
  const namesOtherType = [...VALUE_TYPES].some((t) => t !== type && value[t] !== undefined);
  if ((declared && declared !== type) || (value[type] === undefined && namesOtherType)) {
    throw validationError(`${property.name} is expected to be ${type}.`);
  }
  if (READ_ONLY_TYPES.has(type)) throw validationError(`${property.name} is a ${type} property, which cannot be set.`);
  const at = `${path}.${type}`;
  if (!(type in value)) throw bodyInvalid(at, "should be defined", undefined);
  const v = value[type];
  switch (type) {
    case "title":
    case "rich_text":
      return parseRichText(at, v);
    case "number":
      if (v !== null && (typeof v !== "number" || !Number.isFinite(v))) throw bodyInvalid(at, "should be a number or `null`", v);
      return v;
    case "checkbox":
      if (typeof v !== "boolean") throw bodyInvalid(at, "should be a boolean", v);
      return v;
    case "url":
      return nullableText(at, v, MAX_URL);
    case "email":
      return nullableText(at, v, MAX_EMAIL);
    case "phone_number":
      return nullableText(at, v, MAX_PHONE);
    case "select":
      return v === null ? null : chooseOption(at, property, v, parsed, true);
    case "status":
      return v === null ? null : chooseOption(at, property, v, parsed, false);
    case "multi_select":
      return expectArray(at, v).map((item, i) => chooseOption(`${at}[${i}]`, property, item, parsed, true));
    case "date":
      return v === null ? null : parseDate(at, v);
    case "files":
      return expectArray(at, v).map((item, i) => parseFile(`${at}[${i}]`, item));
    case "people":
      return expectArray(at, v).map((item, i) => {
        const id = idOf(`${at}[${i}]`, item);
        const user = context.user(id);
        if (!user) throw notFound("user", id);
        return { object: "user", id: user.id };
      });
    case "relation":
      return parseRelationValue(at, property, v, context);
    default:
      throw validationError(`${property.name} is a ${type} property, which cannot be set.`);
  }
}

function nullableText(path: string, value: unknown, max: number): string | null {
  if (value === null) return null;
  const text = expectString(path, value);
  checkLength(path, text, max);
  return text;
}

function idOf(path: string, item: unknown): string {
  const given = expectString(`${path}.id`, expectObject(path, item).id);
  const id = normalizeId(given);
  if (!id) throw bodyInvalid(`${path}.id`, "should be a valid uuid", given);
  return id;
}

function chooseOption(path: string, property: PropertySchema, raw: unknown, parsed: ParsedValues, createMissing: boolean): SelectOption {
  const given = expectObject(path, raw);
  const options = (property.config.options ?? []) as SelectOption[];
  const pending = parsed.newOptions.filter((n) => n.schema === property).map((n) => n.option);
  const all = [...options, ...pending];
  if (typeof given.id === "string" && given.name === undefined) {
    const byId = all.find((o) => o.id === given.id);
    if (!byId) throw validationError(`Invalid ${property.type} option id: ${given.id}`);
    return byId;
  }
  const name = expectString(`${path}.name`, given.name);
  checkOptionName(`${path}.name`, name);
  const existing = all.find((o) => o.name === name);
  if (existing) return existing;
  if (!createMissing) throw validationError(`Invalid status option "${name}" for property ${property.name}. Status options cannot be created through the API.`);
  const option: SelectOption = {
    id: "", // given by commitNewOptions once the whole request is valid
    name,
    color: typeof given.color === "string" ? given.color : optionColor(all.length),
    description: null,
  };
  parsed.newOptions.push({ schema: property, option });
  return option;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function isoDate(path: string, value: unknown): string {
  const text = expectString(path, value);
  if (!ISO_DATE.test(text) || Number.isNaN(Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text))) {
    throw bodyInvalid(path, "should be a valid ISO 8601 date string", text);
  }
  return text;
}

function parseDate(path: string, raw: unknown): Record<string, unknown> {
  const date = expectObject(path, raw);
  const start = isoDate(`${path}.start`, date.start);
  const end = date.end === undefined || date.end === null ? null : isoDate(`${path}.end`, date.end);
  const timeZone = date.time_zone === undefined || date.time_zone === null ? null : expectString(`${path}.time_zone`, date.time_zone);
  return { start, end, time_zone: timeZone };
}

function parseFile(path: string, raw: unknown): Record<string, unknown> {
  const file = expectObject(path, raw);
  const name = expectString(`${path}.name`, file.name);
  checkLength(`${path}.name`, name, 100);
  if (file.external !== undefined) {
    const url = expectString(`${path}.external.url`, expectObject(`${path}.external`, file.external).url);
    checkLength(`${path}.external.url`, url, MAX_URL);
    return { name, type: "external", external: { url } };
  }
  if (file.file !== undefined) {
    const url = expectString(`${path}.file.url`, expectObject(`${path}.file`, file.file).url);
    return { name, type: "file", file: { url, expiry_time: null } };
  }
  throw bodyInvalid(`${path}.external`, "should be defined", undefined);
}

function parseRelationValue(path: string, property: PropertySchema, raw: unknown, context: ValueContext): string[] {
  const relation = property.config as unknown as RelationConfig;
  const ids: string[] = [];
  expectArray(path, raw).forEach((item, i) => {
    const id = idOf(`${path}[${i}]`, item);
    const page = context.page(id);
    if (!page) throw notFound("page", id);
    if (context.dataSourceOfPage(page) !== relation.data_source_id) {
      throw validationError(`Relation ${property.name} links to data source ${relation.data_source_id}; page ${id} is not in it.`);
    }
    if (!ids.includes(id)) ids.push(id);
  });
  return ids;
}

/** Gives auto-created options their ids once the request is valid, then adds them to their schemas. */
export function commitNewOptions(parsed: ParsedValues, ids: IdSource): void {
  for (const { schema, option } of parsed.newOptions) {
    option.id = ids.propertyId();
    (schema.config.options as SelectOption[]).push(option);
  }
}

/** The page object's `properties`, in schema order. */
export function serializeValues(schema: readonly PropertySchema[], page: Pick<PageRecord, "createdTime" | "lastEditedTime">, values: PropertyValues, botId: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const property of schema) {
    const stored = values[property.id];
    const value = serializeValue(property.type, stored, page, botId);
    if (property.type === "relation" || property.type === "people") {
      // Page objects carry at most 25 references; the rest is read through the property item endpoint.
      const all = value as unknown[];
      result[property.name] = { id: property.id, type: property.type, [property.type]: all.slice(0, MAX_REFERENCES), ...(property.type === "relation" && { has_more: all.length > MAX_REFERENCES }) };
    } else {
      result[property.name] = { id: property.id, type: property.type, [property.type]: value };
    }
  }
  return result;
}

export function serializeValue(type: string, stored: unknown, page: Pick<PageRecord, "createdTime" | "lastEditedTime">, botId: string): unknown {
  switch (type) {
    case "title":
    case "rich_text":
      return (stored as RichTextItem[] | undefined) ?? [];
    case "multi_select":
    case "files":
    case "people":
      return stored ?? [];
    case "relation":
      return ((stored as string[] | undefined) ?? []).map((id) => ({ id }));
    case "checkbox":
      return stored ?? false;
    case "created_time":
      return isoMinute(page.createdTime);
    case "last_edited_time":
      return isoMinute(page.lastEditedTime);
    case "created_by":
    case "last_edited_by":
      return { object: "user", id: botId };
    default:
      return stored ?? null;
  }
}
