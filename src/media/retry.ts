/**
 * The later, bounded retry of media that could not be copied. The cron calls `retryPendingMedia`; each run takes the
 * items whose retry time has come (D1 `media_items`) and copies them again, listing the recordings again for a fresh
 * URL where needed. The calls and texts retried are announced to their Line Durable Objects, which take the
 * "unavailable" note off their pages once the file is stored (the link on the page was there all along), or say on
 * it that the sync stopped retrying.
 */
import type { Config } from "../config";
import { dueMediaItems } from "../db/media-items";
import { linesOfResources } from "../db/sync-history";
import { createLogger } from "../observability/logger";
import { copyMediaItems, type CopyMediaOptions, type MediaCopyResult, type MediaEnv } from "./copy";
import type { MediaItem } from "./plan";

export interface RetryMediaOptions extends CopyMediaOptions {
  /** Items per run. Each costs a few subrequests (R2 head, download, perhaps a listing), so keep it modest. */
  limit?: number;
  /** Take items due by this time (default: now); the admin API passes a far future to retry everything now. */
  dueBy?: number;
  /** Also take items whose automatic retries are used up (an operator asked for it). */
  includeExhausted?: boolean;
}

export const MEDIA_RETRY_BATCH = 20;

export type RetryEnv = MediaEnv & Pick<Env, "LINE">;

export async function retryPendingMedia(env: RetryEnv, config: Config, options: RetryMediaOptions = {}): Promise<MediaCopyResult[]> {
  if (config.MEDIA_RETRY_LIMIT === 0 && !options.includeExhausted) return [];
  const now = options.now?.() ?? Date.now();
  const due = await dueMediaItems(env.DB, options.dueBy ?? now, options.limit ?? MEDIA_RETRY_BATCH, options.includeExhausted);
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
  const results = await copyMediaItems(env, config, items, options);
  await announceRetriedMedia(env, results).catch((error) =>
    createLogger(config.LOG_LEVEL, { component: "media-retry" }).error("media retried, but the pages' media notes could not be brought up to date", { error }),
  );
  return results;
}

/**
 * Tells each Line Durable Object which of its calls and texts had media retried, so the pages that say a file is
 * unavailable say what is true now: nothing once it is stored, that the sync stopped retrying once its retries are
 * used up. Pages without such a note, or whose note is unchanged, cost nothing.
 */
export async function announceRetriedMedia(env: Pick<Env, "DB" | "LINE">, results: ReadonlyArray<MediaCopyResult>): Promise<void> {
  const resourceIds = [...new Set(results.map((r) => r.item.resourceId))];
  if (resourceIds.length === 0) return;
  const byLine = new Map<string, string[]>();
  for (const { resourceId, lineId } of await linesOfResources(env.DB, resourceIds)) byLine.set(lineId, [...(byLine.get(lineId) ?? []), resourceId]);
  await Promise.all([...byLine].map(([lineId, ids]) => env.LINE.get(env.LINE.idFromName(lineId)).mediaRetried(ids)));
}
