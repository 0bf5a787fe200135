/**
 * Which lines are synced: `SYNC_LINES` (only these) and `SKIP_LINES` (never these; wins over SYNC_LINES), each a list
 * of phone-number ids (`PN…`) or the lines' numbers in any format. Pure: numbers are normalised to E.164 with the
 * workspace's region, and a line matches an entry by its id or by its number.
 *
 * A line whose number is not known yet cannot be matched against number entries; its verdict is then "undecided"
 * and the caller learns the number (D1 `lines`, or OpenPhone's list of lines) before asking again.
 */
import { normalizePhone } from "../canvas/normalize";
import type { Flags } from "../flags/flags";

export interface LineFilterEntry {
  /** As the operator wrote it. */
  text: string;
  id?: string;
  /** E.164, when the entry is a number. */
  number?: string;
}

export interface LineFilter {
  sync: LineFilterEntry[];
  skip: LineFilterEntry[];
}

export interface LineIdentity {
  id: string;
  /** E.164, or null when not known yet. */
  number: string | null;
}

export type LineVerdict = "synced" | "skipped" | "undecided";

/** A line as OpenPhone or D1 lists it (its number in any format, or none yet), ready to be matched. */
export function lineIdentity(id: string, number: string | null | undefined, region: string): LineIdentity {
  return { id, number: number ? normalizePhone(number, region) : null };
}

export function lineFilterOf(flags: Pick<Flags, "SYNC_LINES" | "SKIP_LINES">, region: string): LineFilter {
  const entry = (text: string): LineFilterEntry => (/^PN/.test(text) ? { text, id: text } : { text, number: normalizePhone(text, region) ?? text.replace(/[^\d+]/g, "") });
  return { sync: flags.SYNC_LINES.map(entry), skip: flags.SKIP_LINES.map(entry) };
}

export function filtersLines(filter: LineFilter): boolean {
  return filter.sync.length > 0 || filter.skip.length > 0;
}

export function matchesLine(entry: LineFilterEntry, line: LineIdentity): boolean {
  return entry.id !== undefined ? entry.id === line.id : line.number !== null && entry.number === line.number;
}

export function lineVerdict(filter: LineFilter, line: LineIdentity): LineVerdict {
  const numberUnknown = line.number === null;
  if (filter.skip.some((e) => matchesLine(e, line))) return "skipped";
  const skipUndecided = numberUnknown && filter.skip.some((e) => e.number !== undefined);
  if (filter.sync.length > 0) {
    if (filter.sync.some((e) => matchesLine(e, line))) return skipUndecided ? "undecided" : "synced";
    return numberUnknown && filter.sync.some((e) => e.number !== undefined) ? "undecided" : "skipped";
  }
  return skipUndecided ? "undecided" : "synced";
}

/** Why a line is skipped, in the operator's words (for the dashboard and refusals). */
export function skipReason(filter: LineFilter, line: LineIdentity): string {
  const entry = filter.skip.find((e) => matchesLine(e, line));
  if (entry) return `SKIP_LINES names it (${entry.text})`;
  return "SYNC_LINES does not name it";
}

/** Filter entries no known line matches: lines the Worker has not seen yet, or a typo. */
export function unmatchedEntries(filter: LineFilter, lines: readonly LineIdentity[]): { list: "SYNC_LINES" | "SKIP_LINES"; entry: LineFilterEntry }[] {
  const unmatched: { list: "SYNC_LINES" | "SKIP_LINES"; entry: LineFilterEntry }[] = [];
  for (const [list, entries] of [["SYNC_LINES", filter.sync], ["SKIP_LINES", filter.skip]] as const) {
    for (const entry of entries) if (!lines.some((line) => matchesLine(entry, line))) unmatched.push({ list, entry });
  }
  return unmatched;
}
