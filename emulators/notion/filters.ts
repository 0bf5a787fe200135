/**
 * Query filters and sorts for `POST /v1/data_sources/{id}/query`: validated like Notion (100 conditions per compound
 * array, compounds nested at most two levels deep, the filter's type must be the property's type) and compiled into
 * predicates over a page's property values. Text conditions compare the stored string: `equals` exactly,
 * `contains`/`starts_with`/`ends_with` ignoring case.
 */
import { bodyInvalid, notPresent, tooMany, validationError } from "./errors.ts";
import { isoMinute, type PropertySchema, type PropertyValues, type RichTextItem, type SelectOption } from "./model.ts";
import { findProperty } from "./property-schema.ts";
import { expectArray, expectObject, expectString, plainText } from "./rich-text.ts";

/** What a filter sees of a page: its values as queries currently see them, and its timestamps. */
export interface PageView {
  values: PropertyValues;
  createdTime: number;
  lastEditedTime: number;
}

export type Predicate = (page: PageView) => boolean;

const MAX_COMPOUND = 100;
/** `{or: [...]}` at the top is level one, a compound inside it level two; deeper is refused. */
const MAX_COMPOUND_DEPTH = 2;
const TEXT_TYPES = new Set(["title", "rich_text", "url", "email", "phone_number"]);
const DAY = 86_400_000;

export function compileFilter(path: string, raw: unknown, schema: readonly PropertySchema[], depth = 0): Predicate {
  const filter = expectObject(path, raw);
  for (const op of ["or", "and"] as const) {
    if (filter[op] === undefined) continue;
    if (depth >= MAX_COMPOUND_DEPTH) throw notPresent(`${path}.${op}`, filter[op]);
    const items = expectArray(`${path}.${op}`, filter[op], Number.MAX_SAFE_INTEGER);
    if (items.length > MAX_COMPOUND) throw tooMany(`${path}.${op}`, MAX_COMPOUND, items.length);
    const parts = items.map((item, i) => compileFilter(`${path}.${op}[${i}]`, item, schema, depth + 1));
    return op === "or" ? (page) => parts.some((p) => p(page)) : (page) => parts.every((p) => p(page));
  }
  if (typeof filter.timestamp === "string") {
    const kind = filter.timestamp;
    if (kind !== "created_time" && kind !== "last_edited_time") throw bodyInvalid(`${path}.timestamp`, 'should be `"created_time"` or `"last_edited_time"`', kind);
    const test = dateCondition(`${path}.${kind}`, filter[kind]);
    return (page) => test(isoMinute(kind === "created_time" ? page.createdTime : page.lastEditedTime));
  }
  if (filter.property === undefined) {
    throw validationError(`body failed validation. Fix one: ${path}.or should be defined, instead was \`undefined\`. ${path}.and should be defined, instead was \`undefined\`. ${path}.property should be defined, instead was \`undefined\`.`);
  }
  const name = expectString(`${path}.property`, filter.property);
  const property = findProperty(schema, name);
  if (!property) throw validationError(`Could not find property with name or id: ${name}`);
  const filterType = Object.keys(filter).find((key) => key !== "property" && key !== "type");
  if (!filterType) throw bodyInvalid(`${path}.${property.type}`, "should be defined", undefined);
  if (filterType !== property.type) {
    throw validationError(`body failed validation: ${path}.${filterType} does not match the type of property "${property.name}", which is \`${property.type}\`.`);
  }
  const at = `${path}.${filterType}`;
  const condition = filter[filterType];
  return propertyPredicate(at, property, condition);
}

function propertyPredicate(path: string, property: PropertySchema, condition: unknown): Predicate {
  const id = property.id;
  const type = property.type;
  if (TEXT_TYPES.has(type)) {
    const test = textCondition(path, condition);
    return (page) => test(textOf(type, page.values[id]));
  }
  if (type === "created_time" || type === "last_edited_time") {
    const test = dateCondition(path, condition);
    return (page) => test(isoMinute(type === "created_time" ? page.createdTime : page.lastEditedTime));
  }
  const c = singleCondition(path, condition);
  switch (type) {
    case "number":
      return numberPredicate(path, c, (page) => page.values[id] as number | null | undefined);
    case "checkbox": {
      const expected = booleanOperand(path, c);
      return (page) => (page.values[id] === true) === (c.op === "equals" ? expected : !expected);
    }
    case "select":
    case "status":
      return optionPredicate(path, c, (page) => {
        const option = page.values[id] as SelectOption | null | undefined;
        return option ? [option.name] : [];
      }, false);
    case "multi_select":
      return optionPredicate(path, c, (page) => ((page.values[id] as SelectOption[] | undefined) ?? []).map((o) => o.name), true);
    case "date": {
      const test = dateCondition(path, condition);
      return (page) => test((page.values[id] as { start: string } | null | undefined)?.start ?? null);
    }
    case "relation":
    case "people":
      return idListPredicate(path, c, (page) => {
        const stored = (page.values[id] as (string | { id: string })[] | undefined) ?? [];
        return stored.map((item) => (typeof item === "string" ? item : item.id));
      });
    case "files":
      return emptinessPredicate(path, c, (page) => ((page.values[id] as unknown[] | undefined) ?? []).length === 0);
    default:
      throw validationError(`body failed validation: ${path} filters on a \`${type}\` property, which cannot be filtered.`);
  }
}

