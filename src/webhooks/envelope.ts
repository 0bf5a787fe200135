/**
 * What the intake needs to know about a verified webhook before it queues it, and the checks on the raw bytes before
 * anything parses them. The envelope itself is read by normalise.ts; `factsOf` sums up its reading for routing.
 *
 * Nesting depth is checked on the raw bytes before anything parses them: the runtime's parser, the queue's
 * serialiser and the consumer's deserialiser all recurse, and each gives up at a different depth, so a payload deep
 * enough to fail one of them later must be refused here, where the sender still gets an answer.
 */
import type { WebhookReading } from "./normalise";

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
  eventType: string;
  category: EventCategory;
  /** The call (AC…) a call event concerns, or the message (AC…) of a message event. */
  resourceId?: string;
  /** The line (PN…) when the payload names it (legacy `data.object.phoneNumberId`, or `data.context.phoneNumberId`). */
  phoneNumberId?: string;
}

/** The routing facts of a reading: only an event names a call or a text. */
export function factsOf(reading: WebhookReading): WebhookEventFacts {
  if (reading.outcome === "event") {
    const { event } = reading;
    return { eventType: event.type, category: event.kind, resourceId: event.resourceId, phoneNumberId: event.patch.lineId || undefined };
  }
  return { eventType: reading.eventType, category: reading.outcome === "contact" ? "contact" : "unknown" };
}

/** Date fields of a payload object that are present but not dates (`prefix` names where the object sits). */
export function badDatesOf(object: Record<string, unknown> | undefined, prefix: string): string[] {
  return DATE_FIELDS.filter((field) => {
    const value = object?.[field];
    return value !== undefined && value !== null && value !== "" && (typeof value !== "string" || notionDate(value) === undefined);
  }).map((field) => `${prefix}.${field}`);
}
