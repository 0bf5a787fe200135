/**
 * Where media lives in R2 and the links that reach it. Keys and links are computed from ids and dates alone, so the
 * link can be written into Notion in the same request that creates the page, before (or while) the bytes are copied,
 * and it never changes afterwards.
 *
 * A signed link is `<PUBLIC_BASE_URL>/media/<key>?sig=<base64url HMAC-SHA256(key[|exp])>[&exp=<unix seconds>]`, signed
 * with the first MEDIA_SIGNING_KEYS entry and verified against all of them (rotation: add a new key first; removing a
 * key revokes what it signed). With MEDIA_PUBLIC_BASE_URL the link is `<that>/<key>` instead.
 */
import type { Config } from "../config";
import { encodeBase64Url, hmacSha256, secretsEqual } from "../crypto/hmac";

function datePath(iso: string | null | undefined): string {
  const date = iso ? new Date(iso) : new Date(NaN);
  const d = Number.isNaN(date.getTime()) ? new Date(0) : date;
  return `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, "0")}/${String(d.getUTCDate()).padStart(2, "0")}`;
}

const EXTENSIONS: Record<string, string> = {
  "audio/mpeg": "mp3",
  "audio/mp3": "mp3",
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/ogg": "ogg",
  "audio/mp4": "m4a",
  "audio/aac": "aac",
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/gif": "gif",
  "image/webp": "webp",
  "video/mp4": "mp4",
  "application/pdf": "pdf",
};

const CONTENT_TYPES: Record<string, string> = {
  mp3: "audio/mpeg",
  wav: "audio/wav",
  ogg: "audio/ogg",
  m4a: "audio/mp4",
  aac: "audio/aac",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  mp4: "video/mp4",
  pdf: "application/pdf",
};

/** Content type for a file extension (`mp3` → `audio/mpeg`), or undefined when unknown. */
export function contentTypeForExtension(ext: string): string | undefined {
  return CONTENT_TYPES[ext.toLowerCase()];
}

/** File extension for a content type, falling back to the source URL's own extension, then `bin`. */
export function extensionFor(contentType: string | null | undefined, sourceUrl?: string | null): string {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type && EXTENSIONS[type]) return EXTENSIONS[type];
  const fromUrl = sourceUrl?.split("?")[0]?.match(/\.([a-z0-9]{2,5})$/i)?.[1];
  return fromUrl ? fromUrl.toLowerCase() : "bin";
}

export function recordingKey(callCreatedAt: string | null | undefined, callId: string, recordingId: string, ext: string): string {
  return `recordings/${datePath(callCreatedAt)}/${callId}/${recordingId}.${ext}`;
}

export function voicemailKey(callCreatedAt: string | null | undefined, callId: string, ext: string): string {
  return `voicemails/${datePath(callCreatedAt)}/${callId}.${ext}`;
}

export function messageMediaKey(messageCreatedAt: string | null | undefined, messageId: string, n: number, ext: string): string {
  return `media/${datePath(messageCreatedAt)}/${messageId}/${n}.${ext}`;
}

async function linkSignature(secret: string, data: string): Promise<string> {
  return encodeBase64Url(await hmacSha256(secret, data));
}

/** The link written into Notion for an R2 key. `baseUrl` is the Worker's public origin. */
export async function mediaUrl(config: Config, key: string, baseUrl: string): Promise<string> {
  if (config.MEDIA_PUBLIC_BASE_URL) return `${config.MEDIA_PUBLIC_BASE_URL}/${key}`;
  const secret = config.MEDIA_SIGNING_KEYS[0];
  if (!secret) throw new Error("MEDIA_SIGNING_KEYS is not configured");
  const exp = config.MEDIA_LINK_TTL_SECONDS > 0 ? Math.floor(Date.now() / 1000) + config.MEDIA_LINK_TTL_SECONDS : undefined;
  const sig = await linkSignature(secret, exp === undefined ? key : `${key}|${exp}`);
  const path = key.split("/").map(encodeURIComponent).join("/");
  return `${baseUrl.replace(/\/+$/, "")}/media/${path}?sig=${sig}${exp === undefined ? "" : `&exp=${exp}`}`;
}

/** True when `sig` was made for `key` (and `exp`) by any configured key, and has not expired. Constant-time compare. */
export async function verifyMediaSignature(config: Config, key: string, sig: string | null, exp: string | null, now = Date.now()): Promise<boolean> {
  if (!sig) return false;
  if (exp !== null) {
    const seconds = Number(exp);
    if (!Number.isInteger(seconds) || seconds * 1000 < now) return false;
  }
  const data = exp === null ? key : `${key}|${exp}`;
  let ok = false;
  for (const secret of config.MEDIA_SIGNING_KEYS) {
    const expected = await linkSignature(secret, data);
    if (await secretsEqual(expected, sig)) ok = true;
  }
  return ok;
}
