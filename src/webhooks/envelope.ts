/**
 * What the intake needs to know about a verified webhook before it queues it: the event id (the deduplication key),
 * the event type, which call or message it concerns and which line it belongs to. The envelope itself travels on
 * whole; the Line Durable Object reads the rest.
 *
 * Parsing is tolerant of the variants OpenPhone is known to send (reference notes §8.2–8.3): `callSummary` and
 * `callTranscript` as type names, `data.resource` instead of `data.object` (the newer Quo payloads), summary and
 * transcript objects that carry `callId` but no `phoneNumberId`.
 *
 * Nesting depth is checked on the raw bytes before anything parses them: the runtime's parser, the queue's
 * serialiser and the consumer's deserialiser all recurse, and each gives up at a different depth, so a payload deep
 * enough to fail one of them later must be refused here, where the sender still gets an answer.
 */

export const CALL_EVENT_TYPES = [
  "call.ringing",
  "call.completed",
  "call.recording.completed",
  "call.transcript.completed",
  "call.summary.completed",
] as const;
export const MESSAGE_EVENT_TYPES = ["message.received", "message.delivered"] as const;
/** Contact events (webhooks made in the app, and Quo's newer webhooks) update the OpenPhone contacts kept in D1. */
export const CONTACT_EVENT_TYPES = ["contact.updated", "contact.deleted"] as const;

/** Type names seen in OpenPhone's own samples for the summary and transcript events. */
const TYPE_ALIASES: Record<string, string> = {
  callSummary: "call.summary.completed",
  callTranscript: "call.transcript.completed",
};

/**
 * The deepest structure the intake accepts. OpenPhone's deepest payload (a transcript's dialogue turn) is about 6
 * levels; 64 leaves room for any future shape and stays far below where the runtime's recursion gives up (~2,000).
 */
export const MAX_WEBHOOK_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether raw JSON nests objects and arrays deeper than `limit`, found in one pass without recursion. Brackets inside
 * strings do not count. Works on UTF-8 bytes directly: no byte of a multi-byte sequence is ASCII, so a quote, a
 * backslash or a bracket byte is always that character. Malformed JSON is left for the parser to report.
 */
export function nestsDeeperThan(bytes: Uint8Array, limit = MAX_WEBHOOK_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
  }
  return false;
}

/**
 * Whether an already parsed value nests deeper than `limit`, walked with an explicit stack so that the check itself
 * cannot overflow. The queue consumer uses it on bodies that did not pass through this intake (a replayed or
 * hand-sent message).
 */
export function valueNestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The date fields of a call or message object: each becomes a Notion date property. */
export const DATE_FIELDS = ["createdAt", "answeredAt", "completedAt"] as const;

/** The form Notion takes for a date property (its validation refuses anything else). */
const NOTION_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
/** ISO 8601 as other senders write it: any fraction of a second, an offset without its colon. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * A date as Notion takes it: kept as written when Notion would take it, rewritten in UTC when it is another valid
 * ISO 8601 form, undefined when it is not a date at all.
 */
export function notionDate(text: string): string | undefined {
  const at = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
  if (NOTION_DATE.test(text) && !Number.isNaN(at)) return text;
  if (ISO_DATE_TIME.test(text) && !Number.isNaN(at)) return new Date(at).toISOString();
  return undefined;
}

export type EventCategory = "call" | "message" | "contact" | "unknown";

export interface WebhookEventFacts {
  /** Envelope id (EV…), when the payload has one. */
  eventId?: string;
  /** The type, with aliases resolved to the subscription names. */
  eventType: string;
  category: EventCategory;
  /** The call (AC…) a call event concerns, or the message (AC…) of a message event. */
  resourceId?: string;
  /** The line (PN…) when the payload names it; summary and transcript events do not. */
  phoneNumberId?: string;
  /** Date fields of the object that are not dates; the event is synced without them. */
  badDates: string[];
}

const CALL_TYPES = new Set<string>(CALL_EVENT_TYPES);
const MESSAGE_TYPES = new Set<string>(MESSAGE_EVENT_TYPES);
const CONTACT_TYPES = new Set<string>(CONTACT_EVENT_TYPES);

export function normalizeEventType(type: string): string {
  return TYPE_ALIASES[type] ?? type;
}

export function categoryOf(eventType: string): EventCategory {
  if (CALL_TYPES.has(eventType)) return "call";
  if (MESSAGE_TYPES.has(eventType)) return "message";
  if (CONTACT_TYPES.has(eventType)) return "contact";
  return "unknown";
}

/** Reads the facts from a parsed JSON object. Never throws; what is missing stays undefined. */
export function readWebhookEvent(envelope: Record<string, unknown>): WebhookEventFacts {
  const data = asRecord(envelope.data);
  const object = asRecord(data?.object) ?? asRecord(data?.resource);
  const rawType = text(envelope.type) ?? aliasFromObject(object);
  const eventType = rawType ? normalizeEventType(rawType) : "";
  const category = categoryOf(eventType);
  // Summary and transcript objects have their own shape: the call is `callId`. A call object's own id is `id`.
  const resourceId = category === "call" ? (text(object?.callId) ?? text(object?.id)) : category === "message" ? text(object?.id) : undefined;
  return {
    eventId: text(envelope.id),
    eventType,
    category,
    resourceId,
    phoneNumberId: text(object?.phoneNumberId),
    badDates: DATE_FIELDS.filter((field) => {
      const value = object?.[field];
      return value !== undefined && value !== null && value !== "" && (typeof value !== "string" || notionDate(value) === undefined);
    }).map((field) => `data.object.${field}`),
  };
}

/**
 * The key of the Line Durable Object that receives this event. Every event of one call must reach the same object,
 * and summary and transcript payloads do not name the line, so:
 * 1. the payload's `phoneNumberId`, when present;
 * 2. else the line already known for this call (`knownLine`, looked up in D1 by the caller);
 * 3. else `call:<callId>` (or `message:<id>`), stable for every event of that resource that also lacks its line.
 * Returns undefined when the event names neither a line nor a resource: it cannot be routed at all.
 */
export function lineKeyFor(facts: WebhookEventFacts, knownLine?: string): string | undefined {
  if (facts.phoneNumberId) return facts.phoneNumberId;
  if (knownLine) return knownLine;
  if (facts.resourceId && (facts.category === "call" || facts.category === "message")) return `${facts.category}:${facts.resourceId}`;
  return undefined;
}

function aliasFromObject(object: Record<string, unknown> | undefined): string | undefined {
  // A payload without a type is still clear when its object says it is a summary or a transcript.
  const kind = text(object?.object);
  return kind && kind in TYPE_ALIASES ? kind : undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}
