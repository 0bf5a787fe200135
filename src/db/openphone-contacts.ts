/**
 * D1 queries of the OpenPhone contacts the Worker keeps: written by the scheduled listing and by contact.* webhooks,
 * read when a caller matches no Canvas customer and by the Canvas → OpenPhone contact sync.
 *
 * `updated_at` is OpenPhone's and only moves forward: an upsert or a delete carrying an older time than the row is
 * ignored, so webhooks arriving out of order, or racing a listing, settle on the newest state. The numbers table is
 * rebuilt from the stored row after each write, so it always matches what the row says.
 */
import type { OpenPhoneContactRecord } from "../contacts/openphone-contact";
import { chunk, runBatched } from "./canvas-index";

const BIND_CHUNK = 90;

/** The stored row may take the write: no time on either side, or the incoming one is not older. */
const NEWER_GUARD = "(excluded.updated_at IS NULL OR openphone_contacts.updated_at IS NULL OR julianday(excluded.updated_at) >= julianday(openphone_contacts.updated_at))";

function refreshPhonesStatements(db: D1Database, contactId: string): D1PreparedStatement[] {
  return [
    db.prepare("DELETE FROM openphone_contact_phones WHERE contact_id = ?1").bind(contactId),
    db
      .prepare(
        `INSERT OR IGNORE INTO openphone_contact_phones (phone, contact_id)
         SELECT j.value, c.id FROM openphone_contacts c, json_each(c.phones) j WHERE c.id = ?1 AND c.deleted = 0`,
      )
      .bind(contactId),
  ];
}

/** Statements that store a contact (created or updated in OpenPhone), unless the row is newer. */
export function upsertContactStatements(db: D1Database, contact: OpenPhoneContactRecord, now: number): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO openphone_contacts (id, external_id, source, first_name, last_name, company, role, emails, phones, updated_at, deleted, seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11)
         ON CONFLICT (id) DO UPDATE SET external_id = excluded.external_id, source = excluded.source, first_name = excluded.first_name,
           last_name = excluded.last_name, company = excluded.company, role = excluded.role, emails = excluded.emails, phones = excluded.phones,
           updated_at = COALESCE(excluded.updated_at, openphone_contacts.updated_at), deleted = 0, seen_at = excluded.seen_at
         WHERE ${NEWER_GUARD}`,
      )
      .bind(
        contact.id,
        contact.externalId,
        contact.source,
        contact.firstName,
        contact.lastName,
        contact.company,
        contact.role,
        JSON.stringify(contact.emails),
        JSON.stringify(contact.phones),
        contact.updatedAt,
        now,
      ),
    ...refreshPhonesStatements(db, contact.id),
  ];
}

/** Statements that record a contact as deleted in OpenPhone (a tombstone, so an older update cannot revive it). */
export function deleteContactStatements(db: D1Database, contactId: string, updatedAt: string | null, now: number): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO openphone_contacts (id, updated_at, deleted, seen_at) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (id) DO UPDATE SET deleted = 1, updated_at = COALESCE(excluded.updated_at, openphone_contacts.updated_at), seen_at = excluded.seen_at
         WHERE ${NEWER_GUARD}`,
      )
      .bind(contactId, updatedAt, now),
    ...refreshPhonesStatements(db, contactId),
  ];
}

/** Stores a listing's contacts in batches. */
export async function storeContacts(db: D1Database, contacts: OpenPhoneContactRecord[], now: number): Promise<void> {
  await runBatched(db, contacts.flatMap((c) => upsertContactStatements(db, c, now)));
}

/**
 * After a complete listing that started at `listedSince`: contacts it did not carry (and no webhook touched since)
 * are gone from OpenPhone. Returns how many.
 */
export async function markUnlistedContactsDeleted(db: D1Database, listedSince: number): Promise<number> {
  const [gone] = await db.batch([
    db.prepare("UPDATE openphone_contacts SET deleted = 1 WHERE deleted = 0 AND seen_at < ?1").bind(listedSince),
    db.prepare("DELETE FROM openphone_contact_phones WHERE contact_id IN (SELECT id FROM openphone_contacts WHERE deleted = 1)"),
  ]);
  return gone?.meta.changes ?? 0;
}

interface ContactRow {
  id: string;
  external_id: string | null;
  source: string | null;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  role: string | null;
  emails: string;
  phones: string;
  updated_at: string | null;
}

