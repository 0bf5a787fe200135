/**
 * The emulated workspace: a root page shared with the integration, databases holding data sources, pages and blocks.
 * This file holds the state, the lookups (an id the integration cannot see is a 404) and the schema operations;
 * `pages.ts` writes pages and blocks, `queries.ts` reads them back through filters and search.
 */
import { notFound, validationError } from "./errors.ts";
import { IdSource } from "./ids.ts";
import type { BlockRecord, DatabaseRecord, DataSourceRecord, PageRecord, PropertySchema, RelationConfig, UserRecord } from "./model.ts";
import { findProperty, parseOptions, parseSchema, schemaTypeOf, type SchemaContext } from "./property-schema.ts";
import { expectObject, parseRichText, textItems } from "./rich-text.ts";
import { addSyncedProperty, checkSyncedNames, type DualRequest, isMirrored, removeSyncedProperty, renameMirror } from "./synced-relations.ts";

export interface WorkspaceOptions {
  seed: number;
  now?: () => number;
  /** A saved workspace to continue from instead of a new one (`Workspace.snapshot()`). */
  restore?: WorkspaceSnapshot;
}

/** Everything a workspace holds, as JSON: what `--state FILE` saves. */
export interface WorkspaceSnapshot {
  idState: number;
  rootPageId: string;
  botId: string;
  databases: DatabaseRecord[];
  dataSources: DataSourceRecord[];
  pages: PageRecord[];
  blocks: BlockRecord[];
  users: UserRecord[];
  cursors: [string, CursorRecord][];
}

/** A query or search continuation: where the next page of results starts. */
export interface CursorRecord {
  nextId: string;
  offset: number;
}

export class Workspace {
  readonly ids: IdSource;
  readonly now: () => number;
  readonly databases = new Map<string, DatabaseRecord>();
  readonly dataSources = new Map<string, DataSourceRecord>();
  readonly pages = new Map<string, PageRecord>();
  readonly blocks = new Map<string, BlockRecord>();
  readonly users = new Map<string, UserRecord>();
  readonly cursors = new Map<string, CursorRecord>();
  readonly bot: UserRecord;
  readonly rootPageId: string;
  /** Milliseconds before a new or changed page shows in queries and search. */
  queryLagMs = 0;

  constructor(options: WorkspaceOptions) {
    this.now = options.now ?? Date.now;
    const saved = options.restore;
    if (saved) {
      this.ids = new IdSource(options.seed, saved.idState);
      for (const record of saved.databases) this.databases.set(record.id, record);
      for (const record of saved.dataSources) this.dataSources.set(record.id, record);
      for (const record of saved.pages) this.pages.set(record.id, record);
      for (const record of saved.blocks) this.blocks.set(record.id, record);
      for (const record of saved.users) this.users.set(record.id, record);
      for (const [key, cursor] of saved.cursors) this.cursors.set(key, cursor);
      const bot = this.users.get(saved.botId);
      if (!bot || !this.pages.has(saved.rootPageId)) throw new Error("the saved Notion workspace has no bot user or no root page");
      this.bot = bot;
      this.rootPageId = saved.rootPageId;
      return;
    }
    this.ids = new IdSource(options.seed);
    this.bot = { object: "user", id: this.ids.uuid(), type: "bot", name: "Sandbox integration", avatar_url: null, bot: { owner: { type: "workspace", workspace: true }, workspace_name: "Sandbox workspace" } };
    const owner: UserRecord = { object: "user", id: this.ids.uuid(), type: "person", name: "Sandbox Owner", avatar_url: null, person: { email: "owner@example.com" } };
    this.users.set(this.bot.id, this.bot).set(owner.id, owner);
    this.rootPageId = this.ids.uuid();
    const at = this.now();
    this.pages.set(this.rootPageId, {
      id: this.rootPageId,
      parent: { type: "workspace" },
      values: { title: textItems("Sandbox workspace") },
      icon: null,
      cover: null,
      childIds: [],
      createdTime: at,
      lastEditedTime: at,
      archived: false,
      queryView: { visibleAt: 0, previous: null },
    });
  }

