/**
 * Dead letters as a person reads them: one entry per call or text, with the events that failed for it, the latest
 * reason and property, and the letter ids one replay sends back. A letter that names no call or text stands alone.
 */
import { itemOf, type DeadLetter } from "../db/dead-letters";

export interface DeadLetterEvent {
  letterId: number;
  eventType: string | null;
  eventId: string | null;
  queue: string;
  attempts: number;
  at: string;
}

export interface DeadLetterItem {
  /** What a replay names: the call or text id, or `#<letter id>`. */
  item: string;
  kind: "call" | "message" | "other";
  resourceId: string | null;
  reason: string;
  property: string | null;
  firstAt: string;
  lastAt: string;
  events: DeadLetterEvent[];
  letterIds: number[];
}

export function eventTypeOf(body: unknown): string | null {
  const value = (body as { eventType?: unknown } | null)?.eventType ?? (body as { type?: unknown } | null)?.type;
  return typeof value === "string" ? value : null;
}

function kindOf(letters: DeadLetter[]): DeadLetterItem["kind"] {
  for (const l of letters) {
    const type = eventTypeOf(l.body) ?? "";
    if (type.startsWith("call.")) return "call";
    if (type.startsWith("message.")) return "message";
  }
  return "other";
}

/** Groups letters (in id order) by item, items in the order of their first letter. */
export function groupDeadLetters(letters: DeadLetter[]): DeadLetterItem[] {
  const byItem = new Map<string, DeadLetter[]>();
  for (const letter of [...letters].sort((a, b) => a.id - b.id)) {
    const item = itemOf(letter);
    byItem.set(item, [...(byItem.get(item) ?? []), letter]);
  }
  return [...byItem].map(([item, group]) => {
    const latest = group.reduce((a, b) => (b.createdAt >= a.createdAt ? b : a));
    return {
      item,
      kind: kindOf(group),
      resourceId: group[0]!.resourceId ?? null,
      reason: latest.reason,
      property: latest.property ?? null,
      firstAt: new Date(Math.min(...group.map((l) => l.createdAt))).toISOString(),
      lastAt: new Date(Math.max(...group.map((l) => l.createdAt))).toISOString(),
      events: group.map((l) => ({
        letterId: l.id,
        eventType: eventTypeOf(l.body),
        eventId: (l.body as { eventId?: unknown } | null)?.eventId as string | null ?? null,
        queue: l.queue,
        attempts: l.attempts,
        at: new Date(l.createdAt).toISOString(),
      })),
      letterIds: group.map((l) => l.id),
    };
  });
}
