/**
 * What the Canvas → OpenPhone contact sync should do for each customer, decided without I/O from the Canvas index,
 * what the sync last sent (its hash) and the OpenPhone contacts kept in D1.
 *
 * - A customer gets one contact, recognised by `externalId` = its Canvas page id and `source` = CONTACT_SOURCE.
 * - A contact this product did not make is never changed: when it has the customer's number (or the customer's
 *   externalId), the customer is reported as a conflict and no contact is created for it.
 * - Two customers with the same number each get their own contact; both are reported as a conflict.
 * - An unchanged customer (same hash as last sent) costs nothing; a customer gone from Canvas keeps its contact and
 *   is reported.
 */
import type { CanvasCustomer, ContactSyncRow, RemoteItems } from "../db/contact-sync";
import { contactDisplayName, type OpenPhoneContactRecord } from "./openphone-contact";

/** `source` of the contacts this product makes. OpenPhone rejects sources starting with "openphone". */
export const CONTACT_SOURCE = "notion-canvas";

/** What the product wants a customer's contact to say. */
export interface DesiredContact {
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  emails: { name: string; value: string }[];
  phoneNumbers: { name: string; value: string }[];
  externalId: string;
  source: string;
  sourceUrl: string;
}

export type PlanItem =
  | { action: "create"; pageId: string; title: string | null; desired: DesiredContact; hash: string; conflict: string | null; reason: string | null }
  | { action: "update"; pageId: string; title: string | null; contactId: string; items: RemoteItems | null; desired: DesiredContact; hash: string; conflict: string | null; reason: string | null }
  | { action: "unchanged"; pageId: string; title: string | null; contactId: string; conflict: string | null }
  | { action: "skip"; pageId: string; title: string | null; reason: string }
  | { action: "conflict"; pageId: string; title: string | null; conflict: string; contactIds: string[] }
  | { action: "removed"; pageId: string; title: string | null; contactId: string; reason: string };

export type PlanAction = PlanItem["action"];

/** "Ada Lovelace King" → first "Ada Lovelace", last "King"; a one-word name is a first name. */
export function splitName(title: string): { firstName: string; lastName: string | null } {
  const words = title.trim().split(/\s+/);
  if (words.length < 2) return { firstName: words[0] ?? title.trim(), lastName: null };
  return { firstName: words.slice(0, -1).join(" "), lastName: words[words.length - 1]! };
}

/** The Notion link of a page, the contact's `sourceUrl`. */
export function notionPageUrl(pageId: string): string {
  return `https://www.notion.so/${pageId.replace(/-/g, "")}`;
}

/** The contact a customer should have, or why it gets none. */
export function desiredContactOf(customer: CanvasCustomer): { ok: true; desired: DesiredContact } | { ok: false; reason: string } {
  if (customer.phones.length === 0) {
    const bad = customer.unreadablePhones[0];
    return { ok: false, reason: bad ? `the phone number ${JSON.stringify(bad.raw)} (${bad.property}) cannot be read` : "no phone number" };
  }
  if (!customer.title && !customer.company) return { ok: false, reason: "no name and no company" };
  const name = customer.title ? splitName(customer.title) : { firstName: null, lastName: null };
  return {
    ok: true,
    desired: {
      firstName: name.firstName,
      lastName: name.lastName,
      company: customer.company,
      emails: customer.emails.map((e) => ({ name: e.property, value: e.value })),
      phoneNumbers: customer.phones.map((p) => ({ name: p.property, value: p.value })),
      externalId: customer.pageId,
      source: CONTACT_SOURCE,
      sourceUrl: notionPageUrl(customer.pageId),
    },
  };
}

/** The text whose hash is kept: every field sent, in a fixed order. */
export function canonicalContact(desired: DesiredContact): string {
  return JSON.stringify([desired.firstName, desired.lastName, desired.company, desired.emails, desired.phoneNumbers, desired.externalId, desired.source, desired.sourceUrl]);
}

export interface PlanInput {
  customers: CanvasCustomer[];
  /** Hash of canonicalContact for each customer that has a desired contact. */
  hashes: Map<string, string>;
  rows: Map<string, ContactSyncRow>;
  contactsByPhone: Map<string, OpenPhoneContactRecord[]>;
  contactsByExternalId: Map<string, OpenPhoneContactRecord>;
}

