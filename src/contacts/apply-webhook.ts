/**
 * One contact event from OpenPhone applied to the contacts kept in D1. Both webhook systems call it: the legacy v1
 * app webhooks (`data.object`) and Quo's 2026-03-30 webhooks (`data.resource`); `contact.updated` means created or
 * changed, `contact.deleted` removes the contact's numbers from the caller lookup. Events that arrive out of order
 * settle on the newest state (OpenPhone's `updatedAt`).
 */
import { deleteContactStatements, readContactRow, upsertContactStatements } from "../db/openphone-contacts";
import { isNewerOrSame, parseOpenPhoneContact } from "./openphone-contact";

export type ContactWebhookOutcome =
  | { outcome: "stored"; contactId: string }
  | { outcome: "deleted"; contactId: string }
  /** The stored contact is newer than the event; nothing changed. */
  | { outcome: "stale"; contactId: string }
  /** Not a contact event the store knows, or a payload it cannot read; `reason` says which, for a dead letter. */
  | { outcome: "invalid"; reason: string };

export interface ApplyContactOptions {
  /** Region for numbers typed without a country code (the DEFAULT_REGION setting). */
  defaultRegion: string;
  now?: number;
}

/**
 * Applies one `contact.updated` or `contact.deleted` event. `resource` is the event's contact: `data.object` of a
 * legacy webhook or `data.resource` of a 2026-03-30 one, either shape.
 */
export async function applyContactWebhook(db: D1Database, eventType: string, resource: unknown, options: ApplyContactOptions): Promise<ContactWebhookOutcome> {
  if (eventType !== "contact.updated" && eventType !== "contact.deleted") return { outcome: "invalid", reason: `${eventType || "(no type)"} is not a contact event` };
  const parsed = parseOpenPhoneContact(resource, options.defaultRegion);
  if (!parsed.ok) return { outcome: "invalid", reason: `${eventType}: ${parsed.reason}` };
  const contact = parsed.contact;
  const now = options.now ?? Date.now();
  const stored = await readContactRow(db, contact.id);
  if (stored && !isNewerOrSame(contact.updatedAt, stored.contact.updatedAt)) return { outcome: "stale", contactId: contact.id };
  if (eventType === "contact.deleted") {
    await db.batch(deleteContactStatements(db, contact.id, contact.updatedAt, now));
    return { outcome: "deleted", contactId: contact.id };
  }
  await db.batch(upsertContactStatements(db, contact, now));
  return { outcome: "stored", contactId: contact.id };
}
