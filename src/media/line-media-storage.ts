/**
 * The Line Durable Object's media tables (same SQLite database as line/storage.ts):
 * - `media_copies`: media whose link is in Notion and whose bytes are to be copied into R2 (planned `MediaItem`s).
 *   A row stays pending until one copy attempt has ended; what failed is then D1 `media_items`' to retry, so a copy
 *   cut short by a crash or eviction is simply made again (R2 writes are all-or-nothing, copies are idempotent).
 *   Once its attempt has ended a row only keeps a later flush of the same page from asking for the copy again; it is
 *   pruned after COPY_RETENTION_MS (`pruneCopied`, from the alarm's housekeeping). A pending row is never pruned.
 * - `media_notices`: the "unavailable" note on a page whose media could not be copied: the callout block written
 *   (if any), its text, and whether it must be brought up to date with D1 `media_items` (`dirty`, with a version so
 *   a request that arrives while the note is being written is not lost).
 */
import type { MediaItem } from "./plan";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS media_copies (
    key TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL,
    item TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    copied_at INTEGER
  )`,
  `CREATE TABLE IF NOT EXISTS media_notices (
    resource_id TEXT PRIMARY KEY,
    block_id TEXT,
    text TEXT,
    dirty INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0
  )`,
];

/**
 * How long a finished copy is remembered: past the days in which a call's page is flushed again as its transcript,
 * summary and late events arrive, the same week the line keeps event ids for.
 */
export const COPY_RETENTION_MS = 7 * 86_400_000;

/** The "unavailable" note on a page. */
export interface MediaNotice {
  resourceId: string;
  blockId: string | null;
  text: string | null;
  attempts: number;
}

export class MediaStorage {
  constructor(private readonly sql: SqlStorage) {}

  migrate(): void {
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  /** After the page is written: the media its links point to. A file copied before is not copied again. */
  requestCopies(items: MediaItem[], at: number): void {
    for (const item of items) {
      this.sql.exec(
        "INSERT INTO media_copies (key, resource_id, item, requested_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET item = excluded.item",
        item.key,
        item.resourceId,
        JSON.stringify(item),
        at,
      );
    }
  }

  pendingCopies(limit: number): MediaItem[] {
    return this.sql
      .exec<{ item: string }>("SELECT item FROM media_copies WHERE copied_at IS NULL ORDER BY requested_at, key LIMIT ?", limit)
      .toArray()
      .map((r) => JSON.parse(r.item) as MediaItem);
  }

  hasPendingCopies(): boolean {
    return this.sql.exec("SELECT 1 FROM media_copies WHERE copied_at IS NULL LIMIT 1").toArray().length > 0;
  }

  markCopied(keys: string[], at: number): void {
    for (const key of keys) this.sql.exec("UPDATE media_copies SET copied_at = ? WHERE key = ?", at, key);
  }

  /**
   * Forgets copies whose attempt ended before `before`. Nothing is lost: what failed is D1 `media_items`' to retry,
   * and a page flushed again later asks for its copies anew, which costs an R2 `head` per file already stored.
   */
  pruneCopied(before: number): void {
    this.sql.exec("DELETE FROM media_copies WHERE copied_at IS NOT NULL AND copied_at < ?", before);
  }

  notice(resourceId: string): MediaNotice | undefined {
    const row = this.sql
      .exec<{ block_id: string | null; text: string | null; attempts: number }>("SELECT block_id, text, attempts FROM media_notices WHERE resource_id = ?", resourceId)
      .toArray()[0];
    return row ? { resourceId, blockId: row.block_id, text: row.text, attempts: row.attempts } : undefined;
  }

  /** The page's note is to be brought up to date (written, rewritten or removed) from `at` on. */
  markNoticeDue(resourceId: string, at: number): void {
    this.sql.exec(
      `INSERT INTO media_notices (resource_id, dirty, due_at, version) VALUES (?, 1, ?, 1)
       ON CONFLICT (resource_id) DO UPDATE SET dirty = 1, due_at = MIN(COALESCE(due_at, excluded.due_at), excluded.due_at), version = version + 1`,
      resourceId,
      at,
    );
  }

  /** Notes to bring up to date now, each with the version seen. */
  dueNotices(now: number, limit: number): { resourceId: string; version: number }[] {
    return this.sql
      .exec<{ resource_id: string; version: number }>("SELECT resource_id, version FROM media_notices WHERE dirty = 1 AND due_at <= ? ORDER BY due_at LIMIT ?", now, limit)
      .toArray()
      .map((r) => ({ resourceId: r.resource_id, version: r.version }));
  }

  nextNoticeAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(due_at) AS at FROM media_notices WHERE dirty = 1").one().at;
  }

  /** What the page shows now (no block: no note). Stays due when it was asked for again meanwhile. */
  noticeWritten(resourceId: string, version: number, blockId: string | null, text: string | null): void {
    this.sql.exec(
      `UPDATE media_notices SET block_id = ?, text = ?, attempts = 0,
         dirty = CASE WHEN version = ? THEN 0 ELSE dirty END, due_at = CASE WHEN version = ? THEN NULL ELSE due_at END
       WHERE resource_id = ?`,
      blockId,
      text,
      version,
      version,
      resourceId,
    );
    this.sql.exec("DELETE FROM media_notices WHERE resource_id = ? AND block_id IS NULL AND dirty = 0", resourceId);
  }

  noticeFailed(resourceId: string, retryAt: number): number {
    return this.sql.exec<{ attempts: number }>("UPDATE media_notices SET attempts = attempts + 1, due_at = ? WHERE resource_id = ? RETURNING attempts", retryAt, resourceId).toArray()[0]?.attempts ?? 0;
  }

  /** Gives up on a note Notion refuses for good (the page was deleted, the block cannot be edited). */
  dropNotice(resourceId: string): void {
    this.sql.exec("DELETE FROM media_notices WHERE resource_id = ?", resourceId);
  }
}
