/**
 * The Notion schema: every property of the Calls and Messages databases, declared once. Page mapping, `setup`
 * (create or extend the databases) and the checks behind `/health` all read this list.
 *
 * Users with existing databases rename properties through `NOTION_PROPERTY_MAP`, a JSON object from our name to
 * theirs. A key may be qualified with the database (`"Calls.Status"`) or not (`"Status"`, both databases).
 */

export type PropertyType = "title" | "rich_text" | "select" | "number" | "date" | "url" | "phone_number" | "relation";

export type DatabaseKind = "calls" | "messages";

export interface PropertySpec {
  /** Our name for the property (the default name in Notion). */
  name: string;
  type: PropertyType;
  /** Options created with a select property. Values outside the list are added by Notion on first write. */
  options?: string[];
  /** Relation to the Canvas database. */
  relation?: "canvas";
  /** The unique id property a page is found by after a crash. */
  unique?: true;
  description: string;
}

/** The last properties of both databases: who the page is about, and when the sync last wrote it. */
const LINK_PROPERTIES = [
  { name: "Canvas", type: "relation", relation: "canvas", description: "The customer (Canvas page)" },
  { name: "Contact", type: "rich_text", description: "The OpenPhone contact (name, company) when no customer matches" },
  { name: "Synced At", type: "date", description: "When the sync last wrote this page" },
] as const satisfies readonly PropertySpec[];

export const CALL_PROPERTIES = [
  { name: "Name", type: "title", description: "Who, direction and length" },
  { name: "Call ID", type: "rich_text", unique: true, description: "OpenPhone call id (AC…), unique" },
  { name: "Direction", type: "select", options: ["Incoming", "Outgoing"], description: "Incoming or outgoing" },
  { name: "Status", type: "select", options: ["completed", "missed", "no-answer", "busy", "canceled", "failed", "ringing", "in-progress"], description: "OpenPhone call status" },
  { name: "Participant", type: "phone_number", description: "The external party, E.164" },
  { name: "Line", type: "rich_text", description: "The OpenPhone number the call was on" },
  { name: "User", type: "rich_text", description: "The OpenPhone user who handled the call" },
  { name: "Started", type: "date", description: "When the call started" },
  { name: "Answered", type: "date", description: "When it was answered" },
  { name: "Ended", type: "date", description: "When it ended" },
  { name: "Duration", type: "number", description: "Length in seconds" },
  { name: "Recording", type: "url", description: "Link to the recording (first segment)" },
  { name: "Recording Duration", type: "number", description: "Seconds recorded, all segments" },
  { name: "Voicemail", type: "url", description: "Link to the voicemail" },
  { name: "Voicemail Transcript", type: "rich_text", description: "Transcript of the voicemail" },
  { name: "Transcript Status", type: "select", options: ["completed", "in-progress", "absent", "failed"], description: "Whether OpenPhone transcribed the call" },
  { name: "Summary", type: "rich_text", description: "OpenPhone's AI summary" },
  { name: "Next Steps", type: "rich_text", description: "OpenPhone's suggested next steps" },
  ...LINK_PROPERTIES,
] as const satisfies readonly PropertySpec[];

export const MESSAGE_PROPERTIES = [
  { name: "Name", type: "title", description: "The start of the text" },
  { name: "Message ID", type: "rich_text", unique: true, description: "OpenPhone message id (AC…), unique" },
  { name: "Direction", type: "select", options: ["Incoming", "Outgoing"], description: "Incoming or outgoing" },
  { name: "Status", type: "select", options: ["received", "delivered", "sent", "queued", "undelivered"], description: "OpenPhone message status" },
  { name: "From", type: "phone_number", description: "Sender, E.164" },
  { name: "To", type: "rich_text", description: "All recipients, E.164, comma separated" },
  { name: "Participant", type: "phone_number", description: "The external party, E.164" },
  { name: "Line", type: "rich_text", description: "The OpenPhone number the text was on" },
  { name: "User", type: "rich_text", description: "The OpenPhone user who sent or received it" },
  { name: "Text", type: "rich_text", description: "The full text" },
  { name: "Media", type: "rich_text", description: "Links to the MMS media" },
  { name: "Sent", type: "date", description: "When it was sent" },
  ...LINK_PROPERTIES,
] as const satisfies readonly PropertySpec[];

export type CallPropertyName = (typeof CALL_PROPERTIES)[number]["name"];
export type MessagePropertyName = (typeof MESSAGE_PROPERTIES)[number]["name"];

export const SCHEMAS: Record<DatabaseKind, readonly PropertySpec[]> = { calls: CALL_PROPERTIES, messages: MESSAGE_PROPERTIES };

/** The property a page is looked up by. */
export function uniqueProperty(kind: DatabaseKind): string {
  return kind === "calls" ? "Call ID" : "Message ID";
}

/** Our name → the name in the user's database, after `NOTION_PROPERTY_MAP`. */
export type PropertyNames = Record<string, string>;

export function resolvePropertyNames(kind: DatabaseKind, propertyMap: Record<string, string>): PropertyNames {
  const qualifier = kind === "calls" ? "Calls" : "Messages";
  const names: PropertyNames = {};
  for (const spec of SCHEMAS[kind]) {
    names[spec.name] = propertyMap[`${qualifier}.${spec.name}`] ?? propertyMap[spec.name] ?? spec.name;
  }
  return names;
}
