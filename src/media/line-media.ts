/**
 * The Line Durable Object's media work, done after the pages are written (never before, so media never holds a page
 * back):
 * - copy the files whose links the pages now carry into R2 (`copyMediaItems`: streamed, a few at a time, through the
 *   OpenPhone gate where it hits the API), a batch per alarm;
 * - keep each page's "unavailable" note in step with D1 `media_items`: written when a file could not be copied (after
 *   TRANSIENT_NOTE_DELAY_MS when the failure usually passes, so a retry that stores it first costs the page nothing),
 *   rewritten when its retries are used up, removed when a later retry stored it. A page whose media all copied
 *   costs no Notion request here.
 *
 * Crash safety: a copy request stays pending in `media_copies` until its attempt has ended, and the alarm set before
 * copying fires again if the object dies mid-copy; copying again is harmless (an object already stored is skipped,
 * and an R2 write is all-or-nothing). A note is `dirty` until Notion has it.
 */
import type { Client } from "@notionhq/client";
import type { Config } from "../config";
import { mediaItemsOf, type MediaItemRecord } from "../db/media-items";
import type { RequestCounter } from "../gates/gated-fetch";
import { copyMediaItems } from "./copy";
import { mediaNoticeBlock, mediaNoticeText } from "./notice";
import { richText } from "../notion/mapping";
import { classifyNotionError, isGoneFromNotion } from "../notion/errors";
import type { Logger } from "../observability/logger";
import { FLUSH_RETRY_BACKOFF } from "../line/schedule";
import { backoffMs } from "../retry/backoff";
import type { ResourceState } from "../line/state";
import type { LineStorage } from "../line/storage";

/** Files copied per alarm; more are left for the next alarm, set right away. */
export const MEDIA_COPY_BATCH = 20;
/**
 * A file that failed in a way that usually passes (5xx, a timeout) gets its page's note only this long after, when
 * the cron's first retry (every 5 minutes) has not stored it: a passing hiccup costs the page nothing.
 */
export const TRANSIENT_NOTE_DELAY_MS = 10 * 60_000;
/** Notes written per alarm. */
const NOTICE_BATCH = 10;
/** A note Notion keeps refusing (not a 400) is given up after this many tries. */
const NOTICE_ATTEMPTS = 8;

export interface MediaWorkDeps {
  env: Pick<Env, "MEDIA" | "DB" | "GATE">;
  store: LineStorage;
  config: Config;
  notion: Client;
  counter: RequestCounter;
  log: Logger;
  now(): number;
}

export interface MediaCopyFigures {
  stored: number;
  alreadyStored: number;
  unavailable: number;
  bytes: number;
  /** Summed over the files stored: from the request for each source to its last byte in R2. */
  uploadMs: number;
}

/** Copies one batch of the pending media; files that could not be copied get their page's note due. */
export async function copyRequestedMedia(deps: MediaWorkDeps): Promise<MediaCopyFigures> {
  const { store, config } = deps;
  const figures: MediaCopyFigures = { stored: 0, alreadyStored: 0, unavailable: 0, bytes: 0, uploadMs: 0 };
  const items = store.media.pendingCopies(MEDIA_COPY_BATCH);
  if (items.length === 0) return figures;
  const results = await copyMediaItems(deps.env, config, items, { counter: deps.counter, now: deps.now });
  const now = deps.now();
  const noteDue = new Map<string, number>();
  const due = (resourceId: string, at: number) => noteDue.set(resourceId, Math.min(at, noteDue.get(resourceId) ?? at));
  for (const result of results) {
    if (result.status === "unavailable") {
      figures.unavailable++;
      due(result.item.resourceId, result.transient ? now + TRANSIENT_NOTE_DELAY_MS : now);
      deps.log.warn(result.transient ? "media copy failed; the cron retries, and the page says so if that fails too" : "media unavailable; the page says so and the cron retries", { key: result.item.key, reason: result.reason });
    } else {
      figures[result.status === "stored" ? "stored" : "alreadyStored"]++;
      if (result.status === "stored") {
        figures.bytes += result.size;
        figures.uploadMs += result.ms;
      }
      // A page that shows a note already may now show less of one.
      if (store.media.notice(result.item.resourceId)) due(result.item.resourceId, now);
    }
  }
  store.media.markCopied(results.map((r) => r.item.key), now);
  for (const [resourceId, at] of noteDue) store.media.markNoticeDue(resourceId, at);
  return figures;
}

