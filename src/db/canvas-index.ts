/**
 * D1 queries of the Canvas index: pages, their normalised keys, values that could not be read, the negative cache
 * and the index's own state (watermark, data source id, version). Writes are batched.
 */
import type { CanvasPageRecord } from "../canvas/notion-page";

/** D1 allows 100 bound parameters per statement; keep lists below that. */
const BIND_CHUNK = 90;
/** Statements per `batch()` call. */
const BATCH_CHUNK = 200;

export function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export async function runBatched(db: D1Database, statements: D1PreparedStatement[]): Promise<void> {
  for (const part of chunk(statements, BATCH_CHUNK)) if (part.length > 0) await db.batch(part);
}

export async function readCanvasState(db: D1Database, names: string[]): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  const { results } = await db
    .prepare(`SELECT name, value FROM canvas_state WHERE name IN (${names.map((_, i) => `?${i + 1}`).join(", ")})`)
    .bind(...names)
    .all<{ name: string; value: string }>();
  return Object.fromEntries(results.map((r) => [r.name, r.value]));
}

export function writeCanvasState(db: D1Database, name: string, value: string): D1PreparedStatement {
  return db.prepare("INSERT INTO canvas_state (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value").bind(name, value);
}

/** The index version: it changes whenever any key is added to or removed from the index. */
export async function readIndexVersion(db: D1Database): Promise<number> {
  const row = await db.prepare("SELECT value FROM canvas_state WHERE name = 'index_version'").first<{ value: string }>();
  return row ? Number(row.value) : 0;
}

/** The keys each page has in the index now. */
export async function readKeysOfPages(db: D1Database, pageIds: string[]): Promise<Map<string, Set<string>>> {
  const keys = new Map<string, Set<string>>();
  for (const ids of chunk(pageIds, BIND_CHUNK)) {
    const { results } = await db
      .prepare(`SELECT page_id, key FROM canvas_index WHERE page_id IN (${ids.map((_, i) => `?${i + 1}`).join(", ")})`)
      .bind(...ids)
      .all<{ page_id: string; key: string }>();
    for (const row of results) {
      let set = keys.get(row.page_id);
      if (!set) keys.set(row.page_id, (set = new Set()));
      set.add(row.key);
    }
  }
  return keys;
}

/** Title and last edit of each page the index holds, to skip pages a refresh reads again unchanged. */
export async function readPageVersions(db: D1Database, pageIds: string[]): Promise<Map<string, { title: string | null; company: string | null; lastEditedTime: string }>> {
  const rows = new Map<string, { title: string | null; company: string | null; lastEditedTime: string }>();
  for (const ids of chunk(pageIds, BIND_CHUNK)) {
    const { results } = await db
      .prepare(`SELECT page_id, title, company, last_edited_time FROM canvas_pages WHERE page_id IN (${ids.map((_, i) => `?${i + 1}`).join(", ")})`)
      .bind(...ids)
      .all<{ page_id: string; title: string | null; company: string | null; last_edited_time: string }>();
    for (const row of results) rows.set(row.page_id, { title: row.title, company: row.company, lastEditedTime: row.last_edited_time });
  }
  return rows;
}

/** Statements that replace what the index holds for a page (or remove it). */
export function replacePageStatements(db: D1Database, page: CanvasPageRecord, previousKeys: Set<string>, now: number): D1PreparedStatement[] {
  const statements = [
    db.prepare("DELETE FROM canvas_unparsed WHERE page_id = ?1").bind(page.pageId),
  ];
  const nextKeys = new Set(page.entries.map((e) => e.key));
  for (const key of previousKeys) {
    if (page.removed || !nextKeys.has(key)) statements.push(db.prepare("DELETE FROM canvas_index WHERE key = ?1 AND page_id = ?2").bind(key, page.pageId));
  }
  if (page.removed) {
    statements.push(db.prepare("DELETE FROM canvas_pages WHERE page_id = ?1").bind(page.pageId));
    return statements;
  }
  statements.push(
    db
      .prepare(
        `INSERT INTO canvas_pages (page_id, title, last_edited_time, archived, indexed_at, company) VALUES (?1, ?2, ?3, 0, ?4, ?5)
         ON CONFLICT (page_id) DO UPDATE SET title = excluded.title, company = excluded.company, last_edited_time = excluded.last_edited_time, archived = 0, indexed_at = excluded.indexed_at`,
      )
      .bind(page.pageId, page.title, page.lastEditedTime, now, page.company),
  );
  for (const entry of page.entries) {
    statements.push(
      db
        .prepare(
          `INSERT INTO canvas_index (key, page_id, property, raw, added_at) VALUES (?1, ?2, ?3, ?4, ?5)
           ON CONFLICT (key, page_id) DO UPDATE SET property = excluded.property, raw = excluded.raw`,
        )
        .bind(entry.key, page.pageId, entry.property, entry.raw, now),
    );
  }
  // A key that now has a customer is no longer unknown.
  for (const key of nextKeys) if (!previousKeys.has(key)) statements.push(db.prepare("DELETE FROM canvas_negative WHERE key = ?1").bind(key));
  for (const item of page.unparsed) {
    statements.push(
      db
        .prepare("INSERT INTO canvas_unparsed (page_id, property, raw, seen_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET seen_at = excluded.seen_at")
        .bind(page.pageId, item.property, item.raw, now),
    );
  }
  return statements;
}

/** Marks pages as seen by a full build (so the pages it did not see can be dropped afterwards). */
export function markSeenStatements(db: D1Database, pageIds: string[], now: number): D1PreparedStatement[] {
  return chunk(pageIds, BIND_CHUNK).map((ids) =>
    db.prepare(`UPDATE canvas_pages SET indexed_at = ?1 WHERE page_id IN (${ids.map((_, i) => `?${i + 2}`).join(", ")})`).bind(now, ...ids),
  );
}

