/**
 * An OpenPhone contact as the product keeps it, read from any of the shapes OpenPhone sends: the v1 REST Contact
 * (`defaultFields.firstName`, `phoneNumbers[{name, value}]`), the legacy app webhook's `data.object` (the same, with
 * `object: "contact"`) and Quo's 2026-03-30 webhook resource (fields at the top level, `phoneNumbers[{value, type}]`).
 * Numbers become E.164 and addresses lower case, so a caller is found however the contact was typed.
 */
import { normalizeEmail, normalizePhone } from "../canvas/normalize";

export interface OpenPhoneContactRecord {
  id: string;
  externalId: string | null;
  source: string | null;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  role: string | null;
  /** Normalised addresses, each once. */
  emails: string[];
  /** E.164 numbers, each once. */
  phones: string[];
  /** OpenPhone's `updatedAt`, when the payload has one. */
  updatedAt: string | null;
}

export type ParsedContact = { ok: true; contact: OpenPhoneContactRecord } | { ok: false; reason: string };

const text = (value: unknown): string | null => (typeof value === "string" && value.trim() !== "" ? value.trim() : null);

function values(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => (item && typeof item === "object" ? (item as { value?: unknown }).value : item)).filter((v): v is string => typeof v === "string");
}

/** Reads one contact from a REST answer or a webhook resource. */
export function parseOpenPhoneContact(resource: unknown, defaultRegion: string): ParsedContact {
  if (!resource || typeof resource !== "object" || Array.isArray(resource)) return { ok: false, reason: "the contact is not an object" };
  const r = resource as Record<string, unknown>;
  const id = text(r.id);
  if (!id) return { ok: false, reason: "the contact has no id" };
  // v1 nests the fields under defaultFields; the 2026-03-30 resource has them at the top level.
  const fields = r.defaultFields && typeof r.defaultFields === "object" ? (r.defaultFields as Record<string, unknown>) : r;
  const phones = values(fields.phoneNumbers).map((v) => normalizePhone(v, defaultRegion)).filter((v): v is string => v !== null);
  const emails = values(fields.emails).map(normalizeEmail).filter((v): v is string => v !== null);
  const updatedAt = text(r.updatedAt);
  return {
    ok: true,
    contact: {
      id,
      externalId: text(r.externalId),
      source: text(r.source),
      firstName: text(fields.firstName),
      lastName: text(fields.lastName),
      company: text(fields.company),
      role: text(fields.role),
      emails: [...new Set(emails)],
      phones: [...new Set(phones)],
      updatedAt: updatedAt && !Number.isNaN(Date.parse(updatedAt)) ? updatedAt : null,
    },
  };
}

/** The person's name ("Hana Rossi"), else the company, else null. */
export function contactDisplayName(contact: Pick<OpenPhoneContactRecord, "firstName" | "lastName" | "company">): string | null {
  const name = [contact.firstName, contact.lastName].filter(Boolean).join(" ").trim();
  return name || contact.company || null;
}

/** What the Contact property of a page says: "Hana Rossi (Rossi Design)", "Hana Rossi", or "Rossi Design". */
export function contactLabel(contact: Pick<OpenPhoneContactRecord, "firstName" | "lastName" | "company">): string | null {
  const name = [contact.firstName, contact.lastName].filter(Boolean).join(" ").trim();
  if (name && contact.company) return `${name} (${contact.company})`;
  return name || contact.company || null;
}

/** Whether `incoming` may replace what is stored: OpenPhone's updatedAt only moves forward. */
export function isNewerOrSame(incoming: string | null, stored: string | null): boolean {
  if (!incoming || !stored) return true;
  return Date.parse(incoming) >= Date.parse(stored);
}