/** Brings the due notes up to date: writes, rewrites or removes one callout per page. */
export async function syncMediaNotices(deps: MediaWorkDeps): Promise<void> {
  const { store } = deps;
  for (const { resourceId, version } of store.media.dueNotices(deps.now(), NOTICE_BATCH)) {
    const notice = store.media.notice(resourceId);
    const record = store.get(resourceId);
    if (!notice || !record?.pageId) {
      store.media.dropNotice(resourceId);
      continue;
    }
    try {
      const unavailable = (await mediaItemsOf(deps.env.DB, resourceId)).filter((item) => item.status === "unavailable");
      const text = mediaNoticeText(unavailable.map((item) => ({ label: mediaLabel(record.state, item), reason: item.reason ?? "the copy failed", retrying: item.nextAttemptAt !== null })));
      const blockId = await writeNotice(deps.notion, record.pageId, notice, text);
      store.media.noticeWritten(resourceId, version, blockId, text);
    } catch (error) {
      const failure = classifyNotionError(error);
      const attempts = (notice.attempts ?? 0) + 1;
      if (failure.kind === "permanent" || attempts >= NOTICE_ATTEMPTS) {
        deps.log.error("could not show the media note on the page; giving up", { resourceId, message: failure.message });
        store.media.dropNotice(resourceId);
      } else {
        store.media.noticeFailed(resourceId, deps.now() + Math.max(failure.delayMs, backoffMs(FLUSH_RETRY_BACKOFF, attempts)));
      }
    }
  }
}

/** The block id the page now holds the note in, or null when it holds none. */
async function writeNotice(notion: Client, pageId: string, notice: { blockId: string | null; text: string | null }, text: string | null): Promise<string | null> {
  if (text === null) {
    if (notice.blockId) await deleteBlock(notion, notice.blockId);
    return null;
  }
  if (notice.blockId && notice.text === text) return notice.blockId;
  if (notice.blockId) {
    try {
      await notion.blocks.update({ block_id: notice.blockId, callout: { rich_text: richText(text) } } as unknown as Parameters<Client["blocks"]["update"]>[0]);
      return notice.blockId;
    } catch (error) {
      // Someone removed the note from the page: write it again.
      if (!isGoneFromNotion(error)) throw error;
    }
  }
  const made = await notion.blocks.children.append({ block_id: pageId, children: [mediaNoticeBlock(text)] } as unknown as Parameters<Client["blocks"]["children"]["append"]>[0]);
  const id = (made.results as { id: string }[])[0]?.id;
  if (!id) throw new Error("Notion answered the append of the media note without the block");
  return id;
}

async function deleteBlock(notion: Client, blockId: string): Promise<void> {
  try {
    await notion.blocks.delete({ block_id: blockId });
  } catch (error) {
    if (!isGoneFromNotion(error)) throw error;
  }
}

/** How the page names a file: as the audio blocks' captions and the Media property do. */
export function mediaLabel(state: ResourceState, item: Pick<MediaItemRecord, "kind" | "mediaId">): string {
  if (item.kind === "voicemail") return "Voicemail";
  if (item.kind === "mms") return `Media ${Number(item.mediaId) + 1}`;
  const ids = state.kind === "call" ? (state.recordings ?? []).map((r) => r.id).filter((id): id is string => Boolean(id)) : [];
  const index = ids.indexOf(item.mediaId);
  if (ids.length <= 1) return "Recording";
  return index === -1 ? `Recording ${item.mediaId}` : `Recording ${index + 1}`;
}
