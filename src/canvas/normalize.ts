/**
 * Phone numbers and e-mail addresses as people type them, turned into the keys the Canvas index is built from.
 *
 * Phones become E.164 (`+15551234567`) with libphonenumber-js and a default region for numbers typed without a
 * country code. We accept "possible" numbers, not only "valid" ones: validity depends on numbering-plan metadata
 * that changes over time and rejects the 555 numbers sandboxes and demos use, while a wrong match is prevented by
 * comparing whole E.164 strings anyway. Extensions are dropped: `555-123-4567 x12` reaches the same customer.
 *
 * A text may hold several numbers or addresses (`(555) 123-4567, +44 20 7946 0958`, `a@x.com; Bob <b@y.com>`);
 * they are split on commas, semicolons, slashes, newlines and " or ". Whatever cannot be read is returned as a
 * problem with the text as typed, so it can be shown to the user instead of being silently ignored.
 */
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

export interface Extracted {
  /** Normalised values, each once, in the order they appear. */
  values: string[];
  /** Pieces of the text that could not be read, as typed (trimmed). */
  problems: string[];
}

/** One phone number → E.164, or null when it is not a possible number. The extension, if any, is dropped. */
export function normalizePhone(text: string, defaultRegion: string): string | null {
  const trimmed = text.trim();
  if (trimmed === "" || !/\d/.test(trimmed)) return null;
  const region = defaultRegion as CountryCode;
  const parsed = parsePhoneNumberFromString(trimmed, region);
  if (parsed?.isPossible()) return parsed.number;
  // "00" is the international prefix in most of the world; accept it whatever the default region's prefix is.
  if (/^00[1-9]/.test(trimmed)) {
    const international = parsePhoneNumberFromString(`+${trimmed.slice(2)}`, region);
    if (international?.isPossible()) return international.number;
  }
  return null;
}

const STRONG_SEPARATORS = /[,;\n\r]+|\s+or\s+/i;

/** Every phone number in a text; several numbers may be separated by commas, semicolons, slashes, newlines or "or". */
export function extractPhones(text: string, defaultRegion: string): Extracted {
  const values: string[] = [];
  const problems: string[] = [];
  for (const piece of splitPieces(text)) {
    const phones = phonesInPiece(piece, defaultRegion);
    if (phones) values.push(...phones);
    else problems.push(piece);
  }
  return { values: unique(values), problems };
}

/**
 * A slash separates two numbers (`555-123-4567 / 555-987-6543`) but is also typed inside one (`030/901820`):
 * split on it only when every part is a number by itself, else read the piece as one number.
 */
function phonesInPiece(piece: string, defaultRegion: string): string[] | null {
  if (piece.includes("/")) {
    const parts = piece.split("/").map((p) => p.trim()).filter(Boolean);
    const phones = parts.map((p) => normalizePhone(p, defaultRegion));
    if (parts.length > 1 && phones.every((p): p is string => p !== null)) return phones;
    const joined = normalizePhone(piece.replace(/\//g, " "), defaultRegion);
    return joined ? [joined] : null;
  }
  const phone = normalizePhone(piece, defaultRegion);
  return phone ? [phone] : null;
}

const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/;

/** One address → trimmed and lower-cased, or null when it is not an address. `mailto:` is accepted. */
export function normalizeEmail(text: string): string | null {
  const candidate = text.trim().replace(/^mailto:/i, "").toLowerCase();
  return EMAIL.test(candidate) ? candidate : null;
}

/**
 * Every address in a text: bare (`ann@x.com`), with a display name (`Ann Lee <ann@x.com>`, `"Lee, Ann" <ann@x.com>`),
 * separated by commas, semicolons or newlines.
 */
export function extractEmails(text: string): Extracted {
  const values: string[] = [];
  const problems: string[] = [];
  const readPlain = (segment: string) => {
    for (const piece of segment.split(/[,;\n\r]+/).map((p) => p.trim()).filter(Boolean)) {
      const emails = piece.split(/\s+/).map(normalizeEmail).filter((e): e is string => e !== null);
      if (emails.length > 0) values.push(...emails);
      else problems.push(piece);
    }
  };
  // `Name <addr>` and `"Last, First" <addr>` (a quoted name may hold a comma), in the order they appear.
  const named = /(?:"[^"]*"|[^,;\n\r<>"])*<([^<>]*)>/g;
  let last = 0;
  for (const match of text.matchAll(named)) {
    readPlain(text.slice(last, match.index));
    const email = normalizeEmail(match[1]!);
    if (email) values.push(email);
    else problems.push(match[0].trim());
    last = match.index + match[0].length;
  }
  readPlain(text.slice(last));
  return { values: unique(values), problems };
}

function splitPieces(text: string): string[] {
  return text
    .split(STRONG_SEPARATORS)
    .map((p) => p.trim())
    .filter(Boolean);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The index key of a normalised phone or address: `phone:+15551234567`, `email:ann@example.com`. */
export function indexKey(value: string): string {
  return value.includes("@") ? `email:${value}` : `phone:${value}`;
}

/** A participant as the sync hands it over (already E.164 or an address, but maybe not quite) → its normal form. */
export function normalizeParticipant(value: string, defaultRegion: string): string | null {
  return value.includes("@") ? normalizeEmail(value) : normalizePhone(value, defaultRegion);
}
