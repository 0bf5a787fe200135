/**
 * Fresh download URLs for recordings and voicemails whose URL stopped working. OpenPhone does not document how long
 * its media URLs live, so an expired one is replaced by listing the call's recordings (or its voicemail) again.
 * One listing per call serves every segment of that call within a copy run.
 */
import type { OpenPhoneClient } from "../openphone/client";
import type { MediaItem } from "./plan";

/** Per copy run: call id → listing (recording or voicemail id → URL, or the reason there is none). */
export type SourceUrlCache = Map<string, Promise<Map<string, string | null> | string>>;

export interface RefreshedUrl {
  url: string | null;
  /** Why there is no URL (when `url` is null). */
  reason: string;
}

export async function refreshSourceUrl(client: OpenPhoneClient, item: MediaItem, cache: SourceUrlCache): Promise<RefreshedUrl> {
  if (item.kind === "mms") return { url: null, reason: "MMS media cannot be listed again through the API" };
  const cacheKey = `${item.kind}:${item.resourceId}`;
  let listing = cache.get(cacheKey);
  if (!listing) {
    listing = listUrls(client, item);
    cache.set(cacheKey, listing);
  }
  const result = await listing;
  if (typeof result === "string") return { url: null, reason: result };
  const url = result.get(item.mediaId);
  if (url === undefined) return { url: null, reason: `OpenPhone no longer lists ${item.kind} ${item.mediaId}` };
  if (url === null) return { url: null, reason: `OpenPhone lists ${item.kind} ${item.mediaId} without a URL` };
  return { url, reason: "" };
}

async function listUrls(client: OpenPhoneClient, item: MediaItem): Promise<Map<string, string | null> | string> {
  try {
    if (item.kind === "recording") {
      const { data } = await client.request("getCallRecordings_v1", { path: { callId: item.resourceId } });
      return new Map(data.map((recording) => [recording.id, recording.url ?? null]));
    }
    const { data } = await client.request("getCallVoicemails_v1", { path: { callId: item.resourceId } });
    return new Map(data ? [[data.id, data.recordingUrl ?? null]] : []);
  } catch (error) {
    const what = item.kind === "recording" ? "recordings" : "voicemail";
    return `listing the ${what} again failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}
