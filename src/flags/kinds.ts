/**
 * The kinds of runtime flag: how a flag's text (a var, a KV override, a value sent to `PUT /admin/flags`) becomes a
 * typed value, and back. Pure. Each parser either returns the value or an error that says what was expected and
 * never echoes the input, so a refused value can be shown to an admin as it is.
 */

export type FlagParse<T> = { ok: true; value: T } | { ok: false; error: string };

export interface FlagSpec<T> {
  /** What the dashboard offers: a number field, an on/off switch, or a list of lines. */
  readonly kind: "integer" | "switch" | "lines";
  /** The value when neither a var nor KV sets one. */
  readonly default: T;
  /** One sentence for the dashboard and `GET /admin/flags`: what the flag changes. */
  readonly about: string;
  parse(text: string): FlagParse<T>;
  /** The canonical text of a value (what KV stores and the dashboard shows). */
  format(value: T): string;
}

/** A whole number in [min, max], e.g. a window in milliseconds. */
export function integerFlag(defaultValue: number, range: { min: number; max: number }, about: string): FlagSpec<number> {
  return {
    kind: "integer",
    default: defaultValue,
    about,
    parse(text) {
      const trimmed = text.trim();
      if (!/^-?\d+$/.test(trimmed)) return { ok: false, error: `expected a whole number from ${range.min} to ${range.max}` };
      const value = Number(trimmed);
      if (!Number.isSafeInteger(value) || value < range.min || value > range.max) return { ok: false, error: `expected a whole number from ${range.min} to ${range.max}` };
      return { ok: true, value };
    },
    format: (value) => String(value),
  };
}

const ON = new Set(["1", "true", "yes", "on"]);
const OFF = new Set(["0", "false", "no", "off"]);

/** On or off: true/false, on/off, yes/no, 1/0, in any case. */
export function switchFlag(defaultValue: boolean, about: string): FlagSpec<boolean> {
  return {
    kind: "switch",
    default: defaultValue,
    about,
    parse(text) {
      const s = text.trim().toLowerCase();
      if (ON.has(s)) return { ok: true, value: true };
      if (OFF.has(s)) return { ok: true, value: false };
      return { ok: false, error: "expected on or off (true/false, yes/no, 1/0)" };
    },
    format: (value) => (value ? "true" : "false"),
  };
}

/**
 * A comma-separated list of OpenPhone lines: phone-number ids (`PN…`) or the lines' numbers in any format
 * (`+1 (415) 555-0100`, `415.555.0100`). Numbers are kept as typed; the line filter normalises them, because that
 * needs the workspace's region. Each entry must be an id or look like a phone number (at least 7 digits).
 */
export function linesFlag(about: string): FlagSpec<readonly string[]> {
  return {
    kind: "lines",
    default: [],
    about,
    parse(text) {
      const entries = text
        .split(/[,\n;]/)
        .map((s) => s.trim())
        .filter(Boolean);
      for (const [i, entry] of entries.entries()) {
        if (/^PN[A-Za-z0-9]+$/.test(entry)) continue;
        if (/^\+?[\d\s().\-]+$/.test(entry) && entry.replace(/\D/g, "").length >= 7) continue;
        return { ok: false, error: `entry ${i + 1} is neither a phone-number id (PN…) nor a phone number; expected ids or numbers separated by commas` };
      }
      return { ok: true, value: entries };
    },
    format: (value) => value.join(","),
  };
}
