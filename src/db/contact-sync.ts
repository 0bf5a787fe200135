/**
 * D1 queries of the Canvas → OpenPhone contact sync: the customers as the Canvas index holds them, what the sync
 * last sent for each, and the last pass's report for the dashboard.
 */
import { readCanvasState, runBatched, writeCanvasState } from "./canvas-index";

export interface CanvasCustomer {
  pageId: string;
  title: string | null;
  company: string | null;
  /** E.164 numbers with the Canvas property each came from, in index order. */
  phones: { value: string; property: string }[];
  emails: { value: string; property: string }[];
  /** Phone values the index could not read, as typed. */
  unreadablePhones: { property: string; raw: string }[];
}

/** Every customer of the Canvas index, with its numbers and addresses. */
export async function readCanvasCustomers(db: D1Database, phoneProperties: string[]): Promise<CanvasCustomer[]> {
  const [pages, keys, unparsed] = await db.batch<Record<string, string | null>>([
    db.prepare("SELECT page_id, title, company FROM canvas_pages ORDER BY page_id"),
    db.prepare("SELECT page_id, key, property FROM canvas_index ORDER BY page_id, added_at, key"),
    db.prepare("SELECT page_id, property, raw FROM canvas_unparsed ORDER BY page_id, property"),
  ]);
  const customers = new Map<string, CanvasCustomer>();
  for (const row of pages?.results ?? []) {
    customers.set(row.page_id!, { pageId: row.page_id!, title: row.title ?? null, company: row.company ?? null, phones: [], emails: [], unreadablePhones: [] });
  }
  for (const row of keys?.results ?? []) {
    const customer = customers.get(row.page_id!);
    const key = row.key!;
    if (!customer) continue;
    if (key.startsWith("phone:")) customer.phones.push({ value: key.slice(6), property: row.property! });
    else if (key.startsWith("email:")) customer.emails.push({ value: key.slice(6), property: row.property! });
  }
  for (const row of unparsed?.results ?? []) {
    const customer = customers.get(row.page_id!);
    // With no phone properties configured every phone_number property is read; an address problem is never one.
    const isPhone = phoneProperties.length > 0 ? phoneProperties.includes(row.property!) : !(row.raw ?? "").includes("@");
    if (customer && isPhone) customer.unreadablePhones.push({ property: row.property!, raw: row.raw! });
  }
  return [...customers.values()];
}

export type ContactSyncStatus = "created" | "updated" | "unchanged" | "skipped" | "conflict" | "failed" | "removed";

/** The ids OpenPhone gave a contact's items: value → id. */
export interface RemoteItems {
  phones: Record<string, string>;
  emails: Record<string, string>;
}

export interface ContactSyncRow {
  pageId: string;
  contactId: string | null;
  sentHash: string | null;
  status: ContactSyncStatus;
  reason: string | null;
  /** Another customer shares a number, or a contact not made by this product has it. */
  conflict: string | null;
  items: RemoteItems | null;
}

export async function readContactSyncRows(db: D1Database): Promise<Map<string, ContactSyncRow>> {
  const { results } = await db
    .prepare("SELECT page_id, contact_id, sent_hash, status, reason, conflict, items FROM contact_sync")
    .all<{ page_id: string; contact_id: string | null; sent_hash: string | null; status: ContactSyncStatus; reason: string | null; conflict: string | null; items: string | null }>();
  return new Map(
    results.map((r) => [
      r.page_id,
      { pageId: r.page_id, contactId: r.contact_id, sentHash: r.sent_hash, status: r.status, reason: r.reason, conflict: r.conflict, items: r.items ? (JSON.parse(r.items) as RemoteItems) : null },
    ]),
  );
}

/** Records outcomes. A row keeps its contact, hash and items when the outcome carries none (a failed update). */
export async function writeContactSyncRows(db: D1Database, rows: ContactSyncRow[], now: number): Promise<void> {
  await runBatched(
    db,
    rows.map((r) =>
      db
        .prepare(
          `INSERT INTO contact_sync (page_id, contact_id, sent_hash, status, reason, items, changed_at, conflict) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
           ON CONFLICT (page_id) DO UPDATE SET contact_id = COALESCE(excluded.contact_id, contact_sync.contact_id),
             sent_hash = COALESCE(excluded.sent_hash, contact_sync.sent_hash), status = excluded.status, reason = excluded.reason, conflict = excluded.conflict,
             items = COALESCE(excluded.items, contact_sync.items),
             changed_at = CASE WHEN contact_sync.status = excluded.status AND contact_sync.reason IS excluded.reason THEN contact_sync.changed_at ELSE excluded.changed_at END`,
        )
        .bind(r.pageId, r.contactId, r.sentHash, r.status, r.reason, r.items ? JSON.stringify(r.items) : null, now, r.conflict),
    ),
  );
}

export interface ContactSyncCounts {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  conflicts: number;
  failed: number;
  removed: number;
}

/** How many customers are in each state now (what the dashboard's Canvas card shows). */
export async function readContactSyncCounts(db: D1Database): Promise<ContactSyncCounts> {
  const [byStatus, conflicts] = await db.batch<{ status: ContactSyncStatus; n: number }>([
    db.prepare("SELECT status, COUNT(*) AS n FROM contact_sync GROUP BY status"),
    db.prepare("SELECT 'conflict' AS status, COUNT(*) AS n FROM contact_sync WHERE conflict IS NOT NULL"),
  ]);
  const n = (status: ContactSyncStatus) => byStatus?.results.find((r) => r.status === status)?.n ?? 0;
  return { created: n("created"), updated: n("updated"), unchanged: n("unchanged"), skipped: n("skipped"), conflicts: conflicts?.results[0]?.n ?? 0, failed: n("failed"), removed: n("removed") };
}

/** The customers the dashboard lists: skipped, in conflict, failed or removed, with their reason. */
export async function readContactSyncProblems(
  db: D1Database,
  limit = 50,
): Promise<{ pageId: string; title: string | null; status: ContactSyncStatus; reason: string | null; conflict: string | null }[]> {
  const { results } = await db
    .prepare(
      `SELECT s.page_id, p.title, s.status, s.reason, s.conflict FROM contact_sync s LEFT JOIN canvas_pages p ON p.page_id = s.page_id
       WHERE s.status IN ('skipped', 'conflict', 'failed', 'removed') OR s.conflict IS NOT NULL OR s.reason IS NOT NULL
       ORDER BY s.changed_at DESC, s.page_id LIMIT ?1`,
    )
    .bind(limit)
    .all<{ page_id: string; title: string | null; status: ContactSyncStatus; reason: string | null; conflict: string | null }>();
  return results.map((r) => ({ pageId: r.page_id, title: r.title, status: r.status, reason: r.reason, conflict: r.conflict }));
}

const LAST_PASS = "contacts_sync_last";

export async function writeLastContactSyncPass(db: D1Database, pass: object): Promise<void> {
  await writeCanvasState(db, LAST_PASS, JSON.stringify(pass)).run();
}

export async function readLastContactSyncPass<T>(db: D1Database): Promise<T | null> {
  const value = (await readCanvasState(db, [LAST_PASS]))[LAST_PASS];
  return value ? (JSON.parse(value) as T) : null;
}