  snapshot(): WorkspaceSnapshot {
    return {
      idState: this.ids.state,
      rootPageId: this.rootPageId,
      botId: this.bot.id,
      databases: [...this.databases.values()],
      dataSources: [...this.dataSources.values()],
      pages: [...this.pages.values()],
      blocks: [...this.blocks.values()],
      users: [...this.users.values()],
      cursors: [...this.cursors.entries()],
    };
  }

  page(id: string): PageRecord {
    const page = this.pages.get(id);
    if (!page) throw notFound("page", id);
    return page;
  }

  database(id: string): DatabaseRecord {
    const database = this.databases.get(id);
    if (!database) throw notFound("database", id);
    return database;
  }

  dataSource(id: string): DataSourceRecord {
    const dataSource = this.dataSources.get(id);
    if (!dataSource) throw notFound("data_source", id);
    return dataSource;
  }

  /** The schema a page's properties follow: its data source's, or a lone title for pages under pages. */
  schemaOf(page: PageRecord): PropertySchema[] {
    if (page.parent.type === "data_source_id") return this.dataSource(page.parent.data_source_id).properties;
    return [{ id: "title", name: "title", type: "title", config: {} }];
  }

  dataSourceOfPage(page: PageRecord): string | undefined {
    return page.parent.type === "data_source_id" ? page.parent.data_source_id : undefined;
  }

  schemaContext(): SchemaContext {
    return { ids: this.ids, databaseOfDataSource: (id) => this.dataSources.get(id)?.databaseId };
  }

  createDatabase(path: string, input: { parentPageId: string; title: unknown; description: unknown; isInline: unknown; properties: unknown; dataSourceTitle?: unknown }): DatabaseRecord {
    const parent = this.page(input.parentPageId);
    if (parent.parent.type === "data_source_id") throw validationError("A database can only be created under a page that is not a database row.");
    const title = input.title === undefined ? [] : parseRichText(`${path}.title`, input.title);
    const description = input.description === undefined ? [] : parseRichText(`${path}.description`, input.description);
    const at = this.now();
    const database: DatabaseRecord = { id: this.ids.uuid(), parentPageId: parent.id, title, description, isInline: input.isInline === true, dataSourceIds: [], createdTime: at, lastEditedTime: at, archived: false };
    // Validate the schema before anything is stored, so a refused request leaves no half-made database.
    this.databases.set(database.id, database);
    try {
      this.createDataSource(`${path}.properties`, database.id, input.dataSourceTitle ?? input.title, input.properties);
    } catch (error) {
      this.databases.delete(database.id);
      throw error;
    }
    parent.childIds.push(database.id);
    return database;
  }

  createDataSource(path: string, databaseId: string, title: unknown, rawProperties: unknown): DataSourceRecord {
    const database = this.database(databaseId);
    const properties = expectObject(path, rawProperties);
    const at = this.now();
    const dataSource: DataSourceRecord = {
      id: this.ids.uuid(),
      databaseId,
      title: title === undefined ? [] : parseRichText("body.title", title),
      description: [],
      properties: [],
      createdTime: at,
      lastEditedTime: at,
      archived: false,
    };
    const titles = Object.entries(properties).filter(([name, raw]) => schemaTypeOf(`${path}.${name}`, expectObject(`${path}.${name}`, raw)) === "title");
    if (titles.length !== 1) throw validationError(`body failed validation: ${path} should have exactly one title property, instead was \`${titles.length}\`.`);
    const duals: DualRequest[] = [];
    for (const [name, raw] of Object.entries(properties)) {
      const parsed = parseSchema(`${path}.${name}`, expectObject(`${path}.${name}`, raw), this.schemaContext());
      const schema: PropertySchema = { id: parsed.type === "title" ? "title" : this.ids.propertyId(), name, type: parsed.type, config: parsed.config };
      if (parsed.wantsDual) duals.push({ schema, syncedName: parsed.syncedName, path: `${path}.${name}` });
      if (parsed.type === "title") dataSource.properties.unshift(schema);
      else dataSource.properties.push(schema);
    }
    checkSyncedNames(this, dataSource.id, duals);
    this.dataSources.set(dataSource.id, dataSource);
    database.dataSourceIds.push(dataSource.id);
    for (const dual of duals) addSyncedProperty(this, dataSource, dual.schema, dual.syncedName);
    return dataSource;
  }

