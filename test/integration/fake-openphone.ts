/**
 * A small in-test OpenPhone workspace answering the four listings the backfill uses, with the v1 contract's
 * constraints (calls need exactly one participant, `maxResults` 1–100, `createdAfter`/`updatedAfter`, page tokens
 * until null). Installed with `vi.spyOn(globalThis, "fetch")`: the Worker under test shares the test isolate.
 */
import type { Call, Conversation, Message, PhoneNumber } from "../../src/openphone/client";

export interface FakeWorkspace {
  lines: PhoneNumber[];
  conversations: Conversation[];
  calls: Call[];
  messages: Message[];
}

export interface FakeStats {
  requests: number;
  byPath: Record<string, number>;
  badRequests: string[];
}

const DAY = 86_400_000;

function phoneNumber(prefix: string, i: number): PhoneNumber {
  return {
    id: `PN${prefix}line${i}`,
    groupId: "GR1",
    number: `+1555000000${i}`,
    name: `Line ${i}`,
    formattedNumber: null,
    forward: null,
    portRequestId: null,
    portingStatus: null,
    symbol: null,
    createdAt: "2025-01-01T00:00:00Z",
    updatedAt: "2025-01-01T00:00:00Z",
    users: [],
    restrictions: { calling: { US: "unrestricted", CA: "unrestricted", Intl: "unrestricted" }, messaging: { US: "unrestricted", CA: "unrestricted", Intl: "unrestricted" } },
  } as PhoneNumber;
}

/**
 * `lines` lines; on each, `people` one-to-one conversations and one group conversation of the first two people.
 * Every person has `callsEach` calls and every conversation `messagesEach` texts, spread over the last 80 days.
 */
export function buildWorkspace(options: { prefix: string; lines: number; people: number; callsEach: number; messagesEach: number; now: number; unfinishedCallOnLine?: number }): FakeWorkspace {
  const ws: FakeWorkspace = { lines: [], conversations: [], calls: [], messages: [] };
  let seq = 0;
  // Spread over the last 80 days, at least an hour ago (a prime step, so conversations interleave in time).
  const at = (k: number) => new Date(options.now - ((k * 7_919_000) % (80 * DAY)) - 3_600_000).toISOString();
  for (let l = 1; l <= options.lines; l++) {
    const line = phoneNumber(options.prefix, l);
    ws.lines.push(line);
    const people = Array.from({ length: options.people }, (_, p) => `+1555${l}${String(p).padStart(6, "0")}`);
    const groups = [...people.map((p) => [p]), people.slice(0, 2)].filter((g) => g.length > 0);
    for (const participants of groups) {
      let last = "1970-01-01T00:00:00.000Z";
      if (participants.length === 1) {
        for (let c = 0; c < options.callsEach; c++) {
          const createdAt = at(++seq);
          last = createdAt > last ? createdAt : last;
          ws.calls.push({
            id: `ACcall${seq}`,
            phoneNumberId: line.id,
            userId: "USowner",
            direction: c % 2 ? "outgoing" : "incoming",
            status: "completed",
            participants: [participants[0]!, line.number],
            createdAt,
            updatedAt: createdAt,
            answeredAt: c % 3 ? createdAt : null,
            completedAt: createdAt,
            answeredBy: null,
            initiatedBy: null,
            callRoute: null,
            duration: c % 4,
            forwardedFrom: null,
            forwardedTo: null,
            aiHandled: null,
          });
        }
      }
      for (let m = 0; m < options.messagesEach; m++) {
        const createdAt = at(++seq);
        last = createdAt > last ? createdAt : last;
        ws.messages.push({
          id: `ACmsg${seq}`,
          to: m % 2 ? participants : [line.number],
          from: m % 2 ? line.number : participants[0]!,
          text: `text ${seq}`,
          phoneNumberId: line.id,
          direction: m % 2 ? "outgoing" : "incoming",
          userId: "USowner",
          status: "delivered",
          createdAt,
          updatedAt: createdAt,
        });
      }
      ws.conversations.push({
        id: `CN${++seq}`,
        phoneNumberId: line.id,
        participants,
        name: null,
        assignedTo: null,
        lastActivityAt: last,
        lastActivityId: null,
        mutedUntil: null,
        snoozedUntil: null,
        createdAt: "2025-01-01T00:00:00Z",
        updatedAt: last,
        deletedAt: null,
      });
    }
    if (options.unfinishedCallOnLine === l && people[0]) {
      const createdAt = new Date(options.now - 30 * 60_000).toISOString();
      ws.calls.push({ ...ws.calls.find((c) => c.phoneNumberId === line.id)!, id: `ACringing${l}`, status: "in-progress", createdAt, completedAt: null, participants: [people[0], line.number] });
    }
  }
  return ws;
}

