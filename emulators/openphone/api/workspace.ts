/** Lines (phone numbers), users and conversations. */
import { ApiError } from "../error-envelope.ts";
import { paginate } from "../pagination.ts";
import type { ApiHandler } from "./context.ts";

export const listPhoneNumbers: ApiHandler = ({ store, query }) => ({
  status: 200,
  body: { data: store.workspace.phoneNumbers.filter((p) => query.userId === undefined || p.users.some((u) => u.id === query.userId)) },
});

export const getPhoneNumberById: ApiHandler = ({ store, path }) => {
  const line = store.line(path.phoneNumberId!);
  if (!line) throw new ApiError(404, `Phone number ${path.phoneNumberId} not found`);
  return { status: 200, body: { data: line } };
};

export const listUsers: ApiHandler = ({ store, query }) => ({
  status: 200,
  body: paginate(store.workspace.users, { maxResults: query.maxResults as number, pageToken: query.pageToken as string | undefined, key: (u) => `${u.createdAt}|${u.id}`, descending: false }),
});

export const getUserById: ApiHandler = ({ store, path }) => {
  const user = store.workspace.users.find((u) => u.id === path.userId);
  if (!user) throw new ApiError(404, `User ${path.userId} not found`);
  return { status: 200, body: { data: user } };
};

const after = (value: string | null, bound: unknown) => typeof bound !== "string" || (value !== null && Date.parse(value) > Date.parse(bound));
const before = (value: string | null, bound: unknown) => typeof bound !== "string" || (value !== null && Date.parse(value) < Date.parse(bound));

export const listConversations: ApiHandler = ({ store, query }) => {
  const selectors = (query.phoneNumbers as string[] | undefined) ?? (typeof query.phoneNumber === "string" ? [query.phoneNumber] : undefined);
  const lineIds = selectors ? new Set(selectors.map((s) => store.lineByNumberOrId(s)?.id).filter(Boolean)) : undefined;
  const matching = [...store.conversations.values()].filter((c) => {
    if (lineIds && !lineIds.has(c.phoneNumberId)) return false;
    if (query.userId !== undefined && !store.line(c.phoneNumberId)?.users.some((u) => u.id === query.userId)) return false;
    if (query.excludeInactive === true && c.deletedAt !== null) return false;
    return after(c.createdAt, query.createdAfter) && before(c.createdAt, query.createdBefore) && after(c.updatedAt, query.updatedAfter) && before(c.updatedAt, query.updatedBefore);
  });
  return {
    status: 200,
    body: paginate(matching, { maxResults: query.maxResults as number, pageToken: query.pageToken as string | undefined, key: (c) => `${c.lastActivityAt ?? ""}|${c.id}`, descending: true }),
  };
};
