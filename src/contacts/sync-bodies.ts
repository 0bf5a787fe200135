/**
 * The request bodies of the contact sync, from the desired contact. An update replaces the phone and e-mail items in
 * place: PATCH merges items by id, adds items without one and removes an item sent with `value: null`, so the
 * item ids OpenPhone gave last time are sent back for the values kept, and the others are removed.
 */
import { normalizeEmail, normalizePhone } from "../canvas/normalize";
import type { RemoteItems } from "../db/contact-sync";
import type { Contact } from "../openphone/client";
import type { DesiredContact } from "./sync-plan";

export function createContactBody(desired: DesiredContact) {
  return {
    defaultFields: { firstName: desired.firstName, lastName: desired.lastName, company: desired.company, emails: desired.emails, phoneNumbers: desired.phoneNumbers },
    externalId: desired.externalId,
    source: desired.source,
    sourceUrl: desired.sourceUrl,
  };
}

type Item = { name: string; value: string | null; id?: string };

function replaceItems(wanted: { name: string; value: string }[], existing: Record<string, string>): Item[] {
  const kept = new Set<string>();
  const items: Item[] = wanted.map((w) => {
    const id = existing[w.value];
    if (id) kept.add(w.value);
    return id ? { ...w, id } : { ...w };
  });
  for (const [value, id] of Object.entries(existing)) if (!kept.has(value)) items.push({ name: "removed", value: null, id });
  return items;
}

export function updateContactBody(desired: DesiredContact, items: RemoteItems) {
  return {
    defaultFields: {
      firstName: desired.firstName,
      lastName: desired.lastName,
      company: desired.company,
      emails: replaceItems(desired.emails, items.emails),
      phoneNumbers: replaceItems(desired.phoneNumbers, items.phones),
    },
    externalId: desired.externalId,
    source: desired.source,
    sourceUrl: desired.sourceUrl,
  };
}

/** The item ids of a contact OpenPhone returned, by normalised value. */
export function remoteItemsOf(contact: Contact, defaultRegion: string): RemoteItems {
  const items: RemoteItems = { phones: {}, emails: {} };
  for (const p of contact.defaultFields.phoneNumbers ?? []) {
    const value = p.value ? normalizePhone(p.value, defaultRegion) : null;
    if (value && p.id) items.phones[value] = p.id;
  }
  for (const e of contact.defaultFields.emails ?? []) {
    const value = e.value ? normalizeEmail(e.value) : null;
    if (value && e.id) items.emails[value] = e.id;
  }
  return items;
}
