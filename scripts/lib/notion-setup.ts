/**
 * The Notion part of `setup`: the Calls and Messages databases and their relation to the Canvas database.
 *
 * - Databases it made before are found again under the parent page (a child database titled "Calls" or "Messages"
 *   that holds the unique id property), so running it twice creates nothing twice.
 * - Missing properties are added to existing databases; a property of another type is reported and left alone.
 * - The Canvas relation is two-way unless `backlinks` is off: Notion then keeps a "Calls" and a "Messages" column on
 *   every Canvas page. That changes the user's own Canvas schema, so the change is first handed to
 *   `confirmCanvasChange` (the CLI shows it and asks) and only made when it says yes.
 */
import { Client } from "@notionhq/client";
import { type DatabaseKind, type PropertySpec, resolvePropertyNames, SCHEMAS, uniqueProperty } from "../../src/notion/schema.ts";

export interface NotionSetupOptions {
  token: string;
  baseUrl?: string;
  /** Where new databases are created, and where the databases of an earlier run are looked for. */
  parentPageId?: string;
  /** Existing databases to extend instead of creating new ones. */
  callsDatabaseId?: string;
  messagesDatabaseId?: string;
  canvasDatabaseId?: string;
  propertyMap?: Record<string, string>;
  /** Two-way Canvas relations ("Calls" and "Messages" columns on Canvas pages). Default on. */
  backlinks?: boolean;
  /** Asked before the Canvas schema is changed; without it the change is made. */
  confirmCanvasChange?: (changes: CanvasChange[]) => Promise<boolean>;
}

/** A column Notion would add to the Canvas database, mirroring one of our relations. */
export interface CanvasChange {
  kind: DatabaseKind;
  /** The relation property in Calls or Messages. */
  relation: string;
  /** The column it gets on Canvas pages. */
  backlink: string;
  /** The relation exists one-way and is turned two-way (otherwise it is new). */
  upgrade: boolean;
}

export interface DatabaseSetup {
  kind: DatabaseKind;
  databaseId: string;
  dataSourceId: string;
  created: boolean;
  /** Found under the parent page from an earlier run (no id was given). */
  found: boolean;
  /** Properties added (by their name in Notion). */
  added: string[];
  /** Properties that exist with another type, left alone (`name: expected, found`). */
  mismatched: string[];
}

export interface NotionSetupResult {
  calls: DatabaseSetup;
  messages: DatabaseSetup;
  canvasDataSourceId?: string;
  /** Canvas columns made (or, on a first run, created with the databases). */
  canvasChanges: CanvasChange[];
  /** Canvas columns offered and declined. */
  canvasDeclined: CanvasChange[];
  /** Why a back-link could not be made (a Canvas property already has the name). */
  canvasBlocked: string[];
  backlinks: boolean;
}

export const DATABASE_TITLES: Record<DatabaseKind, string> = { calls: "Calls", messages: "Messages" };

type Notion = Client;
interface SchemaProperty {
  id: string;
  type: string;
  relation?: { data_source_id: string; type?: string; dual_property?: { synced_property_id?: string | null } };
}

function client(options: NotionSetupOptions): Notion {
  return new Client({ auth: options.token, baseUrl: options.baseUrl, notionVersion: "2025-09-03" });
}

async function dataSourceOf(notion: Notion, databaseId: string): Promise<string> {
  const database = (await notion.databases.retrieve({ database_id: databaseId })) as { data_sources?: { id: string }[] };
  const id = database.data_sources?.[0]?.id;
  if (!id) throw new Error(`Notion database ${databaseId} has no data source (is it shared with the integration?)`);
  return id;
}

async function schemaOf(notion: Notion, dataSourceId: string): Promise<Record<string, SchemaProperty>> {
  return ((await notion.dataSources.retrieve({ data_source_id: dataSourceId })) as unknown as { properties: Record<string, SchemaProperty> }).properties;
}

/** Child databases of the parent page, by title, read page by page. */
async function childDatabases(notion: Notion, parentPageId: string): Promise<{ id: string; title: string }[]> {
  const found: { id: string; title: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = (await notion.blocks.children.list({ block_id: parentPageId, page_size: 100, ...(cursor && { start_cursor: cursor }) })) as unknown as {
      results: { id: string; type: string; child_database?: { title: string } }[];
      has_more: boolean;
      next_cursor: string | null;
    };
    for (const block of page.results) if (block.type === "child_database") found.push({ id: block.id, title: block.child_database?.title ?? "" });
    cursor = page.has_more && page.next_cursor ? page.next_cursor : undefined;
  } while (cursor);
  return found;
}

/** The database an earlier run made under the parent: titled as we title it and holding our unique id property. */
async function findEarlierDatabase(notion: Notion, kind: DatabaseKind, parentPageId: string, children: { id: string; title: string }[], names: Record<string, string>): Promise<string | undefined> {
  const ours: string[] = [];
  for (const child of children.filter((c) => c.title === DATABASE_TITLES[kind])) {
    const schema = await schemaOf(notion, await dataSourceOf(notion, child.id));
    if (schema[names[uniqueProperty(kind)]!]) ours.push(child.id);
  }
  if (ours.length > 1) {
    throw new Error(`the parent page ${parentPageId} holds ${ours.length} ${DATABASE_TITLES[kind]} databases made by setup (${ours.join(", ")}); pass the one to keep with --${kind} <id> and archive the others`);
  }
  return ours[0];
}