/** Drops every page a full build that started at `buildStartedAt` did not see (deleted, trashed, unshared). */
export async function dropPagesNotSeenSince(db: D1Database, buildStartedAt: number): Promise<number> {
  const gone = await db.prepare("SELECT page_id FROM canvas_pages WHERE indexed_at < ?1").bind(buildStartedAt).all<{ page_id: string }>();
  if (gone.results.length === 0) return 0;
  await db.batch([
    db.prepare("DELETE FROM canvas_index WHERE page_id IN (SELECT page_id FROM canvas_pages WHERE indexed_at < ?1)").bind(buildStartedAt),
    db.prepare("DELETE FROM canvas_unparsed WHERE page_id IN (SELECT page_id FROM canvas_pages WHERE indexed_at < ?1)").bind(buildStartedAt),
    db.prepare("DELETE FROM canvas_pages WHERE indexed_at < ?1").bind(buildStartedAt),
  ]);
  return gone.results.length;
}

/**
 * The Canvas page of each key found in the index. When several customers share a key the smallest page id wins,
 * so the choice is the same every time (the `canvas_ambiguous` view lists these keys).
 */
export async function lookupIndex(db: D1Database, keys: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const part of chunk(keys, BIND_CHUNK)) {
    const { results } = await db
      .prepare(`SELECT key, MIN(page_id) AS page_id FROM canvas_index WHERE key IN (${part.map((_, i) => `?${i + 1}`).join(", ")}) GROUP BY key`)
      .bind(...part)
      .all<{ key: string; page_id: string }>();
    for (const row of results) found.set(row.key, row.page_id);
  }
  return found;
}

/** Keys remembered as unknown and not yet expired. */
export async function lookupNegative(db: D1Database, keys: string[], now: number): Promise<Set<string>> {
  const unknown = new Set<string>();
  for (const part of chunk(keys, BIND_CHUNK)) {
    const { results } = await db
      .prepare(`SELECT key FROM canvas_negative WHERE expires_at > ?1 AND key IN (${part.map((_, i) => `?${i + 2}`).join(", ")})`)
      .bind(now, ...part)
      .all<{ key: string }>();
    for (const row of results) unknown.add(row.key);
  }
  return unknown;
}

/** Drops the "unknown" entries expired by `now`: they are no longer read. */
export function dropExpiredNegativeStatement(db: D1Database, now: number): D1PreparedStatement {
  return db.prepare("DELETE FROM canvas_negative WHERE expires_at <= ?1").bind(now);
}

export async function rememberNegative(db: D1Database, keys: string[], now: number, ttlMs: number): Promise<void> {
  await runBatched(
    db,
    keys.map((key) =>
      db
        .prepare(
          `INSERT INTO canvas_negative (key, expires_at, first_seen_at, lookups) VALUES (?1, ?2, ?3, 1)
           ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, lookups = lookups + 1`,
        )
        .bind(key, now + ttlMs, now),
    ),
  );
}

/** The workspace's own numbers (its OpenPhone lines), which are never customers. */
export async function readOwnNumbers(db: D1Database): Promise<Set<string>> {
  const { results } = await db.prepare("SELECT number FROM lines WHERE number IS NOT NULL").all<{ number: string }>();
  return new Set(results.map((r) => r.number));
}

export interface CanvasIndexStats {
  pages: number;
  keys: number;
  unparsed: number;
  ambiguous: number;
  unmatchedParticipants: number;
  version: number;
  watermark: string | null;
  lastRefreshAt: number | null;
  lastFullBuildAt: number | null;
}

/** Figures for the dashboard. */
export async function readCanvasIndexStats(db: D1Database): Promise<CanvasIndexStats> {
  const [pages, keys, unparsed, ambiguous, unmatched, state] = await db.batch<Record<string, unknown>>([
    db.prepare("SELECT COUNT(*) AS n FROM canvas_pages"),
    db.prepare("SELECT COUNT(*) AS n FROM canvas_index"),
    db.prepare("SELECT COUNT(*) AS n FROM canvas_unparsed"),
    db.prepare("SELECT COUNT(*) AS n FROM canvas_ambiguous"),
    db.prepare("SELECT COUNT(*) AS n FROM canvas_unmatched"),
    db.prepare("SELECT name, value FROM canvas_state WHERE name IN ('index_version', 'watermark', 'last_refresh_at', 'full_built_at')"),
  ]);
  const n = (r: D1Result<Record<string, unknown>> | undefined) => Number(r?.results[0]?.n ?? 0);
  const values = Object.fromEntries((state?.results ?? []).map((r) => [r.name as string, r.value as string]));
  return {
    pages: n(pages),
    keys: n(keys),
    unparsed: n(unparsed),
    ambiguous: n(ambiguous),
    unmatchedParticipants: n(unmatched),
    version: Number(values.index_version ?? 0),
    watermark: values.watermark ?? null,
    lastRefreshAt: values.last_refresh_at ? Number(values.last_refresh_at) : null,
    lastFullBuildAt: values.full_built_at ? Number(values.full_built_at) : null,
  };
}

/** A Canvas customer's page title as the index holds it (null when the page has none or is not indexed). */
export async function readCanvasTitle(db: D1Database, pageId: string): Promise<string | null> {
  const row = await db.prepare("SELECT title FROM canvas_pages WHERE page_id = ?1").bind(pageId).first<{ title: string | null }>();
  return row?.title ?? null;
}

/** Forgets one remembered Canvas state value. */
export async function deleteCanvasState(db: D1Database, name: string): Promise<void> {
  await db.prepare("DELETE FROM canvas_state WHERE name = ?1").bind(name).run();
}
