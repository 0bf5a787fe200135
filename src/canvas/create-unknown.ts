/**
 * Optional (CANVAS_CREATE_UNKNOWN): a Canvas page for a number no customer has, named after the OpenPhone contact
 * with that number when there is one, else after the number. The page enters the index at once, so the next call
 * from that number finds it without asking Notion.
 *
 * Runs inside the Canvas index Durable Object, one at a time, so two lines seeing the same new number at once do
 * not create two customers.
 */
import type { Client } from "@notionhq/client";
import type { Config } from "../config";
import { lookupIndex, readCanvasState, replacePageStatements, runBatched, writeCanvasState } from "../db/canvas-index";
import type { OpenPhoneClient } from "../openphone/client";
import { indexKey, normalizePhone } from "./normalize";
import { resolveRowSource } from "./notion-source";

/** OpenPhone has no search by number: read at most this many contacts (50 per request) looking for one. */
const CONTACT_SCAN_LIMIT = 500;

interface CanvasSchema {
  titleProperty: string;
  phoneProperty: string;
  phoneType: string;
}

export async function createCanvasPageForUnknown(
  notion: Client,
  openphone: OpenPhoneClient | undefined,
  db: D1Database,
  config: Config,
  phone: string,
  now = Date.now(),
): Promise<string | null> {
  const databaseId = config.NOTION_CANVAS_DATABASE_ID;
  if (!databaseId) return null;
  const key = indexKey(phone);
  const existing = (await lookupIndex(db, [key])).get(key);
  if (existing) return existing;

  const source = await resolveRowSource(notion, db, config, databaseId);
  const schema = await canvasSchema(notion, db, config, source.dataSourceId ?? databaseId, Boolean(source.dataSourceId));
  const name = (openphone ? await contactName(openphone, phone, config.DEFAULT_REGION) : null) ?? phone;
  const phoneValue =
    schema.phoneType === "phone_number"
      ? { phone_number: phone }
      : schema.phoneType === "email"
        ? undefined
        : { [schema.phoneType]: [{ type: "text", text: { content: phone } }] };
  if (!phoneValue) throw new Error(`Canvas property ${schema.phoneProperty} is an email property; cannot store a phone number in it`);
  const page = (await notion.pages.create({
    parent: source.dataSourceId ? { type: "data_source_id", data_source_id: source.dataSourceId } : { type: "database_id", database_id: databaseId },
    properties: {
      [schema.titleProperty]: { title: [{ type: "text", text: { content: name } }] },
      [schema.phoneProperty]: phoneValue,
    } as never,
  })) as { id: string; last_edited_time?: string };
  const record = {
    pageId: page.id,
    title: name,
    lastEditedTime: page.last_edited_time ?? new Date(now).toISOString(),
    company: null,
    removed: false,
    entries: [{ key, property: schema.phoneProperty, raw: phone }],
    unparsed: [],
    missingProperties: [],
  };
  const version = Number((await readCanvasState(db, ["index_version"])).index_version ?? 0) + 1;
  await runBatched(db, [...replacePageStatements(db, record, new Set(), now), writeCanvasState(db, "index_version", String(version))]);
  return page.id;
}

async function canvasSchema(notion: Client, db: D1Database, config: Config, id: string, isDataSource: boolean): Promise<CanvasSchema> {
  const cached = (await readCanvasState(db, ["canvas_schema"])).canvas_schema;
  if (cached) return JSON.parse(cached) as CanvasSchema;
  const object = (isDataSource ? await notion.dataSources.retrieve({ data_source_id: id }) : await notion.databases.retrieve({ database_id: id })) as {
    properties?: Record<string, { type: string }>;
  };
  const properties = object.properties ?? {};
  const titleProperty = config.CANVAS_TITLE_PROPERTY ?? Object.entries(properties).find(([, p]) => p.type === "title")?.[0];
  const phoneProperty = config.CANVAS_PHONE_PROPERTIES[0] ?? Object.entries(properties).find(([, p]) => p.type === "phone_number")?.[0];
  if (!titleProperty || !phoneProperty || !properties[phoneProperty]) {
    throw new Error("cannot create Canvas pages: the Canvas has no title property or no phone property (CANVAS_PHONE_PROPERTIES)");
  }
  const schema = { titleProperty, phoneProperty, phoneType: properties[phoneProperty]!.type };
  await writeCanvasState(db, "canvas_schema", JSON.stringify(schema)).run();
  return schema;
}

async function contactName(openphone: OpenPhoneClient, phone: string, region: string): Promise<string | null> {
  let read = 0;
  for await (const contact of openphone.iterate("listContacts_v1", { maxResults: 50 })) {
    if (++read > CONTACT_SCAN_LIMIT) break;
    const fields = contact.defaultFields;
    if (!fields.phoneNumbers.some((p) => p.value !== null && normalizePhone(p.value, region) === phone)) continue;
    const name = [fields.firstName, fields.lastName].filter(Boolean).join(" ").trim();
    return name || fields.company || null;
  }
  return null;
}