  /** `PATCH /v1/data_sources/{id}`: add, change, rename (`{name}`) or remove (`null`) properties; retitle. */
  updateDataSource(path: string, id: string, body: Record<string, unknown>): DataSourceRecord {
    const dataSource = this.dataSource(id);
    const title = body.title === undefined ? undefined : parseRichText(`${path}.title`, body.title);
    const changes = body.properties === undefined ? {} : expectObject(`${path}.properties`, body.properties);
    // Work on a copy so a refused change leaves the schema as it was.
    const next = dataSource.properties.map((p) => ({ ...p, config: { ...p.config } }));
    const duals: DualRequest[] = [];
    const unmirrored: RelationConfig[] = [];
    for (const [key, raw] of Object.entries(changes)) {
      const at = `${path}.properties.${key}`;
      const existing = findProperty(next, key);
      if (raw === null) {
        if (!existing) throw validationError(`${key} is not a property that exists.`);
        if (existing.type === "title") throw validationError("The title property cannot be removed.");
        if (isMirrored(existing)) unmirrored.push(existing.config as unknown as RelationConfig);
        next.splice(next.indexOf(existing), 1);
        continue;
      }
      const change = expectObject(at, raw);
      const hasType = Object.keys(change).some((k) => k !== "name" && k !== "description");
      if (existing && change.name !== undefined) {
        const renamed = String(change.name);
        if (next.some((p) => p !== existing && p.name === renamed)) throw validationError(`A property named ${renamed} already exists.`);
        existing.name = renamed;
      }
      if (!hasType) {
        if (!existing) throw validationError(`${key} is not a property that exists.`);
        continue;
      }
      const parsed = parseSchema(at, change, this.schemaContext());
      if (existing) {
        if (existing.type === "title" && parsed.type !== "title") throw validationError("The title property's type cannot be changed.");
        if ((parsed.type === "select" || parsed.type === "multi_select") && change[parsed.type] !== undefined) {
          const requested = expectObject(`${at}.${parsed.type}`, change[parsed.type]).options;
          const old = existing.type === parsed.type ? ((existing.config.options ?? []) as never[]) : [];
          parsed.config = { options: requested === undefined ? old : parseOptions(`${at}.${parsed.type}.options`, requested, old, this.ids) };
        }
        const before = existing.config as unknown as RelationConfig;
        const sameTarget = existing.type === "relation" && parsed.type === "relation" && before.data_source_id === (parsed.config as unknown as RelationConfig).data_source_id;
        if (sameTarget && isMirrored(existing) && parsed.wantsDual) {
          // Already two-way to the same data source: the mirror stays, renamed when a new name is asked for.
          if (parsed.syncedName !== undefined) renameMirror(this, `${at}.relation.dual_property.synced_property_name`, before, parsed.syncedName);
          continue;
        }
        if (isMirrored(existing)) unmirrored.push(before);
        existing.type = parsed.type;
        existing.config = parsed.config;
        if (parsed.wantsDual) duals.push({ schema: existing, syncedName: parsed.syncedName, path: at });
      } else {
        if (parsed.type === "title") throw validationError("A data source has exactly one title property.");
        const schema: PropertySchema = { id: this.ids.propertyId(), name: change.name === undefined ? key : String(change.name), type: parsed.type, config: parsed.config };
        next.push(schema);
        if (parsed.wantsDual) duals.push({ schema, syncedName: parsed.syncedName, path: at });
      }
    }
    checkSyncedNames(this, dataSource.id, duals);
    dataSource.properties = next;
    if (title) dataSource.title = title;
    for (const relation of unmirrored) removeSyncedProperty(this, relation);
    for (const dual of duals) addSyncedProperty(this, dataSource, dual.schema, dual.syncedName);
    dataSource.lastEditedTime = this.now();
    return dataSource;
  }
}