function propertyConfig(spec: PropertySpec, relation: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  switch (spec.type) {
    case "select":
      return { select: { options: (spec.options ?? []).map((name) => ({ name })) } };
    case "relation":
      return relation ? { relation } : undefined;
    default:
      return { [spec.type]: {} };
  }
}

interface Plan {
  kind: DatabaseKind;
  names: Record<string, string>;
  existingId?: string;
  found: boolean;
  dataSourceId?: string;
  schema?: Record<string, SchemaProperty>;
  /** What the Canvas relation needs: nothing, to be created, or to become two-way. */
  relation: "none" | "present" | "create" | "upgrade";
}

async function planDatabase(notion: Notion, kind: DatabaseKind, options: NotionSetupOptions, givenId: string | undefined, children: { id: string; title: string }[] | undefined, canvasDataSourceId: string | undefined): Promise<Plan> {
  const names = resolvePropertyNames(kind, options.propertyMap ?? {});
  const foundId = !givenId && children && options.parentPageId ? await findEarlierDatabase(notion, kind, options.parentPageId, children, names) : undefined;
  const existingId = givenId ?? foundId;
  if (!existingId) return { kind, names, found: false, relation: canvasDataSourceId ? "create" : "none" };
  const dataSourceId = await dataSourceOf(notion, existingId);
  const schema = await schemaOf(notion, dataSourceId);
  const current = schema[names["Canvas"]!];
  let relation: Plan["relation"] = "none";
  if (canvasDataSourceId) {
    if (!current) relation = "create";
    else if (current.type === "relation" && current.relation?.data_source_id === canvasDataSourceId && current.relation.type !== "dual_property") relation = "upgrade";
    else relation = "present";
  }
  return { kind, names, existingId, found: foundId !== undefined, dataSourceId, schema, relation };
}

/** Creates, finds or extends the Calls and Messages databases, and links them to the Canvas. */
export async function setupNotionDatabases(options: NotionSetupOptions): Promise<NotionSetupResult> {
  const notion = client(options);
  const backlinks = options.backlinks ?? true;
  const canvasDataSourceId = options.canvasDatabaseId ? await dataSourceOf(notion, options.canvasDatabaseId) : undefined;
  const needsSearch = options.parentPageId && (!options.callsDatabaseId || !options.messagesDatabaseId);
  const children = needsSearch ? await childDatabases(notion, options.parentPageId!) : undefined;
  const plans = [
    await planDatabase(notion, "calls", options, options.callsDatabaseId, children, canvasDataSourceId),
    await planDatabase(notion, "messages", options, options.messagesDatabaseId, children, canvasDataSourceId),
  ];

  // Which relations become two-way: those new or one-way, whose column name is free on the Canvas.
  const offered: CanvasChange[] = [];
  const blocked: string[] = [];
  if (backlinks && canvasDataSourceId) {
    const canvas = await schemaOf(notion, canvasDataSourceId);
    for (const plan of plans) {
      if (plan.relation !== "create" && plan.relation !== "upgrade") continue;
      const backlink = DATABASE_TITLES[plan.kind];
      const taken = canvas[backlink];
      if (taken) {
        blocked.push(`the Canvas database already has a property "${backlink}" (${taken.type}), so ${DATABASE_TITLES[plan.kind]}.${plan.names["Canvas"]} stays one-way: rename that property and run setup again`);
        continue;
      }
      offered.push({ kind: plan.kind, relation: plan.names["Canvas"]!, backlink, upgrade: plan.relation === "upgrade" });
    }
  }
  const accepted = offered.length === 0 || !options.confirmCanvasChange || (await options.confirmCanvasChange(offered));
  const twoWay = new Set(accepted ? offered.map((c) => c.kind) : []);

  const [calls, messages] = [
    await applyPlan(notion, plans[0]!, options, canvasDataSourceId, offered.find((c) => c.kind === "calls" && twoWay.has("calls"))),
    await applyPlan(notion, plans[1]!, options, canvasDataSourceId, offered.find((c) => c.kind === "messages" && twoWay.has("messages"))),
  ];
  return {
    calls,
    messages,
    canvasDataSourceId,
    canvasChanges: accepted ? offered : [],
    canvasDeclined: accepted ? [] : offered,
    canvasBlocked: blocked,
    backlinks,
  };
}