interface Condition {
  op: string;
  operand: unknown;
}

function singleCondition(path: string, raw: unknown): Condition {
  const condition = expectObject(path, raw);
  const entries = Object.entries(condition);
  if (entries.length !== 1) throw bodyInvalid(path, "should have exactly one condition", condition);
  const [op, operand] = entries[0]!;
  return { op, operand };
}

function unknownCondition(path: string, c: Condition): never {
  throw notPresent(`${path}.${c.op}`, c.operand);
}

function emptinessPredicate(path: string, c: Condition, isEmpty: Predicate): Predicate {
  if (c.op === "is_empty" && c.operand === true) return isEmpty;
  if (c.op === "is_not_empty" && c.operand === true) return (page) => !isEmpty(page);
  return unknownCondition(path, c);
}

function textOf(type: string, stored: unknown): string {
  if (type === "title" || type === "rich_text") return plainText(stored as RichTextItem[] | undefined);
  return typeof stored === "string" ? stored : "";
}

function textCondition(path: string, raw: unknown): (value: string) => boolean {
  const c = singleCondition(path, raw);
  if (c.op === "is_empty" || c.op === "is_not_empty") {
    if (c.operand !== true) throw bodyInvalid(`${path}.${c.op}`, "should be `true`", c.operand);
    return c.op === "is_empty" ? (v) => v === "" : (v) => v !== "";
  }
  const operand = expectString(`${path}.${c.op}`, c.operand);
  const lower = operand.toLowerCase();
  switch (c.op) {
    case "equals":
      return (v) => v === operand;
    case "does_not_equal":
      return (v) => v !== operand;
    case "contains":
      return (v) => v.toLowerCase().includes(lower);
    case "does_not_contain":
      return (v) => !v.toLowerCase().includes(lower);
    case "starts_with":
      return (v) => v.toLowerCase().startsWith(lower);
    case "ends_with":
      return (v) => v.toLowerCase().endsWith(lower);
    default:
      return unknownCondition(path, c);
  }
}

function numberPredicate(path: string, c: Condition, read: (page: PageView) => number | null | undefined): Predicate {
  if (c.op === "is_empty" || c.op === "is_not_empty") return emptinessPredicate(path, c, (page) => read(page) == null);
  if (typeof c.operand !== "number") throw bodyInvalid(`${path}.${c.op}`, "should be a number", c.operand);
  const n = c.operand;
  const compare: Record<string, (v: number) => boolean> = {
    equals: (v) => v === n,
    does_not_equal: (v) => v !== n,
    greater_than: (v) => v > n,
    less_than: (v) => v < n,
    greater_than_or_equal_to: (v) => v >= n,
    less_than_or_equal_to: (v) => v <= n,
  };
  const test = compare[c.op] ?? unknownCondition(path, c);
  return (page) => {
    const v = read(page);
    return v == null ? c.op === "does_not_equal" : test(v);
  };
}

function booleanOperand(path: string, c: Condition): boolean {
  if (c.op !== "equals" && c.op !== "does_not_equal") unknownCondition(path, c);
  if (typeof c.operand !== "boolean") throw bodyInvalid(`${path}.${c.op}`, "should be a boolean", c.operand);
  return c.operand;
}

function optionPredicate(path: string, c: Condition, names: (page: PageView) => string[], multi: boolean): Predicate {
  if (c.op === "is_empty" || c.op === "is_not_empty") return emptinessPredicate(path, c, (page) => names(page).length === 0);
  const name = expectString(`${path}.${c.op}`, c.operand);
  const positive = multi ? "contains" : "equals";
  const negative = multi ? "does_not_contain" : "does_not_equal";
  if (c.op === positive) return (page) => names(page).includes(name);
  if (c.op === negative) return (page) => !names(page).includes(name);
  return unknownCondition(path, c);
}

