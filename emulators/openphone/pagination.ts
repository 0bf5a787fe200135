/**
 * Cursor pagination as the v1 lists expose it (`maxResults`, `pageToken` → `nextPageToken`, null on the last page).
 * The token names the last item served, so items created while a client pages do not shift or repeat the pages.
 */
import { ApiError } from "./error-envelope.ts";

export interface Page<T> {
  data: T[];
  totalItems: number;
  nextPageToken: string | null;
}

function decodeToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof parsed.after === "string") return parsed.after;
  } catch {
    // falls through to the error below
  }
  throw new ApiError(400, "pageToken is not a token this API returned", [{ path: "query.pageToken", message: "invalid page token", value: token, schema: { type: "string" } }]);
}

export function paginate<T>(items: T[], options: { maxResults: number; pageToken?: string; key: (item: T) => string; descending: boolean }): Page<T> {
  const { key, descending } = options;
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (descending ? -1 : 1));
  let start = 0;
  if (options.pageToken) {
    const after = decodeToken(options.pageToken);
    const index = sorted.findIndex((item) => (descending ? key(item) < after : key(item) > after));
    start = index === -1 ? sorted.length : index;
  }
  const data = sorted.slice(start, start + options.maxResults);
  const more = start + options.maxResults < sorted.length;
  return {
    data,
    totalItems: sorted.length,
    nextPageToken: more && data.length ? Buffer.from(JSON.stringify({ after: key(data[data.length - 1]!) })).toString("base64url") : null,
  };
}

/** `createdAfter` / `createdBefore` (and the deprecated `since`, which behaves as `createdBefore`), both exclusive. */
export function inCreatedWindow(createdAt: string, query: Record<string, unknown>): boolean {
  const at = Date.parse(createdAt);
  const after = typeof query.createdAfter === "string" ? Date.parse(query.createdAfter) : undefined;
  const beforeText = typeof query.createdBefore === "string" ? query.createdBefore : typeof query.since === "string" ? query.since : undefined;
  const before = beforeText ? Date.parse(beforeText) : undefined;
  return (after === undefined || at > after) && (before === undefined || at < before);
}