const isOurs = (contact: OpenPhoneContactRecord, pageId?: string) => contact.source === CONTACT_SOURCE && contact.externalId !== null && (pageId === undefined || contact.externalId === pageId);

function describe(contact: OpenPhoneContactRecord): string {
  const name = contactDisplayName(contact);
  return name ? `"${name}" (${contact.id})` : contact.id;
}

export function planContactSync(input: PlanInput): PlanItem[] {
  const items: PlanItem[] = [];
  const titles = new Map(input.customers.map((c) => [c.pageId, c.title]));
  const desiredOf = new Map<string, DesiredContact>();
  for (const customer of input.customers) {
    const result = desiredContactOf(customer);
    if (result.ok) desiredOf.set(customer.pageId, result.desired);
    else items.push({ action: "skip", pageId: customer.pageId, title: customer.title, reason: result.reason });
  }
  // Numbers several customers have: each keeps its own contact, and the sharing is reported on every one.
  const pagesByPhone = new Map<string, string[]>();
  for (const [pageId, desired] of desiredOf) for (const p of desired.phoneNumbers) pagesByPhone.set(p.value, [...(pagesByPhone.get(p.value) ?? []), pageId]);

  for (const [pageId, desired] of desiredOf) {
    const title = titles.get(pageId) ?? null;
    const hash = input.hashes.get(pageId)!;
    const row = input.rows.get(pageId);
    const shared = desired.phoneNumbers
      .map((p) => ({ phone: p.value, others: (pagesByPhone.get(p.value) ?? []).filter((id) => id !== pageId) }))
      .filter((s) => s.others.length > 0)
      .map((s) => `${s.phone} is also on ${s.others.map((id) => (titles.get(id) ? `"${titles.get(id)}" (${id})` : id)).join(", ")}; each customer has its own contact`);
    const conflict = shared.length > 0 ? shared.join("; ") : null;

    const byExternalId = input.contactsByExternalId.get(pageId);
    if (byExternalId && !isOurs(byExternalId, pageId)) {
      items.push({ action: "conflict", pageId, title, conflict: `OpenPhone contact ${describe(byExternalId)} has this page's externalId but source ${JSON.stringify(byExternalId.source)}; left alone`, contactIds: [byExternalId.id] });
      continue;
    }
    const ownedId = row?.contactId ?? byExternalId?.id ?? null;
    if (ownedId) {
      if (row?.contactId === ownedId && row.sentHash === hash && row.status !== "removed") items.push({ action: "unchanged", pageId, title, contactId: ownedId, conflict });
      else items.push({ action: "update", pageId, title, contactId: ownedId, items: row?.contactId === ownedId ? row.items : null, desired, hash, conflict, reason: row?.contactId ? "the customer changed in Canvas" : "found by externalId" });
      continue;
    }
    // Contacts someone else made with one of the customer's numbers: report, change nothing, create nothing.
    const foreign = new Map<string, OpenPhoneContactRecord>();
    for (const p of desired.phoneNumbers) for (const c of input.contactsByPhone.get(p.value) ?? []) if (!isOurs(c)) foreign.set(c.id, c);
    if (foreign.size > 0) {
      const list = [...foreign.values()];
      items.push({ action: "conflict", pageId, title, conflict: `OpenPhone already has ${list.map(describe).join(", ")} with ${desired.phoneNumbers.filter((p) => list.some((c) => c.phones.includes(p.value))).map((p) => p.value).join(", ")}, not made by this product; left alone and no contact created`, contactIds: list.map((c) => c.id) });
      continue;
    }
    items.push({ action: "create", pageId, title, desired, hash, conflict, reason: null });
  }

  for (const row of input.rows.values()) {
    if (titles.has(row.pageId) || !row.contactId || row.status === "removed") continue;
    items.push({ action: "removed", pageId: row.pageId, title: null, contactId: row.contactId, reason: "removed from Canvas; its OpenPhone contact is kept" });
  }
  return items;
}