async function applyPlan(notion: Notion, plan: Plan, options: NotionSetupOptions, canvasDataSourceId: string | undefined, change: CanvasChange | undefined): Promise<DatabaseSetup> {
  const relationConfig = canvasDataSourceId
    ? change
      ? { data_source_id: canvasDataSourceId, dual_property: { synced_property_name: change.backlink } }
      : { data_source_id: canvasDataSourceId, single_property: {} }
    : undefined;
  const wanted = SCHEMAS[plan.kind]
    .map((spec) => [plan.names[spec.name]!, spec, propertyConfig(spec, relationConfig)] as const)
    .filter((entry): entry is readonly [string, PropertySpec, Record<string, unknown>] => entry[2] !== undefined);
  const { kind } = plan;
  if (!plan.existingId) {
    if (!options.parentPageId) throw new Error(`No ${DATABASE_TITLES[kind]} database id and no parent page id: give one or the other`);
    const created = (await notion.databases.create({
      parent: { type: "page_id", page_id: options.parentPageId },
      title: [{ type: "text", text: { content: DATABASE_TITLES[kind] } }],
      initial_data_source: { properties: Object.fromEntries(wanted.map(([name, , config]) => [name, config])) },
    } as unknown as Parameters<Client["databases"]["create"]>[0])) as { id: string; data_sources?: { id: string }[] };
    const dataSourceId = created.data_sources?.[0]?.id ?? (await dataSourceOf(notion, created.id));
    return { kind, databaseId: created.id, dataSourceId, created: true, found: false, added: wanted.map(([name]) => name), mismatched: [] };
  }
  const schema = plan.schema!;
  const changes: Record<string, unknown> = {};
  const added: string[] = [];
  const mismatched: string[] = [];
  const existingTitle = Object.entries(schema).find(([, p]) => p.type === "title")?.[0];
  for (const [name, spec, config] of wanted) {
    const found = schema[name];
    if (found && found.type !== spec.type) mismatched.push(`${name}: expected ${spec.type}, found ${found.type}`);
    else if (!found && spec.type === "title") mismatched.push(`${name}: the title property is named "${existingTitle}"; map it with NOTION_PROPERTY_MAP {"${DATABASE_TITLES[kind]}.${spec.name}": "${existingTitle}"}`);
    else if (!found) {
      changes[name] = config;
      added.push(name);
    } else if (spec.type === "relation" && found.relation?.data_source_id !== canvasDataSourceId) {
      mismatched.push(`${name}: relates to data source ${found.relation?.data_source_id}, not the Canvas ${canvasDataSourceId}`);
    } else if (spec.type === "relation" && change?.upgrade) {
      changes[name] = config;
    }
  }
  if (Object.keys(changes).length > 0) {
    await notion.dataSources.update({ data_source_id: plan.dataSourceId!, properties: changes } as unknown as Parameters<Client["dataSources"]["update"]>[0]);
  }
  return { kind, databaseId: plan.existingId, dataSourceId: plan.dataSourceId!, created: false, found: plan.found, added, mismatched };
}

/** The Canvas columns a run would add, as lines shown before asking. */
export function describeCanvasChanges(changes: CanvasChange[]): string[] {
  return changes.map((c) =>
    c.upgrade
      ? `~ Canvas: add the column "${c.backlink}" by making ${DATABASE_TITLES[c.kind]}.${c.relation} two-way (Notion fills it with the ${DATABASE_TITLES[c.kind].toLowerCase()} already linked)`
      : `+ Canvas: add the column "${c.backlink}", the other side of ${DATABASE_TITLES[c.kind]}.${c.relation} (Notion keeps it in step)`,
  );
}

/** The setup result as lines a person reads. */
export function describeNotionSetup(result: NotionSetupResult): string[] {
  const lines: string[] = [];
  let changed = result.canvasChanges.length > 0;
  for (const db of [result.calls, result.messages]) {
    const title = DATABASE_TITLES[db.kind];
    const where = db.found ? " (found under the parent page)" : "";
    if (db.created) lines.push(`+ created the ${title} database ${db.databaseId} with ${db.added.length} properties`);
    else if (db.added.length > 0) lines.push(`~ ${title} database ${db.databaseId}${where}: added ${db.added.map((n) => `"${n}"`).join(", ")}`);
    else lines.push(`= ${title} database ${db.databaseId}${where}: every property is present`);
    if (db.created || db.added.length > 0) changed = true;
    for (const m of db.mismatched) lines.push(`! ${title}: ${m}`);
  }
  for (const c of result.canvasChanges) lines.push(c.upgrade ? `~ Canvas: made ${DATABASE_TITLES[c.kind]}.${c.relation} two-way; Canvas pages now show "${c.backlink}"` : `+ Canvas: pages show "${c.backlink}" (two-way relation from ${DATABASE_TITLES[c.kind]}.${c.relation})`);
  for (const c of result.canvasDeclined) lines.push(`- Canvas: left as it is; ${DATABASE_TITLES[c.kind]}.${c.relation} stays one-way (run setup again to add "${c.backlink}")`);
  for (const b of result.canvasBlocked) lines.push(`! ${b}`);
  if (!result.canvasDataSourceId) lines.push("! no Canvas database given: the Canvas relation was not created (set NOTION_CANVAS_DATABASE_ID)");
  else if (!result.backlinks) lines.push("= Canvas: back-links off (--no-backlinks); the Canvas schema was not touched");
  if (!changed) lines.push("nothing to change");
  return lines;
}
