/**
 * Property schemas of data sources: parsing the configurations a request sends (create a database or data source,
 * update a data source) and answering them in Notion's shape.
 */
import { bodyInvalid, validationError } from "./errors.ts";
import type { IdSource } from "./ids.ts";
import { normalizeId } from "./ids.ts";
import type { PropertySchema, RelationConfig, SelectOption } from "./model.ts";
import { checkLength, expectArray, expectObject, expectString } from "./rich-text.ts";

export const SCHEMA_TYPES = [
  "title", "rich_text", "number", "select", "multi_select", "status", "date", "people", "files", "checkbox", "url",
  "email", "phone_number", "relation", "created_time", "created_by", "last_edited_time", "last_edited_by",
] as const;

/** Types whose values Notion computes; pages may not set them. */
export const READ_ONLY_TYPES = new Set(["created_time", "created_by", "last_edited_time", "last_edited_by"]);

const COLORS = ["default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red"];

export function optionColor(index: number): string {
  return COLORS[index % COLORS.length]!;
}

/** A new property's type and configuration; relations come back with `wantsDual` for the caller to wire both ends. */
export interface ParsedSchema {
  type: string;
  config: Record<string, unknown>;
  wantsDual: boolean;
  /** `dual_property.synced_property_name`: what to call the mirror on the other data source. */
  syncedName?: string;
}

export interface SchemaContext {
  ids: IdSource;
  /** The database holding a data source, or undefined when the integration cannot see it. */
  databaseOfDataSource(dataSourceId: string): string | undefined;
}

/** The type key a schema request names: `{type: "x", x: {...}}` or just `{x: {...}}`. */
export function schemaTypeOf(path: string, raw: Record<string, unknown>): string {
  const declared = typeof raw.type === "string" ? raw.type : SCHEMA_TYPES.find((type) => raw[type] !== undefined);
  if (!declared || !(SCHEMA_TYPES as readonly string[]).includes(declared)) {
    throw validationError(
      `body failed validation: ${path} should be a property schema of one of the types ${SCHEMA_TYPES.join(", ")}, instead was \`${JSON.stringify(raw).slice(0, 100)}\`.`,
    );
  }
  return declared;
}

export function parseSchema(path: string, raw: Record<string, unknown>, context: SchemaContext): ParsedSchema {
  const type = schemaTypeOf(path, raw);
  const body = raw[type] === undefined ? {} : expectObject(`${path}.${type}`, raw[type]);
  switch (type) {
    case "number":
      return { type, config: { format: body.format === undefined ? "number" : expectString(`${path}.number.format`, body.format) }, wantsDual: false };
    case "select":
    case "multi_select":
      return { type, config: { options: parseOptions(`${path}.${type}.options`, body.options, [], context.ids) }, wantsDual: false };
    case "status":
      return { type, config: defaultStatusConfig(context.ids), wantsDual: false };
    case "relation":
      return parseRelation(`${path}.relation`, body, context);
    default:
      return { type, config: {}, wantsDual: false };
  }
}

function parseRelation(path: string, body: Record<string, unknown>, context: SchemaContext): ParsedSchema {
  const rawId = body.data_source_id ?? body.database_id;
  const given = expectString(`${path}.data_source_id`, rawId);
  const dataSourceId = normalizeId(given);
  const databaseId = dataSourceId ? context.databaseOfDataSource(dataSourceId) : undefined;
  if (!dataSourceId || !databaseId) throw validationError(`Could not find data source with ID: ${given}. Make sure the relevant pages and databases are shared with your integration.`);
  const wantsDual = body.dual_property !== undefined || body.type === "dual_property";
  if (wantsDual && body.single_property !== undefined) throw validationError(`body failed validation: ${path} should have one of single_property or dual_property, not both.`);
  const dual = wantsDual && body.dual_property !== undefined ? expectObject(`${path}.dual_property`, body.dual_property) : {};
  let syncedName: string | undefined;
  if (dual.synced_property_name !== undefined) {
    syncedName = expectString(`${path}.dual_property.synced_property_name`, dual.synced_property_name);
    if (syncedName.trim() === "") throw bodyInvalid(`${path}.dual_property.synced_property_name`, "should not be empty", syncedName);
    checkLength(`${path}.dual_property.synced_property_name`, syncedName, 100);
  }
  const config: RelationConfig = { data_source_id: dataSourceId, database_id: databaseId, type: wantsDual ? "dual_property" : "single_property" };
  return { type: "relation", config: { ...config }, wantsDual, ...(syncedName !== undefined && { syncedName }) };
}

/** Select options as requested: existing ones matched by id or name keep their ids; the list replaces the old one. */
export function parseOptions(path: string, raw: unknown, existing: SelectOption[], ids: IdSource): SelectOption[] {
  if (raw === undefined) return [];
  return expectArray(path, raw).map((item, index) => {
    const option = expectObject(`${path}[${index}]`, item);
    const byId = typeof option.id === "string" ? existing.find((o) => o.id === option.id) : undefined;
    const name = option.name === undefined && byId ? byId.name : expectString(`${path}[${index}].name`, option.name);
    checkOptionName(`${path}[${index}].name`, name);
    const known = byId ?? existing.find((o) => o.name === name);
    const color = typeof option.color === "string" ? option.color : (known?.color ?? optionColor(index));
    return { id: known?.id ?? ids.propertyId(), name, color, description: null };
  });
}

export function checkOptionName(path: string, name: string): void {
  if (name.includes(",")) throw bodyInvalid(path, "should not contain commas", name);
  checkLength(path, name, 100);
}

function defaultStatusConfig(ids: IdSource): Record<string, unknown> {
  const option = (name: string, color: string): SelectOption => ({ id: ids.propertyId(), name, color, description: null });
  const notStarted = option("Not started", "default");
  const inProgress = option("In progress", "blue");
  const done = option("Done", "green");
  return {
    options: [notStarted, inProgress, done],
    groups: [
      { id: ids.propertyId(), name: "To-do", color: "gray", option_ids: [notStarted.id] },
      { id: ids.propertyId(), name: "In progress", color: "blue", option_ids: [inProgress.id] },
      { id: ids.propertyId(), name: "Complete", color: "green", option_ids: [done.id] },
    ],
  };
}

export function findProperty(properties: readonly PropertySchema[], nameOrId: string): PropertySchema | undefined {
  return properties.find((p) => p.name === nameOrId) ?? properties.find((p) => p.id === nameOrId || encodeURIComponent(p.id) === nameOrId);
}

/** One schema property as `GET /v1/data_sources/{id}` answers it. */
export function serializeSchema(schema: PropertySchema, nameOf: (dataSourceId: string, propertyId: string) => string | undefined): Record<string, unknown> {
  let config: Record<string, unknown> = schema.config;
  if (schema.type === "relation") {
    const relation = schema.config as unknown as RelationConfig;
    config = { database_id: relation.database_id, data_source_id: relation.data_source_id, type: relation.type };
    if (relation.type === "dual_property") {
      config.dual_property = {
        synced_property_id: relation.synced_property_id ?? null,
        synced_property_name: relation.synced_property_id ? (nameOf(relation.data_source_id, relation.synced_property_id) ?? null) : null,
      };
    } else {
      config.single_property = {};
    }
  }
  return { id: schema.id, name: schema.name, type: schema.type, description: null, [schema.type]: config };
}
