/**
 * What a caller may ask of a backfill (`POST /admin/backfill`, the CLI): `since` (a date or date-time, ISO 8601) and
 * `lines` (OpenPhone phone-number ids, PN…). Bad input gets a message that says what was expected.
 */

export interface BackfillRequest {
  /** Window start (epoch ms); absent = each line's watermark, or the lookback for a line never backfilled. */
  since?: number;
  /** Lines to backfill; absent = every line of the workspace. */
  lines?: string[];
}

export class BackfillRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackfillRequestError";
  }
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const LINE_ID = /^PN[A-Za-z0-9]+$/;

/** A date (`2026-01-01`, midnight UTC) or a date-time with its zone, not in the future. */
export function parseSince(value: unknown, now: number): number {
  if (typeof value !== "string" || !(DATE_ONLY.test(value.trim()) || DATE_TIME.test(value.trim()))) {
    throw new BackfillRequestError(`since must be a date (2026-01-01) or an ISO 8601 date-time with a zone (2026-01-01T09:00:00Z); got ${JSON.stringify(value)}`);
  }
  const text = value.trim();
  const at = Date.parse(DATE_ONLY.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(at) || (DATE_ONLY.test(text) && new Date(at).toISOString().slice(0, 10) !== text)) {
    throw new BackfillRequestError(`since is not a real date: ${JSON.stringify(value)}`);
  }
  if (at > now) throw new BackfillRequestError(`since is in the future: ${text}`);
  return at;
}

export function parseLines(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BackfillRequestError("lines must be a non-empty array of phone-number ids (PN…); leave it out to backfill every line");
  }
  const bad = value.filter((v) => typeof v !== "string" || !LINE_ID.test(v.trim()));
  if (bad.length > 0) throw new BackfillRequestError(`lines must be phone-number ids like PN123abc; not ${bad.map((b) => JSON.stringify(b)).join(", ")}`);
  return [...new Set(value.map((v: string) => v.trim()))];
}

export function parseBackfillRequest(body: unknown, now: number): BackfillRequest {
  if (body === undefined || body === null) return {};
  if (typeof body !== "object" || Array.isArray(body)) throw new BackfillRequestError("the body must be a JSON object: {since?, lines?}");
  const { since, lines, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new BackfillRequestError(`unknown field(s) ${unknown.join(", ")}; expected {since?, lines?}`);
  return {
    ...(since !== undefined && since !== null ? { since: parseSince(since, now) } : {}),
    ...(lines !== undefined && lines !== null ? { lines: parseLines(lines) } : {}),
  };
}
