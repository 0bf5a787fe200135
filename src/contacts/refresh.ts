/**
 * Keeps the workspace's OpenPhone contacts in D1, so a caller no Canvas customer matches still gets a name. The v1
 * API has no "changed since" filter on contacts, so a refresh lists them all (50 per request) every
 * CONTACTS_REFRESH_MINUTES; contact.* webhooks, where the workspace has them, keep the store current in between.
 * A listing that completes also tells which contacts are gone; one cut short (a gate pause, an error) removes
 * nothing and is started again by the next cron.
 */
import type { Config } from "../config";
import { readCanvasState, writeCanvasState } from "../db/canvas-index";
import { markUnlistedContactsDeleted, storeContacts } from "../db/openphone-contacts";
import type { OpenPhoneClient } from "../openphone/client";
import { parseOpenPhoneContact, type OpenPhoneContactRecord } from "./openphone-contact";

/** Contacts stored per D1 batch while the listing goes on. */
const STORE_EVERY = 200;

export interface ContactsRefreshSummary {
  listed: number;
  /** Contacts the listing no longer carries, now removed from the caller lookup. */
  removed: number;
  /** Items OpenPhone returned that could not be read (no id). */
  unreadable: number;
}

export interface ContactsRefreshOptions {
  force?: boolean;
  now?: () => number;
}

/** Lists every contact when the last complete listing is older than CONTACTS_REFRESH_MINUTES (or when forced). */
export async function refreshOpenPhoneContacts(
  openphone: OpenPhoneClient,
  db: D1Database,
  config: Config,
  options: ContactsRefreshOptions = {},
): Promise<ContactsRefreshSummary | null> {
  const now = options.now ?? Date.now;
  const started = now();
  if (!options.force) {
    const last = Number((await readCanvasState(db, ["contacts_listed_at"])).contacts_listed_at ?? 0);
    if (started - last < config.CONTACTS_REFRESH_MINUTES * 60_000) return null;
  }
  const summary: ContactsRefreshSummary = { listed: 0, removed: 0, unreadable: 0 };
  let pending: OpenPhoneContactRecord[] = [];
  for await (const item of openphone.iterate("listContacts_v1", { maxResults: 50 })) {
    const parsed = parseOpenPhoneContact(item, config.DEFAULT_REGION);
    if (!parsed.ok) {
      summary.unreadable++;
      continue;
    }
    summary.listed++;
    pending.push(parsed.contact);
    if (pending.length >= STORE_EVERY) {
      await storeContacts(db, pending, now());
      pending = [];
    }
  }
  await storeContacts(db, pending, now());
  summary.removed = await markUnlistedContactsDeleted(db, started);
  await writeCanvasState(db, "contacts_listed_at", String(now())).run();
  return summary;
}
