/**
 * Copies planned media from OpenPhone into R2, streamed (see r2-stream.ts), a few at a time, and records each outcome
 * in D1 so the cron can retry what failed.
 *
 * - Idempotent: an object already under the key is a complete earlier copy (R2 writes are atomic), so it is not
 *   downloaded again.
 * - Source URLs on the OpenPhone API's own host carry the API key, and those under its versioned API (`/v1/…`) spend
 *   the shared OpenPhone budget (the gate); file downloads (a storage host, or the API host outside `/v1/`) are not
 *   API calls and do not count against its rate limit. Downloads from another host go straight there, without the key.
 * - A 403/404/410 usually means the download URL expired: the recordings (or voicemail) are listed again once for a
 *   fresh URL. If that fails too, the item is "unavailable" with the reason, and never holds back the call's page.
 */
import type { Config } from "../config";
import { getFlags } from "../flags/flags";
import { recordMediaOutcomes, type MediaOutcome } from "../db/media-items";
import type { RequestCounter } from "../gates/gated-fetch";
import { createGatedFetch } from "../gates/gated-fetch";
import { createOpenPhoneClient, type OpenPhoneClient } from "../openphone/client";
import { mediaMetadata, type MediaItem } from "./plan";
import { putBuffered, putStream, type StoredStream } from "./r2-stream";
import { refreshSourceUrl, type SourceUrlCache } from "./refresh";

export type MediaCopyResult =
  /** `ms`: from the request for the source to its last byte in R2. */
  | { item: MediaItem; status: "stored"; size: number; via: StoredStream["via"]; ms: number }
  | { item: MediaItem; status: "already_stored"; size: number }
  /** `transient`: the source or the network failed in a way that usually passes (5xx, 429, a timeout, a reset). */
  | { item: MediaItem; status: "unavailable"; reason: string; transient: boolean };

export interface CopyMediaOptions {
  /** Lists recordings and voicemails again when a download URL has expired. Defaults to the gated client. */
  client?: OpenPhoneClient;
  counter?: RequestCounter;
  now?: () => number;
  /** Multipart part size; tests use the default. */
  partBytes?: number;
  /** How long a chunked download may move no bytes before it is given up (default `SOURCE_STALL_MS`). */
  stallMs?: number;
  /** The pace under which a download of known length is given up (default `SOURCE_MIN_BYTES_PER_SECOND`). */
  minBytesPerSecond?: number;
}

export type MediaEnv = Pick<Env, "MEDIA" | "DB" | "GATE"> & Partial<Pick<Env, "FLAGS">>;

/** How long to wait for a source to start answering. The body itself may take much longer to stream. */
const SOURCE_HEADERS_TIMEOUT_MS = 30_000;
/** How long a chunked download may move no bytes (the source stopped sending, or R2 stopped taking them). */
export const SOURCE_STALL_MS = 60_000;
/** The slowest pace a download of known length may keep: its deadline is a minute plus its size at this rate. */
export const SOURCE_MIN_BYTES_PER_SECOND = 256 * 1024;
const EXPIRED_OR_MISSING = new Set([401, 403, 404, 410]);

