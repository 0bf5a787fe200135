/**
 * The Canvas → OpenPhone contact sync (CONTACTS_SYNC): one pass plans every customer (sync-plan.ts) and carries the
 * plan out through the OpenPhone gate, at most MAX_WRITES_PER_PASS writes per pass, the rest at the next cron.
 *
 * - Before creating anything it lists OpenPhone's contacts afresh, since the API cannot search by number: that is
 *   how a contact someone made by hand with the same number is found and left alone. A pass with nothing to create
 *   or update sends no request at all.
 * - A 400 on one contact is recorded with OpenPhone's message and the pass goes on. A pause of the gate (real-time
 *   work is waiting), a 429 or a 5xx ends the pass: what was done is recorded, the rest is planned again next time.
 * - A dry run plans (and may list contacts, a read) but writes nothing to OpenPhone or to the sync's records.
 */
import type { Config } from "../config";
import { readContactSyncRows, readCanvasCustomers, writeContactSyncRows, writeLastContactSyncPass, type ContactSyncRow, type RemoteItems } from "../db/contact-sync";
import { readCanvasState } from "../db/canvas-index";
import { readContactsByExternalIds, readContactsByPhones, upsertContactStatements } from "../db/openphone-contacts";
import type { RequestCounter } from "../gates/gated-fetch";
import { classifyOpenPhoneError, isOpenPhoneError, isRetryableOpenPhoneFailure, OpenPhoneError, type Contact, type OpenPhoneClient } from "../openphone/client";
import { parseOpenPhoneContact } from "./openphone-contact";
import { refreshOpenPhoneContacts } from "./refresh";
import { createContactBody, remoteItemsOf, updateContactBody } from "./sync-bodies";
import { canonicalContact, desiredContactOf, planContactSync, type PlanItem } from "./sync-plan";
import type { ContactSyncItemReport, ContactSyncReport } from "./sync-report";

export type { ContactSyncItemReport, ContactSyncReport } from "./sync-report";

/** Creates and updates per pass; a large Canvas is synced over several crons. */
export const MAX_WRITES_PER_PASS = 250;

