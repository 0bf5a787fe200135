/**
 * Every call and text OpenPhone has on one line since a date, walked the way the backfill walks a line (the v1 API
 * cannot list a line's items directly): conversations updated since the date, then for each conversation its calls
 * per participant and its messages. Every page is paid from the audit's budget. Calls still ringing or in progress
 * are left out: their page is not expected to be final yet.
 */
import { externalParticipants, isUnfinishedCall, PAGE_SIZE } from "../backfill/plan";
import type { Call, Message, OpenPhoneClient } from "../openphone/client";
import type { AuditBudget } from "./budget";

export type ListedItem = { kind: "call"; lineId: string; item: Call } | { kind: "message"; lineId: string; item: Message };

export interface LineListing {
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

export async function listLine(
  client: OpenPhoneClient,
  line: { id: string; number?: string },
  since: string,
  until: number,
  budget: AuditBudget,
): Promise<LineListing> {
  const seen = new Set<string>();
  const items: ListedItem[] = [];
  let unfinished = 0;
  const inWindow = (createdAt: string) => {
    const at = Date.parse(createdAt);
    return Number.isNaN(at) || at <= until;
  };
  const conversations = pages(budget, (pageToken) =>
    client.request("listConversations_v1", { query: { phoneNumbers: [line.id], updatedAfter: since, maxResults: PAGE_SIZE, ...(pageToken ? { pageToken } : {}) } }),
  );
  for await (const conversation of conversations) {
    const participants = externalParticipants(conversation, line.number);
    if (participants.length === 0) continue;
    for (const participant of participants) {
      const calls = pages(budget, (pageToken) =>
        client.request("listCalls_v1", { query: { phoneNumberId: line.id, participants: [participant], createdAfter: since, maxResults: PAGE_SIZE, ...(pageToken ? { pageToken } : {}) } }),
      );
      for await (const call of calls) {
        if (seen.has(call.id) || !inWindow(call.createdAt)) continue;
        seen.add(call.id);
        if (isUnfinishedCall(call)) unfinished++;
        else items.push({ kind: "call", lineId: line.id, item: call });
      }
    }
    const messages = pages(budget, (pageToken) =>
      client.request("listMessages_v1", { query: { phoneNumberId: line.id, participants, createdAfter: since, maxResults: PAGE_SIZE, ...(pageToken ? { pageToken } : {}) } }),
    );
    for await (const message of messages) {
      if (seen.has(message.id) || !inWindow(message.createdAt)) continue;
      seen.add(message.id);
      items.push({ kind: "message", lineId: line.id, item: message });
    }
  }
  return { items, unfinished };
}
