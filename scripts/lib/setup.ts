/**
 * What `npm run setup` does, as functions the sandbox and the end-to-end tests call in-process:
 * - create the Calls and Messages databases under a parent page from the declarative schema (with the relation to
 *   the Canvas database), or add the missing properties to existing ones, and describe the difference;
 * - check the OpenPhone key and list the lines;
 * - register the OpenPhone webhooks (calls, messages, call summaries, call transcripts) for the Worker's URL and
 *   return their signing keys. An existing registration for the same URL and events is reused, so running setup
 *   twice registers nothing twice.
 */
import { Client } from "@notionhq/client";
import { type DatabaseKind, type PropertySpec, resolvePropertyNames, SCHEMAS } from "../../src/notion/schema.ts";
import { WEBHOOK_FAMILIES } from "../../src/openphone/webhook-families.ts";

export interface NotionSetupOptions {
  token: string;
  baseUrl?: string;
  /** Where new databases are created. */
  parentPageId?: string;
  /** Existing databases to extend instead of creating new ones. */
  callsDatabaseId?: string;
  messagesDatabaseId?: string;
  canvasDatabaseId?: string;
  propertyMap?: Record<string, string>;
}

export interface DatabaseSetup {
  kind: DatabaseKind;
  databaseId: string;
  dataSourceId: string;
  created: boolean;
  /** Properties added (by their name in Notion). */
  added: string[];
  /** Properties that exist with another type, left alone (`name: expected, found`). */
  mismatched: string[];
}

export interface NotionSetupResult {
  calls: DatabaseSetup;
  messages: DatabaseSetup;
  canvasDataSourceId?: string;
}

const TITLES: Record<DatabaseKind, string> = { calls: "Calls", messages: "Messages" };

function propertyConfig(spec: PropertySpec, canvasDataSourceId: string | undefined): Record<string, unknown> | undefined {
  switch (spec.type) {
    case "select":
      return { select: { options: (spec.options ?? []).map((name) => ({ name })) } };
    case "relation":
      return canvasDataSourceId ? { relation: { data_source_id: canvasDataSourceId, single_property: {} } } : undefined;
    default:
      return { [spec.type]: {} };
  }
}

async function dataSourceOf(notion: Client, databaseId: string): Promise<string> {
  const database = (await notion.databases.retrieve({ database_id: databaseId })) as { data_sources?: { id: string }[] };
  const id = database.data_sources?.[0]?.id;
  if (!id) throw new Error(`Notion database ${databaseId} has no data source (is it shared with the integration?)`);
  return id;
}

async function ensureDatabase(notion: Client, kind: DatabaseKind, options: NotionSetupOptions, existingId: string | undefined, canvasDataSourceId: string | undefined): Promise<DatabaseSetup> {
  const names = resolvePropertyNames(kind, options.propertyMap ?? {});
  const wanted = SCHEMAS[kind]
    .map((spec) => [names[spec.name]!, spec, propertyConfig(spec, canvasDataSourceId)] as const)
    .filter((entry): entry is readonly [string, PropertySpec, Record<string, unknown>] => entry[2] !== undefined);
  if (!existingId) {
    if (!options.parentPageId) throw new Error(`No ${TITLES[kind]} database id and no parent page id: give one or the other`);
    const properties = Object.fromEntries(wanted.map(([name, , config]) => [name, config]));
    const created = (await notion.databases.create({
      parent: { type: "page_id", page_id: options.parentPageId },
      title: [{ type: "text", text: { content: TITLES[kind] } }],
      initial_data_source: { properties },
    } as unknown as Parameters<Client["databases"]["create"]>[0])) as { id: string; data_sources?: { id: string }[] };
    const dataSourceId = created.data_sources?.[0]?.id ?? (await dataSourceOf(notion, created.id));
    return { kind, databaseId: created.id, dataSourceId, created: true, added: wanted.map(([name]) => name), mismatched: [] };
  }
  const dataSourceId = await dataSourceOf(notion, existingId);
  const source = (await notion.dataSources.retrieve({ data_source_id: dataSourceId })) as { properties: Record<string, { type: string }> };
  const missing: Record<string, unknown> = {};
  const mismatched: string[] = [];
  const existingTitle = Object.entries(source.properties).find(([, p]) => p.type === "title")?.[0];
  for (const [name, spec, config] of wanted) {
    const found = source.properties[name];
    if (found && found.type !== spec.type) mismatched.push(`${name}: expected ${spec.type}, found ${found.type}`);
    else if (!found && spec.type === "title") mismatched.push(`${name}: the title property is named "${existingTitle}"; map it with NOTION_PROPERTY_MAP {"${TITLES[kind]}.${spec.name}": "${existingTitle}"}`);
    else if (!found) missing[name] = config;
  }
  if (Object.keys(missing).length > 0) {
    await notion.dataSources.update({ data_source_id: dataSourceId, properties: missing } as unknown as Parameters<Client["dataSources"]["update"]>[0]);
  }
  return { kind, databaseId: existingId, dataSourceId, created: false, added: Object.keys(missing), mismatched };
}