function idListPredicate(path: string, c: Condition, ids: (page: PageView) => string[]): Predicate {
  if (c.op === "is_empty" || c.op === "is_not_empty") return emptinessPredicate(path, c, (page) => ids(page).length === 0);
  const wanted = expectString(`${path}.${c.op}`, c.operand).replace(/-/g, "").toLowerCase();
  const has = (page: PageView) => ids(page).some((id) => id.replace(/-/g, "") === wanted);
  if (c.op === "contains") return has;
  if (c.op === "does_not_contain") return (page) => !has(page);
  return unknownCondition(path, c);
}

/** Date conditions; a date-only operand covers that whole UTC day. */
function dateCondition(path: string, raw: unknown): (value: string | null) => boolean {
  const c = singleCondition(path, raw);
  if (c.op === "is_empty") return (v) => v === null;
  if (c.op === "is_not_empty") return (v) => v !== null;
  const relative: Record<string, [number, number]> = {
    past_week: [-7, 0], past_month: [-30, 0], past_year: [-365, 0], next_week: [0, 7], next_month: [0, 30], next_year: [0, 365], this_week: [-7, 7],
  };
  const span = relative[c.op];
  if (span) {
    return (v) => {
      if (v === null) return false;
      const t = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
      return t >= Date.now() + span[0] * DAY && t <= Date.now() + span[1] * DAY;
    };
  }
  const operand = expectString(`${path}.${c.op}`, c.operand);
  const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(operand);
  const from = Date.parse(dayOnly ? `${operand}T00:00:00Z` : operand);
  if (Number.isNaN(from)) throw bodyInvalid(`${path}.${c.op}`, "should be a valid ISO 8601 date string", operand);
  const to = dayOnly ? from + DAY : from + 1;
  const compare: Record<string, (t: number) => boolean> = {
    equals: (t) => t >= from && t < to,
    before: (t) => t < from,
    after: (t) => t >= to,
    on_or_before: (t) => t < to,
    on_or_after: (t) => t >= from,
  };
  const test = compare[c.op] ?? unknownCondition(path, c);
  return (v) => v !== null && test(Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v));
}

/** Sort keys for `sorts`: `[{property, direction}]` or `[{timestamp, direction}]`. */
export function compileSorts(path: string, raw: unknown, schema: readonly PropertySchema[]): ((a: PageView, b: PageView) => number) | null {
  if (raw === undefined) return null;
  const sorts = expectArray(path, raw).map((item, i) => {
    const sort = expectObject(`${path}[${i}]`, item);
    const direction = sort.direction === undefined ? "ascending" : expectString(`${path}[${i}].direction`, sort.direction);
    if (direction !== "ascending" && direction !== "descending") throw bodyInvalid(`${path}[${i}].direction`, 'should be `"ascending"` or `"descending"`', direction);
    const sign = direction === "ascending" ? 1 : -1;
    let key: (page: PageView) => string | number;
    if (sort.timestamp !== undefined) {
      const kind = expectString(`${path}[${i}].timestamp`, sort.timestamp);
      if (kind !== "created_time" && kind !== "last_edited_time") throw bodyInvalid(`${path}[${i}].timestamp`, 'should be `"created_time"` or `"last_edited_time"`', kind);
      key = (page) => (kind === "created_time" ? page.createdTime : page.lastEditedTime);
    } else {
      const name = expectString(`${path}[${i}].property`, sort.property);
      const property = findProperty(schema, name);
      if (!property) throw validationError(`Could not find sort property with name or id: ${name}`);
      key = (page) => sortKey(property, page);
    }
    return { key, sign };
  });
  return (a, b) => {
    for (const { key, sign } of sorts) {
      const x = key(a);
      const y = key(b);
      if (x < y) return -sign;
      if (x > y) return sign;
    }
    return 0;
  };
}

function sortKey(property: PropertySchema, page: PageView): string | number {
  const stored = page.values[property.id];
  switch (property.type) {
    case "number":
      return typeof stored === "number" ? stored : Number.POSITIVE_INFINITY;
    case "checkbox":
      return stored === true ? 1 : 0;
    case "date":
      return (stored as { start: string } | null | undefined)?.start ?? "\uffff";
    case "created_time":
      return page.createdTime;
    case "last_edited_time":
      return page.lastEditedTime;
    case "select":
    case "status":
      return (stored as SelectOption | null | undefined)?.name ?? "\uffff";
    default:
      return textOf(property.type, stored).toLowerCase() || "\uffff";
  }
}
