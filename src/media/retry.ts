/**
 * The later, bounded retry of media that could not be copied. The cron calls `retryPendingMedia`; each run takes the
 * items whose retry time has come (D1 `media_items`) and copies them again, listing the recordings again for a fresh
 * URL where needed. The results say which calls and messages now have their media, so their pages can be updated.
 */
import type { Config } from "../config";
import { dueMediaItems } from "../db/media-items";
import { copyMediaItems, type CopyMediaOptions, type MediaCopyResult, type MediaEnv } from "./copy";
import type { MediaItem } from "./plan";

export interface RetryMediaOptions extends CopyMediaOptions {
  /** Items per run. Each costs a few subrequests (R2 head, download, perhaps a listing), so keep it modest. */
  limit?: number;
  /** Take items due by this time (default: now); the admin API passes a far future to retry everything now. */
  dueBy?: number;
}

export const MEDIA_RETRY_BATCH = 20;

export async function retryPendingMedia(env: MediaEnv, config: Config, options: RetryMediaOptions = {}): Promise<MediaCopyResult[]> {
  if (config.MEDIA_RETRY_LIMIT === 0) return [];
  const now = options.now?.() ?? Date.now();
  const due = await dueMediaItems(env.DB, options.dueBy ?? now, options.limit ?? MEDIA_RETRY_BATCH);
  if (due.length === 0) return [];
  const items: MediaItem[] = due.map(({ kind, key, sourceUrl, contentType, resourceId, mediaId, durationSeconds }) => ({
    kind,
    key,
    sourceUrl,
    contentType,
    resourceId,
    mediaId,
    durationSeconds,
  }));
  return copyMediaItems(env, config, items, options);
}