/** Creates or extends the Calls and Messages databases. */
export async function setupNotionDatabases(options: NotionSetupOptions): Promise<NotionSetupResult> {
  const notion = new Client({ auth: options.token, baseUrl: options.baseUrl, notionVersion: "2025-09-03" });
  const canvasDataSourceId = options.canvasDatabaseId ? await dataSourceOf(notion, options.canvasDatabaseId) : undefined;
  const calls = await ensureDatabase(notion, "calls", options, options.callsDatabaseId, canvasDataSourceId);
  const messages = await ensureDatabase(notion, "messages", options, options.messagesDatabaseId, canvasDataSourceId);
  return { calls, messages, canvasDataSourceId };
}

/** The setup result as lines a person reads. */
export function describeNotionSetup(result: NotionSetupResult): string[] {
  const lines: string[] = [];
  for (const db of [result.calls, result.messages]) {
    const title = TITLES[db.kind];
    if (db.created) lines.push(`+ created the ${title} database ${db.databaseId} with ${db.added.length} properties`);
    else if (db.added.length > 0) lines.push(`~ ${title} database ${db.databaseId}: added ${db.added.map((n) => `"${n}"`).join(", ")}`);
    else lines.push(`= ${title} database ${db.databaseId}: every property is present`);
    for (const m of db.mismatched) lines.push(`! ${title}: ${m}`);
  }
  if (!result.canvasDataSourceId) lines.push("! no Canvas database given: the Canvas relation was not created (set NOTION_CANVAS_DATABASE_ID)");
  return lines;
}

export interface OpenPhoneOptions {
  apiKey: string;
  baseUrl?: string;
}

export interface OpenPhoneLine {
  id: string;
  number: string;
  name: string;
}

async function openPhoneRequest<T>(options: OpenPhoneOptions, method: string, path: string, body?: unknown): Promise<T> {
  const base = (options.baseUrl ?? "https://api.openphone.com").replace(/\/+$/, "");
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: options.apiKey, Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) {
    const message = (() => {
      try {
        return (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        return text;
      }
    })();
    throw new Error(`OpenPhone ${method} ${path} answered ${response.status}${response.status === 401 ? " (check OPENPHONE_API_KEY)" : ""}: ${message.slice(0, 300)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Checks the key by listing the workspace's lines. */
export async function listOpenPhoneLines(options: OpenPhoneOptions): Promise<OpenPhoneLine[]> {
  const { data } = await openPhoneRequest<{ data: OpenPhoneLine[] }>(options, "GET", "/v1/phone-numbers");
  return data.map((p) => ({ id: p.id, number: p.number, name: p.name }));
}

export { WEBHOOK_FAMILIES };

export interface RegisteredWebhook {
  id: string;
  events: string[];
  key: string;
  reused: boolean;
}

/** Registers (or reuses) one webhook per event family pointing at `url`; returns each one's signing key. */
export async function registerOpenPhoneWebhooks(options: OpenPhoneOptions & { url: string; label?: string }): Promise<RegisteredWebhook[]> {
  const { data: existing } = await openPhoneRequest<{ data: { id: string; url: string; events: string[]; key: string; status: string }[] }>(options, "GET", "/v1/webhooks");
  const registered: RegisteredWebhook[] = [];
  for (const family of WEBHOOK_FAMILIES) {
    const same = existing.find((w) => w.url === options.url && w.status === "enabled" && family.events.every((e) => w.events.includes(e)));
    if (same) {
      registered.push({ id: same.id, events: same.events, key: same.key, reused: true });
      continue;
    }
    const { data } = await openPhoneRequest<{ data: { id: string; events: string[]; key: string } }>(options, "POST", family.path, {
      url: options.url,
      events: family.events,
      resourceIds: ["*"],
      label: options.label ?? "Notion sync",
    });
    registered.push({ id: data.id, events: data.events, key: data.key, reused: false });
  }
  return registered;
}
