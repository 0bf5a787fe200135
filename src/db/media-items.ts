/**
 * Media copies in D1 (`media_items`): what is stored, what is not and why, and when the cron tries again.
 * A failed copy is retried with a doubling delay until it has been retried MEDIA_RETRY_LIMIT times.
 */
import type { MediaItem, MediaKind } from "../media/plan";

export type MediaOutcome = { status: "stored"; size: number } | { status: "unavailable"; reason: string };

export interface MediaItemRecord extends MediaItem {
  status: "stored" | "unavailable";
  attempts: number;
  reason: string | null;
  size: number | null;
  nextAttemptAt: number | null;
  updatedAt: number;
}

/** First retry after 5 minutes (the cron's period), doubling, at most every 6 hours. */
export const MEDIA_RETRY_BASE_MS = 5 * 60_000;
export const MEDIA_RETRY_MAX_MS = 6 * 3_600_000;

interface MediaItemRow {
  key: string;
  kind: MediaKind;
  resource_id: string;
  media_id: string;
  source_url: string;
  content_type: string;
  duration_seconds: number | null;
  status: "stored" | "unavailable";
  attempts: number;
  reason: string | null;
  size: number | null;
  next_attempt_at: number | null;
  updated_at: number;
}

function fromRow(row: MediaItemRow): MediaItemRecord {
  return {
    kind: row.kind,
    key: row.key,
    resourceId: row.resource_id,
    mediaId: row.media_id,
    sourceUrl: row.source_url,
    contentType: row.content_type,
    durationSeconds: row.duration_seconds,
    status: row.status,
    attempts: row.attempts,
    reason: row.reason,
    size: row.size,
    nextAttemptAt: row.next_attempt_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Records how each copy went. A stored item forgets its failures; an unavailable one counts the attempt and gets its
 * next retry time, or none once `retryLimit` retries have been spent.
 */
export async function recordMediaOutcomes(
  db: D1Database,
  entries: ReadonlyArray<{ item: MediaItem; outcome: MediaOutcome }>,
  retryLimit: number,
  now = Date.now(),
): Promise<void> {
  if (entries.length === 0) return;
  await db.batch(
    entries.map(({ item, outcome }) => {
      const stored = outcome.status === "stored";
      return db
        .prepare(
          `INSERT INTO media_items (key, kind, resource_id, media_id, source_url, content_type, duration_seconds, status,
             attempts, reason, size, next_attempt_at, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
             CASE WHEN ?8 = 'stored' OR ?12 < 1 THEN NULL ELSE ?13 + ?14 END, ?13, ?13)
           ON CONFLICT (key) DO UPDATE SET
             source_url = excluded.source_url,
             content_type = excluded.content_type,
             duration_seconds = COALESCE(excluded.duration_seconds, media_items.duration_seconds),
             status = excluded.status,
             attempts = CASE WHEN excluded.status = 'stored' THEN media_items.attempts ELSE media_items.attempts + 1 END,
             reason = excluded.reason,
             size = COALESCE(excluded.size, media_items.size),
             next_attempt_at = CASE
               WHEN excluded.status = 'stored' OR media_items.attempts + 1 > ?12 THEN NULL
               ELSE ?13 + MIN(?14 * (1 << MIN(media_items.attempts, 16)), ?15)
             END,
             updated_at = ?13`,
        )
        .bind(
          item.key,
          item.kind,
          item.resourceId,
          item.mediaId,
          item.sourceUrl,
          item.contentType,
          item.durationSeconds,
          outcome.status,
          stored ? 0 : 1,
          stored ? null : outcome.reason,
          stored ? outcome.size : null,
          retryLimit,
          now,
          MEDIA_RETRY_BASE_MS,
          MEDIA_RETRY_MAX_MS,
        );
    }),
  );
}

/** Unavailable items whose retry time has come, oldest first. */
export async function dueMediaItems(db: D1Database, now: number, limit: number, includeExhausted = false): Promise<MediaItemRecord[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM media_items
       WHERE status = 'unavailable' AND ((next_attempt_at IS NOT NULL AND next_attempt_at <= ?1) OR (?3 AND next_attempt_at IS NULL))
       ORDER BY next_attempt_at IS NULL, next_attempt_at LIMIT ?2`,
    )
    .bind(now, limit, includeExhausted ? 1 : 0)
    .all<MediaItemRow>();
  return results.map(fromRow);
}

/** Every media item of a call or message, for its page and the dashboard. */
export async function mediaItemsOf(db: D1Database, resourceId: string): Promise<MediaItemRecord[]> {
  const { results } = await db.prepare("SELECT * FROM media_items WHERE resource_id = ?1 ORDER BY key").bind(resourceId).all<MediaItemRow>();
  return results.map(fromRow);
}
