/**
 * Two-way relations (`dual_property`) as Notion keeps them: the synced property on the other data source, named as
 * asked or as Notion names it, filled from the links pages already hold, and removed with the relation's other end.
 * Page values of the synced property are kept in step by `pages.ts` (syncRelations).
 */
import { validationError } from "./errors.ts";
import type { DataSourceRecord, PropertySchema, RelationConfig } from "./model.ts";
import type { Workspace } from "./workspace.ts";

export interface DualRequest {
  schema: PropertySchema;
  syncedName?: string;
  path: string;
}

export function isMirrored(schema: PropertySchema): boolean {
  return schema.type === "relation" && (schema.config as unknown as RelationConfig).type === "dual_property" && (schema.config as unknown as RelationConfig).synced_property_id !== undefined;
}

/**
 * A requested mirror name must be free on the other data source (and not asked for twice): Notion keeps property
 * names unique per data source, so a clash is refused before anything changes.
 */
export function checkSyncedNames(ws: Workspace, sourceId: string, duals: DualRequest[]): void {
  const taken = new Map<string, Set<string>>();
  for (const { schema, syncedName, path } of duals) {
    if (syncedName === undefined) continue;
    const targetId = (schema.config as unknown as RelationConfig).data_source_id;
    const names = taken.get(targetId) ?? new Set(ws.dataSources.get(targetId)?.properties.map((p) => p.name) ?? []);
    taken.set(targetId, names);
    if (names.has(syncedName) || (targetId === sourceId && schema.name === syncedName)) {
      throw validationError(`${path}.relation.dual_property.synced_property_name: a property named ${syncedName} already exists in the related data source.`);
    }
    names.add(syncedName);
  }
}

/**
 * Gives a two-way relation its mirror on the other data source, named as requested or as Notion names it, and
 * fills the mirror from the links pages already hold (a one-way relation turned two-way keeps its links).
 */
export function addSyncedProperty(ws: Workspace, source: DataSourceRecord, schema: PropertySchema, requestedName?: string): void {
  const relation = schema.config as unknown as RelationConfig;
  const target = ws.dataSource(relation.data_source_id);
  const base = `Related to ${textOf(source.title) || "Untitled"} (${schema.name})`;
  let name = requestedName ?? base;
  for (let n = 2; requestedName === undefined && target.properties.some((p) => p.name === name); n++) name = `${base} ${n}`;
  const mirror: PropertySchema = {
    id: ws.ids.propertyId(),
    name,
    type: "relation",
    config: { data_source_id: source.id, database_id: source.databaseId, type: "dual_property", synced_property_id: schema.id },
  };
  target.properties.push(mirror);
  relation.synced_property_id = mirror.id;
  for (const page of ws.pages.values()) {
    if (page.parent.type !== "data_source_id" || page.parent.data_source_id !== source.id) continue;
    for (const otherId of (page.values[schema.id] as string[] | undefined) ?? []) {
      const other = ws.pages.get(otherId);
      if (!other) continue;
      const list = (other.values[mirror.id] as string[] | undefined) ?? [];
      if (!list.includes(page.id)) other.values[mirror.id] = [...list, page.id];
    }
  }
  target.lastEditedTime = ws.now();
}

/** A two-way relation made one-way (or removed) takes its mirror, and the mirror's values, with it. */
export function removeSyncedProperty(ws: Workspace, relation: RelationConfig): void {
  const target = ws.dataSources.get(relation.data_source_id);
  const mirrorId = relation.synced_property_id;
  if (!target || !mirrorId) return;
  target.properties = target.properties.filter((p) => p.id !== mirrorId);
  for (const page of ws.pages.values()) {
    if (page.parent.type === "data_source_id" && page.parent.data_source_id === target.id) delete page.values[mirrorId];
  }
  target.lastEditedTime = ws.now();
}

export function renameMirror(ws: Workspace, path: string, relation: RelationConfig, name: string): void {
  const target = ws.dataSource(relation.data_source_id);
  const mirror = target.properties.find((p) => p.id === relation.synced_property_id);
  if (!mirror || mirror.name === name) return;
  if (target.properties.some((p) => p !== mirror && p.name === name)) throw validationError(`${path}: a property named ${name} already exists in the related data source.`);
  mirror.name = name;
  target.lastEditedTime = ws.now();
}

function textOf(items: { plain_text: string }[]): string {
  return items.map((item) => item.plain_text).join("");
}