const COLUMNS = "c.id, c.external_id, c.source, c.first_name, c.last_name, c.company, c.role, c.emails, c.phones, c.updated_at";

function toRecord(row: ContactRow): OpenPhoneContactRecord {
  return {
    id: row.id,
    externalId: row.external_id,
    source: row.source,
    firstName: row.first_name,
    lastName: row.last_name,
    company: row.company,
    role: row.role,
    emails: JSON.parse(row.emails) as string[],
    phones: JSON.parse(row.phones) as string[],
    updatedAt: row.updated_at,
  };
}

/** The stored row of a contact, deleted or not (null when never seen). */
export async function readContactRow(db: D1Database, contactId: string): Promise<{ contact: OpenPhoneContactRecord; deleted: boolean } | null> {
  const row = await db.prepare(`SELECT ${COLUMNS}, c.deleted FROM openphone_contacts c WHERE c.id = ?1`).bind(contactId).first<ContactRow & { deleted: number }>();
  return row ? { contact: toRecord(row), deleted: row.deleted === 1 } : null;
}

/** Contacts (not deleted) by OpenPhone id, e.g. the ids a webhook's `contactIds` or `data.context.contacts.ids` name. */
export async function readContactsByIds(db: D1Database, ids: string[]): Promise<Map<string, OpenPhoneContactRecord>> {
  const found = new Map<string, OpenPhoneContactRecord>();
  for (const part of chunk([...new Set(ids)], BIND_CHUNK)) {
    const { results } = await db
      .prepare(`SELECT ${COLUMNS} FROM openphone_contacts c WHERE c.deleted = 0 AND c.id IN (${part.map((_, i) => `?${i + 1}`).join(", ")})`)
      .bind(...part)
      .all<ContactRow>();
    for (const row of results) found.set(row.id, toRecord(row));
  }
  return found;
}

/** Every contact (not deleted) that has one of these E.164 numbers, per number, oldest id first. */
export async function readContactsByPhones(db: D1Database, phones: string[]): Promise<Map<string, OpenPhoneContactRecord[]>> {
  const found = new Map<string, OpenPhoneContactRecord[]>();
  for (const part of chunk([...new Set(phones)], BIND_CHUNK)) {
    const { results } = await db
      .prepare(
        `SELECT p.phone, ${COLUMNS} FROM openphone_contact_phones p JOIN openphone_contacts c ON c.id = p.contact_id
         WHERE c.deleted = 0 AND p.phone IN (${part.map((_, i) => `?${i + 1}`).join(", ")}) ORDER BY p.phone, c.id`,
      )
      .bind(...part)
      .all<ContactRow & { phone: string }>();
    for (const row of results) {
      const list = found.get(row.phone) ?? [];
      list.push(toRecord(row));
      found.set(row.phone, list);
    }
  }
  return found;
}

/** Contacts (not deleted) by externalId. */
export async function readContactsByExternalIds(db: D1Database, externalIds: string[]): Promise<Map<string, OpenPhoneContactRecord>> {
  const found = new Map<string, OpenPhoneContactRecord>();
  for (const part of chunk([...new Set(externalIds)], BIND_CHUNK)) {
    const { results } = await db
      .prepare(`SELECT ${COLUMNS} FROM openphone_contacts c WHERE c.deleted = 0 AND c.external_id IN (${part.map((_, i) => `?${i + 1}`).join(", ")}) ORDER BY c.id`)
      .bind(...part)
      .all<ContactRow>();
    for (const row of results) if (row.external_id && !found.has(row.external_id)) found.set(row.external_id, toRecord(row));
  }
  return found;
}

export interface ContactStoreStats {
  contacts: number;
  withPhone: number;
  lastListedAt: number | null;
}

export async function readContactStoreStats(db: D1Database): Promise<ContactStoreStats> {
  const [contacts, withPhone, listed] = await db.batch<Record<string, unknown>>([
    db.prepare("SELECT COUNT(*) AS n FROM openphone_contacts WHERE deleted = 0"),
    db.prepare("SELECT COUNT(DISTINCT contact_id) AS n FROM openphone_contact_phones"),
    db.prepare("SELECT value AS n FROM canvas_state WHERE name = 'contacts_listed_at'"),
  ]);
  const n = (r: D1Result<Record<string, unknown>> | undefined) => (r?.results[0]?.n === undefined ? null : Number(r.results[0].n));
  return { contacts: n(contacts) ?? 0, withPhone: n(withPhone) ?? 0, lastListedAt: n(listed) };
}
