/**
 * What media a call or a message has, and where each piece goes: a pure plan from OpenPhone's records to R2 keys,
 * source URLs and metadata, plus the links Notion gets for them.
 *
 * Keys depend only on ids, the resource's creation date and the file type, so planning the same call twice gives the
 * same keys, and the links can be written into Notion before the bytes are copied.
 */
import type { Config } from "../config";
import type { Call, CallRecording, Voicemail } from "../openphone/client";
import { contentTypeForExtension, extensionFor, mediaUrl, messageMediaKey, recordingKey, voicemailKey } from "./links";

export type MediaKind = "recording" | "voicemail" | "mms";

/** One file to copy from OpenPhone into R2. Serialisable (it is stored in D1 for retries). */
export interface MediaItem {
  kind: MediaKind;
  key: string;
  sourceUrl: string;
  contentType: string;
  /** The call (AC…) or message (AC…) the file belongs to. */
  resourceId: string;
  /** Recording segment id (CR…), voicemail id (VM…), or the attachment's position for MMS ("0", "1", …). */
  mediaId: string;
  durationSeconds: number | null;
}

/** A planned item with the link Notion shows for it. */
export interface LinkedMediaItem extends MediaItem {
  url: string;
}

/** The subset of a message the planner reads. The REST Message has no media; webhook payloads carry `media`. */
export interface MessageWithMedia {
  id: string;
  createdAt?: string | null;
  media?: ReadonlyArray<{ url?: string | null; type?: string | null }> | null;
}

/**
 * Segments in these states have no file yet (it arrives with `call.recording.completed`) or never will; the rest
 * (completed, paused, stopped, unknown) are finished segments.
 */
const UNFINISHED_RECORDING = new Set(["absent", "deleted", "failed", "in-progress", "processing", "stopping"]);

function contentTypeOf(declared: string | null | undefined, ext: string): string {
  const type = declared?.split(";")[0]?.trim().toLowerCase();
  if (type && type.includes("/")) return type;
  return contentTypeForExtension(ext) ?? "application/octet-stream";
}

/** Every recording segment (oldest first, as OpenPhone lists them) and the voicemail of a call. */
export function planCallMedia(
  call: Pick<Call, "id" | "createdAt">,
  recordings: ReadonlyArray<CallRecording> | null | undefined,
  voicemail: Voicemail | null | undefined,
): MediaItem[] {
  const items: MediaItem[] = [];
  for (const recording of recordings ?? []) {
    if (!recording.url || (recording.status && UNFINISHED_RECORDING.has(recording.status))) continue;
    const ext = extensionFor(recording.type, recording.url);
    items.push({
      kind: "recording",
      key: recordingKey(call.createdAt, call.id, recording.id, ext),
      sourceUrl: recording.url,
      contentType: contentTypeOf(recording.type, ext),
      resourceId: call.id,
      mediaId: recording.id,
      durationSeconds: recording.duration ?? null,
    });
  }
  if (voicemail?.recordingUrl && voicemail.status !== "in-progress") {
    const ext = extensionFor(null, voicemail.recordingUrl);
    items.push({
      kind: "voicemail",
      key: voicemailKey(call.createdAt, call.id, ext),
      sourceUrl: voicemail.recordingUrl,
      contentType: contentTypeOf(null, ext),
      resourceId: call.id,
      mediaId: voicemail.id,
      durationSeconds: voicemail.duration ?? null,
    });
  }
  return items;
}

/** Every attachment of an MMS, numbered in the order the message lists them. */
export function planMessageMedia(message: MessageWithMedia): MediaItem[] {
  const items: MediaItem[] = [];
  (message.media ?? []).forEach((attachment, n) => {
    if (!attachment?.url) return;
    const ext = extensionFor(attachment.type, attachment.url);
    items.push({
      kind: "mms",
      key: messageMediaKey(message.createdAt, message.id, n, ext),
      sourceUrl: attachment.url,
      contentType: contentTypeOf(attachment.type, ext),
      resourceId: message.id,
      mediaId: String(n),
      durationSeconds: null,
    });
  });
  return items;
}

/**
 * The Notion-facing link of each item. `baseUrl` is the Worker's public origin (PUBLIC_BASE_URL). With
 * MEDIA_LINK_TTL_SECONDS set the signature carries an expiry, so compute links once and keep them.
 */
export async function linkMediaItems(config: Config, baseUrl: string, items: ReadonlyArray<MediaItem>): Promise<LinkedMediaItem[]> {
  return Promise.all(items.map(async (item) => ({ ...item, url: await mediaUrl(config, item.key, baseUrl) })));
}

/** R2 custom metadata for an item. The source URL is kept without its query, which may hold a download token. */
export function mediaMetadata(item: MediaItem): Record<string, string> {
  const metadata: Record<string, string> = { kind: item.kind, source: stripQuery(item.sourceUrl) };
  if (item.kind === "mms") {
    metadata.messageId = item.resourceId;
    metadata.attachment = item.mediaId;
  } else {
    metadata.callId = item.resourceId;
    metadata[item.kind === "recording" ? "recordingId" : "voicemailId"] = item.mediaId;
  }
  if (item.durationSeconds !== null) metadata.durationSeconds = String(item.durationSeconds);
  return metadata;
}

function stripQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}