function page<T>(items: T[], url: URL): Response {
  const offset = Number(url.searchParams.get("pageToken") ?? 0);
  const size = Number(url.searchParams.get("maxResults"));
  const data = items.slice(offset, offset + size);
  const next = offset + size < items.length ? String(offset + size) : null;
  return Response.json({ data, totalItems: items.length + 7, nextPageToken: next });
}

function badRequest(stats: FakeStats, message: string): Response {
  stats.badRequests.push(message);
  return Response.json({ message, code: "0101400", status: 400, docs: "https://openphone.com/docs", title: "Bad Request" }, { status: 400 });
}

const newestFirst = <T extends { createdAt: string }>(a: T, b: T) => b.createdAt.localeCompare(a.createdAt);

/** Answers one request like the v1 API; `rateLimitEvery` answers every n-th request with a 429 first. */
export function answer(ws: FakeWorkspace, stats: FakeStats, request: Request, options: { rateLimitEvery?: number } = {}): Response {
  const url = new URL(request.url);
  stats.requests++;
  stats.byPath[url.pathname] = (stats.byPath[url.pathname] ?? 0) + 1;
  if (options.rateLimitEvery && stats.requests % options.rateLimitEvery === 0) {
    return Response.json({ message: "API rate limit exceeded" }, { status: 429, headers: { "Retry-After": "0" } });
  }
  const q = url.searchParams;
  if (url.pathname === "/v1/phone-numbers") return Response.json({ data: ws.lines });
  const maxResults = Number(q.get("maxResults"));
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) return badRequest(stats, `maxResults ${q.get("maxResults")}`);
  if (url.pathname === "/v1/conversations") {
    const lines = q.getAll("phoneNumbers");
    const after = q.get("updatedAfter");
    const list = ws.conversations
      .filter((c) => lines.length === 0 || lines.includes(c.phoneNumberId))
      .filter((c) => !after || (c.updatedAt ?? "") > after)
      .sort((a, b) => (b.updatedAt ?? "").localeCompare(a.updatedAt ?? ""));
    return page(list, url);
  }
  const line = q.get("phoneNumberId");
  const participants = q.getAll("participants");
  const after = q.get("createdAfter");
  if (!line) return badRequest(stats, "phoneNumberId missing");
  if (url.pathname === "/v1/calls") {
    if (participants.length !== 1) return badRequest(stats, `calls with ${participants.length} participants`);
    const list = ws.calls.filter((c) => c.phoneNumberId === line && c.participants.includes(participants[0]!) && (!after || c.createdAt > after)).sort(newestFirst);
    return page(list, url);
  }
  if (url.pathname === "/v1/messages") {
    if (participants.length === 0) return badRequest(stats, "messages without participants");
    const wanted = [...participants].sort().join(",");
    const list = ws.messages
      .filter((m) => m.phoneNumberId === line && (!after || m.createdAt > after))
      .filter((m) => [...new Set([m.from, ...m.to])].filter((n) => !ws.lines.some((l) => l.number === n)).sort().join(",") === wanted)
      .sort(newestFirst);
    return page(list, url);
  }
  return Response.json({ message: `no route ${url.pathname}`, status: 404 }, { status: 404 });
}
