/**
 * The Canvas lookup without the index (`CANVAS_INDEX_LOOKUP_ENABLED` off, the rollback): one Notion query per
 * participant, filtered on the Canvas's phone (or e-mail) properties, as a plain client would look a customer up.
 *
 * Stored numbers come in any format ("(415) 555-0100", "+1 415 555 0100"), so the query asks for pages whose phone
 * properties contain the number's last four digits, and each page returned is read as the index reads it
 * (readCanvasPage): the page whose normalised numbers include the participant's is the match. The Canvas's
 * property types are read once per lookup object (the filter's type must be the property's).
 */
import type { Client } from "@notionhq/client";
import type { Config } from "../config";
import { canvasReadSettings } from "./index-refresh";
import { readCanvasPage } from "./notion-page";
import { queryRows, withRowSource, type RowSource } from "./notion-source";

const TEXT_FILTER_TYPES = new Set(["title", "rich_text", "phone_number", "email", "url"]);

export class CanvasQueryLookup {
  private properties: Promise<Record<string, string>> | undefined;

  constructor(
    private readonly client: Client,
    private readonly db: D1Database,
    private readonly config: Config,
  ) {}

  /** The Canvas page of an index key (`phone:+1…` or `email:…`), or null when no page has it. */
  async find(indexKey: string): Promise<string | null> {
    const databaseId = this.config.NOTION_CANVAS_DATABASE_ID;
    if (!databaseId) return null;
    return withRowSource(this.client, this.db, this.config, databaseId, async (source) => {
      const types = await this.propertyTypes(source);
      const isPhone = indexKey.startsWith("phone:");
      const value = indexKey.slice(indexKey.indexOf(":") + 1);
      const configured = isPhone ? this.config.CANVAS_PHONE_PROPERTIES : this.config.CANVAS_EMAIL_PROPERTIES;
      const names = configured.length > 0 ? configured : Object.keys(types).filter((name) => types[name] === (isPhone ? "phone_number" : "email"));
      const needle = isPhone ? value.replace(/\D/g, "").slice(-4) : value;
      const conditions = names.filter((name) => TEXT_FILTER_TYPES.has(types[name] ?? "")).map((name) => ({ property: name, [types[name]!]: { contains: needle } }));
      if (conditions.length === 0) return null;
      const settings = canvasReadSettings(this.config);
      let cursor: string | undefined;
      do {
        const page = await queryRows(this.client, source, { filter: conditions.length === 1 ? conditions[0] : { or: conditions }, page_size: 100, ...(cursor ? { start_cursor: cursor } : {}) });
        for (const row of page.results) {
          if (readCanvasPage(row, settings).entries.some((entry) => entry.key === indexKey)) return row.id;
        }
        cursor = page.has_more && page.next_cursor ? page.next_cursor : undefined;
      } while (cursor);
      return null;
    });
  }

  private propertyTypes(source: RowSource): Promise<Record<string, string>> {
    this.properties ??= (async () => {
      const schema = (source.dataSourceId
        ? await this.client.dataSources.retrieve({ data_source_id: source.dataSourceId })
        : await this.client.databases.retrieve({ database_id: source.databaseId })) as { properties?: Record<string, { type: string }> };
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, property.type]));
    })().catch((error: unknown) => {
      this.properties = undefined;
      throw error;
    });
    return this.properties;
  }
}