export interface ContactSyncDeps {
  db: D1Database;
  config: Config;
  openphone: OpenPhoneClient;
  counter: RequestCounter;
  now: () => number;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function plan(db: D1Database, config: Config): Promise<PlanItem[]> {
  const customers = await readCanvasCustomers(db, config.CANVAS_PHONE_PROPERTIES);
  const hashes = new Map<string, string>();
  const phones = new Set<string>();
  for (const customer of customers) {
    const result = desiredContactOf(customer);
    if (!result.ok) continue;
    hashes.set(customer.pageId, await sha256Hex(canonicalContact(result.desired)));
    for (const p of result.desired.phoneNumbers) phones.add(p.value);
  }
  const [rows, contactsByPhone, contactsByExternalId] = await Promise.all([
    readContactSyncRows(db),
    readContactsByPhones(db, [...phones]),
    readContactsByExternalIds(db, [...hashes.keys()]),
  ]);
  return planContactSync({ customers, hashes, rows, contactsByPhone, contactsByExternalId });
}

const emptyCounts = (): ContactSyncReport["counts"] => ({ create: 0, update: 0, unchanged: 0, skip: 0, conflict: 0, removed: 0, failed: 0 });

/** Whether an error ends the pass (try again later) rather than fail only this contact. */
function endsPass(error: unknown): boolean {
  const failure = classifyOpenPhoneError(error);
  return failure.kind === "unknown" || isRetryableOpenPhoneFailure(failure);
}

export interface ContactSyncOptions {
  dryRun: boolean;
  /** A listing that completed after this time is fresh enough to create by (default: the start of this pass). */
  listedSince?: number;
}

export async function syncContactsToOpenPhone(deps: ContactSyncDeps, options: ContactSyncOptions): Promise<ContactSyncReport> {
  const { db, config, openphone, counter, now } = deps;
  const startedAt = now();
  const report: ContactSyncReport = { dryRun: options.dryRun, startedAt, finishedAt: startedAt, openphoneRequests: 0, listed: false, counts: emptyCounts(), items: [] };
  const requestsBefore = counter.openphone;

  let items = await plan(db, config);
  if (items.some((i) => i.action === "create")) {
    // A fresh listing: a contact made by hand since the last one must be seen before a duplicate is made.
    const listedAt = Number((await readCanvasState(db, ["contacts_listed_at"])).contacts_listed_at ?? 0);
    if (listedAt < (options.listedSince ?? startedAt)) {
      await refreshOpenPhoneContacts(openphone, db, config, { force: true, now });
      report.listed = true;
      items = await plan(db, config);
    }
  }

  const rows: ContactSyncRow[] = [];
  let writes = 0;
  for (const item of items) {
    if (report.stoppedEarly && (item.action === "create" || item.action === "update")) continue;
    if ((item.action === "create" || item.action === "update") && writes >= MAX_WRITES_PER_PASS) {
      report.stoppedEarly = `${MAX_WRITES_PER_PASS} writes per pass; the rest follow at the next pass`;
      continue;
    }
    const entry: ContactSyncItemReport = { action: item.action, pageId: item.pageId, title: item.title };
    if ("contactId" in item) entry.contactId = item.contactId;
    if ("reason" in item && item.reason) entry.reason = item.reason;
    if ("conflict" in item && item.conflict) entry.conflict = item.conflict;
    if (options.dryRun) {
      report.items.push(entry);
      report.counts[item.action]++;
      continue;
    }
    switch (item.action) {
      case "unchanged":
        break;
      case "skip":
        rows.push({ pageId: item.pageId, contactId: null, sentHash: null, status: "skipped", reason: item.reason, conflict: null, items: null });
        break;
      case "conflict":
        rows.push({ pageId: item.pageId, contactId: null, sentHash: null, status: "conflict", reason: null, conflict: item.conflict, items: null });
        break;
      case "removed":
        rows.push({ pageId: item.pageId, contactId: item.contactId, sentHash: null, status: "removed", reason: item.reason, conflict: null, items: null });
        break;
      case "create":
      case "update": {
        writes++;
        try {
          const written = await write(deps, item);
          entry.contactId = written.contactId;
          if (written.action !== item.action) entry.action = written.action;
          rows.push({ pageId: item.pageId, contactId: written.contactId, sentHash: item.hash, status: written.action === "create" ? "created" : "updated", reason: null, conflict: item.conflict, items: written.items });
          await db.batch(upsertContactStatements(db, written.stored, now()));
        } catch (error) {
          if (endsPass(error)) {
            report.stoppedEarly = error instanceof Error ? error.message : String(error);
            continue;
          }
          entry.action = "failed";
          entry.reason = (error as Error).message;
          rows.push({ pageId: item.pageId, contactId: null, sentHash: null, status: "failed", reason: entry.reason, conflict: item.conflict, items: null });
        }
        break;
      }
    }
    report.counts[entry.action]++;
    report.items.push(entry);
  }
  if (!options.dryRun) await writeContactSyncRows(db, rows, now());
  report.finishedAt = now();
  report.openphoneRequests = counter.openphone - requestsBefore;
  if (!options.dryRun) await writeLastContactSyncPass(db, { ...report, items: report.items.filter((i) => i.action !== "unchanged").slice(0, 100) });
  return report;
}

interface Written {
  action: "create" | "update";
  contactId: string;
  items: RemoteItems;
  stored: ReturnType<typeof storedOf>;
}

function storedOf(contact: unknown, config: Config) {
  const parsed = parseOpenPhoneContact(contact, config.DEFAULT_REGION);
  if (!parsed.ok) throw new OpenPhoneError(`OpenPhone answered with a contact that cannot be read: ${parsed.reason}`, { status: 502, operation: "createContact_v1", code: "invalid_response" });
  return parsed.contact;
}

/**
 * One create or update. A create OpenPhone refuses with 409 (a contact with this externalId exists: an earlier
 * pass created it and its answer was lost) becomes an update of that contact; an update of a contact deleted in
 * OpenPhone (404) becomes a create.
 */
async function write(deps: ContactSyncDeps, item: Extract<PlanItem, { action: "create" | "update" }>): Promise<Written> {
  const { openphone, config } = deps;
  const done = (action: "create" | "update", data: Contact): Written => ({ action, contactId: data.id, items: remoteItemsOf(data, config.DEFAULT_REGION), stored: storedOf(data, config) });
  const create = async (): Promise<Written> => {
    try {
      const created = await openphone.request("createContact_v1", { body: createContactBody(item.desired) });
      return done("create", created.data);
    } catch (error) {
      if (!isOpenPhoneError(error) || error.code !== "conflict") throw error;
      const existing = await openphone.request("listContacts_v1", { query: { externalIds: [item.desired.externalId], maxResults: 1 } });
      const found = existing.data[0];
      if (!found) throw error;
      return update(found.id, remoteItemsOf(found, config.DEFAULT_REGION));
    }
  };
  const update = async (contactId: string, items: RemoteItems | null): Promise<Written> => {
    try {
      const known = items ?? remoteItemsOf((await openphone.request("getContactById_v1", { path: { id: contactId } })).data, config.DEFAULT_REGION);
      const updated = await openphone.request("updateContactById_v1", { path: { id: contactId }, body: updateContactBody(item.desired, known) });
      return done("update", updated.data);
    } catch (error) {
      if (classifyOpenPhoneError(error).kind === "not_found") return create();
      throw error;
    }
  };
  return item.action === "create" ? create() : update(item.contactId, item.items);
}