/** Answers that usually pass: the server or a proxy failed, was overloaded, or timed out. */
function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export async function copyMediaItems(
  env: MediaEnv,
  config: Config,
  items: ReadonlyArray<MediaItem>,
  options: CopyMediaOptions = {},
): Promise<MediaCopyResult[]> {
  const client = options.client ?? createOpenPhoneClient(env, config, options.counter);
  const flagsEnv = env.FLAGS ? (env as { FLAGS: KVNamespace }) : undefined;
  const apiFetch = createGatedFetch({ api: "openphone", gate: env.GATE, config, counter: options.counter, timeoutMs: SOURCE_HEADERS_TIMEOUT_MS, ...(flagsEnv ? { flags: flagsEnv } : {}) });
  // MEDIA_STREAMING_ENABLED off (rollback): each body is read whole into memory and written with one put.
  const streaming = flagsEnv ? (await getFlags(flagsEnv)).MEDIA_STREAMING_ENABLED : true;
  const apiBase = config.OPENPHONE_API_BASE ?? "https://api.openphone.com";
  const apiOrigin = new URL(apiBase).origin;
  const fresh: SourceUrlCache = new Map();

  const download = async (url: string, signal: AbortSignal): Promise<Response> => {
    const absolute = new URL(url, apiBase);
    if (absolute.origin === apiOrigin) {
      const init = { headers: { Authorization: config.OPENPHONE_API_KEY ?? "" }, signal };
      return absolute.pathname.startsWith("/v1/") ? apiFetch(absolute.toString(), init) : fetch(absolute.toString(), init);
    }
    return fetch(absolute.toString(), { signal });
  };

  const copyOne = async (item: MediaItem): Promise<MediaCopyResult> => {
    const existing = await env.MEDIA.head(item.key);
    if (existing) return { item, status: "already_stored", size: existing.size };

    let current = item;
    let refreshedOnce = false;
    try {
      let startedAt = Date.now();
      let { response, abort } = await openSource(download, current.sourceUrl);
      if (EXPIRED_OR_MISSING.has(response.status) && current.kind !== "mms") {
        await response.body?.cancel();
        const refreshed = await refreshSourceUrl(client, current, fresh);
        if (!refreshed.url) return { item: current, status: "unavailable", reason: `source answered ${describe(response)}; ${refreshed.reason}`, transient: false };
        current = { ...current, sourceUrl: refreshed.url };
        refreshedOnce = true;
        startedAt = Date.now();
        ({ response, abort } = await openSource(download, current.sourceUrl));
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        const again = refreshedOnce ? ", also at the fresh URL OpenPhone listed" : "";
        return { item: current, status: "unavailable", reason: `source answered ${describe(response)}${again}`, transient: isTransientStatus(response.status) };
      }
      // Bounded either way: a body of known length by a deadline its size sets (it is piped natively, unseen), a
      // chunked one by the time it may move no bytes.
      const length = knownLength(response);
      const stallMs = options.stallMs ?? SOURCE_STALL_MS;
      const deadlineMs = length === null ? null : stallMs + (length / (options.minBytesPerSecond ?? SOURCE_MIN_BYTES_PER_SECOND)) * 1000;
      const deadline = deadlineMs === null ? null : setTimeout(() => abort(new Error(`the download did not finish within ${Math.round(deadlineMs / 1000)} s`)), deadlineMs);
      let stored;
      try {
        const putOptions: R2PutOptions = {
          httpMetadata: { contentType: pickContentType(current, response), cacheControl: "private, max-age=31536000, immutable" },
          customMetadata: mediaMetadata(current),
        };
        stored = streaming
          ? await putStream(env.MEDIA, current.key, response.body, length, putOptions, options.partBytes, { ms: stallMs, onStall: abort })
          : await putBuffered(env.MEDIA, current.key, response, length, putOptions);
      } finally {
        clearTimeout(deadline);
      }
      return { item: current, status: "stored", size: stored.size, via: stored.via, ms: Date.now() - startedAt };
    } catch (error) {
      return { item: current, status: "unavailable", reason: `copy failed: ${error instanceof Error ? error.message : String(error)}`, transient: true };
    }
  };

  const results = await mapBounded(items, config.MEDIA_CONCURRENCY, copyOne);
  await recordMediaOutcomes(
    env.DB,
    results.map((result) => ({ item: result.item, outcome: toOutcome(result) })),
    config.MEDIA_RETRY_LIMIT,
    options.now?.() ?? Date.now(),
  );
  return results;
}

/**
 * Starts a download, timing out while waiting for the response headers. `abort` ends the connection later (the body
 * stalled).
 */
async function openSource(download: (url: string, signal: AbortSignal) => Promise<Response>, url: string): Promise<{ response: Response; abort: (reason: Error) => void }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${SOURCE_HEADERS_TIMEOUT_MS / 1000} s`)), SOURCE_HEADERS_TIMEOUT_MS);
  try {
    return { response: await download(url, controller.signal), abort: (reason) => controller.abort(reason) };
  } finally {
    clearTimeout(timer);
  }
}

/** The body length when it is exactly what arrives: a Content-Length with no content coding the runtime undoes. */
function knownLength(response: Response): number | null {
  const encoding = response.headers.get("Content-Encoding");
  if (encoding && encoding.toLowerCase() !== "identity") return null;
  const header = response.headers.get("Content-Length");
  if (header === null || !/^\d+$/.test(header.trim())) return null;
  return Number(header);
}

/** The planned type unless it was a guess (octet-stream) and the source says better. */
function pickContentType(item: MediaItem, response: Response): string {
  const served = response.headers.get("Content-Type")?.split(";")[0]?.trim().toLowerCase();
  if (item.contentType === "application/octet-stream" && served && served.includes("/")) return served;
  return item.contentType;
}

function describe(response: Response): string {
  return `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
}

function toOutcome(result: MediaCopyResult): MediaOutcome {
  return result.status === "unavailable" ? { status: "unavailable", reason: result.reason } : { status: "stored", size: result.size };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of results. */
async function mapBounded<T, R>(items: ReadonlyArray<T>, limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}
