/**
 * What the emulated workspace stores. Records keep Notion's response shapes for their leaf values (rich text, select
 * options, files) so serialising a record is a matter of arranging fields, while relations and timestamps stay in
 * forms the emulator can compute with (page ids, epoch milliseconds).
 */

export interface RichTextItem {
  type: "text" | "equation" | "mention";
  text?: { content: string; link: { url: string } | null };
  equation?: { expression: string };
  mention?: Record<string, unknown>;
  annotations: {
    bold: boolean;
    italic: boolean;
    strikethrough: boolean;
    underline: boolean;
    code: boolean;
    color: string;
  };
  plain_text: string;
  href: string | null;
}

export interface SelectOption {
  id: string;
  name: string;
  color: string;
  description: null;
}

export interface RelationConfig {
  data_source_id: string;
  database_id: string;
  type: "single_property" | "dual_property";
  /** For a two-way relation: the id of the property on the other side that mirrors this one. */
  synced_property_id?: string;
}

export interface PropertySchema {
  id: string;
  name: string;
  type: string;
  /** The type's configuration: `{options}` for selects, `{format}` for numbers, a RelationConfig, else `{}`. */
  config: Record<string, unknown>;
}

export type PageParent =
  | { type: "workspace" }
  | { type: "page_id"; page_id: string }
  | { type: "data_source_id"; data_source_id: string };

export interface Timestamps {
  createdTime: number;
  lastEditedTime: number;
  archived: boolean;
}

export interface DatabaseRecord extends Timestamps {
  id: string;
  parentPageId: string;
  title: RichTextItem[];
  description: RichTextItem[];
  isInline: boolean;
  dataSourceIds: string[];
}

export interface DataSourceRecord extends Timestamps {
  id: string;
  databaseId: string;
  title: RichTextItem[];
  description: RichTextItem[];
  /** In the order they were added; the title property first. */
  properties: PropertySchema[];
}

/** Property values by property id: RichTextItem[] for title/rich_text, page ids for relations, else the value. */
export type PropertyValues = Record<string, unknown>;

/** How a page looked to queries before its latest change, while the configured query lag hides that change. */
export interface QueryView {
  visibleAt: number;
  previous: { values: PropertyValues; archived: boolean; lastEditedTime: number } | null;
}

export interface PageRecord extends Timestamps {
  id: string;
  parent: PageParent;
  values: PropertyValues;
  icon: unknown;
  cover: unknown;
  childIds: string[];
  queryView: QueryView;
}

export interface BlockRecord extends Timestamps {
  id: string;
  /** The page or block this block is a child of. */
  parentId: string;
  type: string;
  /** The type-specific object without `children`, with rich text in full response form. */
  content: Record<string, unknown>;
  childIds: string[];
}

export interface UserRecord {
  object: "user";
  id: string;
  type: "bot" | "person";
  name: string;
  avatar_url: null;
  bot?: Record<string, unknown>;
  person?: { email: string };
}

/** Notion reports created/edited times to the minute. */
export function isoMinute(ms: number): string {
  return new Date(Math.floor(ms / 60_000) * 60_000).toISOString();
}
