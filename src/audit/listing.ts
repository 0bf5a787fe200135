/**
 * Every call and text OpenPhone has on one line since a date, walked the way the backfill walks a line (the v1 API
 * cannot list a line's items directly): the conversations updated since the date, then for each conversation its
 * texts and the calls of the numbers it is the home of. Every page is paid from the audit's budget. Calls still
 * ringing or in progress are left out: their page is not expected to be final yet.
 *
 * The unit of work is one conversation, in a fixed order (by id), so an audit that runs out of budget can be
 * continued from the conversation it was in (`AuditPosition`) and count every item exactly once over all its parts:
 * - a call has one other party, and any call with a number updates that number's own conversation, so a number's
 *   calls are listed once, in its home: its own conversation when the listing has one, else the first (by id) group
 *   conversation it is in;
 * - a conversation that first appears in a later part was updated after the audit began, so it holds nothing created
 *   inside the audit's window that an earlier part could have missed.
 */
import { externalParticipants, isUnfinishedCall, PAGE_SIZE } from "../backfill/plan";
import type { Call, Conversation, Message, OpenPhoneClient } from "../openphone/client";
import type { AuditBudget } from "./budget";

export type ListedItem = { kind: "call"; lineId: string; item: Call } | { kind: "message"; lineId: string; item: Message };

/** One conversation to check: whose texts to list, and the numbers whose calls it is the home of. */
export interface ConversationUnit {
  id: string;
  participants: string[];
  callsOf: string[];
}

export interface ConversationListing {
  items: ListedItem[];
  /** Unfinished calls left out. */
  unfinished: number;
}

/** Pages of one listing until `nextPageToken` is null, each request taken from the budget. */
async function* pages<T>(budget: AuditBudget, fetchPage: (pageToken?: string) => Promise<{ data: T[]; nextPageToken: string | null }>): AsyncGenerator<T> {
  let token: string | undefined;
  do {
    budget.take("openphone");
    const page = await fetchPage(token);
    yield* page.data;
    token = page.nextPageToken ?? undefined;
  } while (token);
}

/**
 * Orders a line's conversations by id and gives each number's calls one home: its own conversation if there is one,
 * else the first group conversation it is in. Conversations without another party are left out.
 */
export function planConversations(conversations: Pick<Conversation, "id" | "participants">[], lineNumber?: string): ConversationUnit[] {
  const units = conversations
    .map((c) => ({ id: c.id, participants: externalParticipants(c, lineNumber).sort() }))
    .filter((c) => c.participants.length > 0)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const home = new Map<string, string>();
  for (const unit of units) if (unit.participants.length === 1) home.set(unit.participants[0]!, unit.id);
  for (const unit of units) for (const p of unit.participants) if (!home.has(p)) home.set(p, unit.id);
  return units.map((u) => ({ ...u, callsOf: u.participants.filter((p) => home.get(p) === u.id) }));
}

/** The line's conversations updated since the date, as units of work (one request per 100 conversations). */
export async function lineConversations(client: OpenPhoneClient, line: { id: string; number?: string }, since: string, budget: AuditBudget): Promise<ConversationUnit[]> {
  const found: Conversation[] = [];
  const listing = pages(budget, (pageToken) =>
    client.request("listConversations_v1", { query: { phoneNumbers: [line.id], updatedAfter: since, maxResults: PAGE_SIZE, ...(pageToken ? { pageToken } : {}) } }),
  );
  for await (const conversation of listing) found.push(conversation);
  return planConversations(found, line.number);
}

/** One conversation's texts, and the calls of the numbers it is home to, created in the window. */
export async function listConversation(client: OpenPhoneClient, lineId: string, unit: ConversationUnit, since: string, until: number, budget: AuditBudget): Promise<ConversationListing> {
  const items: ListedItem[] = [];
  let unfinished = 0;
  const inWindow = (createdAt: string) => {
    const at = Date.parse(createdAt);
    return Number.isNaN(at) || at <= until;
  };
  const seen = new Set<string>();
  for (const participant of unit.callsOf) {
    const calls = pages(budget, (pageToken) =>
      client.request("listCalls_v1", { query: { phoneNumberId: lineId, participants: [participant], createdAfter: since, maxResults: PAGE_SIZE, ...(pageToken ? { pageToken } : {}) } }),
    );
    for await (const call of calls) {
      if (seen.has(call.id) || !inWindow(call.createdAt)) continue;
      seen.add(call.id);
      if (isUnfinishedCall(call)) unfinished++;
      else items.push({ kind: "call", lineId, item: call });
    }
  }
  const messages = pages(budget, (pageToken) =>
    client.request("listMessages_v1", { query: { phoneNumberId: lineId, participants: unit.participants, createdAfter: since, maxResults: PAGE_SIZE, ...(pageToken ? { pageToken } : {}) } }),
  );
  for await (const message of messages) {
    if (seen.has(message.id) || !inWindow(message.createdAt)) continue;
    seen.add(message.id);
    items.push({ kind: "message", lineId, item: message });
  }
  return { items, unfinished };
}

/** Where a continued audit resumes: the line (by index, lines ordered by id) and the conversation in it. */
export interface AuditPosition {
  since: string;
  until: number;
  line: number;
  conversation: number;
}

/** The opaque `next` an incomplete audit answers, to be sent back as `after`. */
export function encodePosition(p: AuditPosition): string {
  return btoa(JSON.stringify([p.since, p.until, p.line, p.conversation]));
}

/** Null when the text is not a position this audit wrote. */
export function decodePosition(text: string): AuditPosition | null {
  try {
    const [since, until, line, conversation] = JSON.parse(atob(text)) as unknown[];
    if (typeof since !== "string" || Number.isNaN(Date.parse(since))) return null;
    if (![until, line, conversation].every((n) => typeof n === "number" && Number.isInteger(n) && n >= 0)) return null;
    return { since, until: until as number, line: line as number, conversation: conversation as number };
  } catch {
    return null;
  }
}
