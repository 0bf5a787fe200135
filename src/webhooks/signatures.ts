/**
 * Webhook signature schemes. Both are checked over the raw request bytes, before anything is parsed.
 *
 * - **OpenPhone (legacy / v1)**, header `openphone-signature: hmac;1;<timestamp ms>;<base64 HMAC-SHA256>`. The HMAC
 *   covers `<timestamp>.<raw body>` and is keyed by the webhook's signing key *base64-decoded* (the text itself is
 *   not the key). Several signatures may be sent separated by commas; any one that matches is enough.
 * - **Quo (Standard Webhooks)**, headers `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature`
 *   (space-separated `v1,<base64>` entries). The HMAC covers `<id>.<timestamp>.<raw body>` and is keyed by the
 *   `whsec_` secret with the prefix removed, base64-decoded.
 *
 * Each configured key is tried (one per registered webhook). Timestamps further than five minutes from now, in
 * either direction, are refused so a captured request cannot be replayed later; a seconds value where milliseconds
 * are expected (or the reverse) is normalised first. With no key configured everything is refused.
 *
 * Digests are compared in constant time (`../crypto/hmac`). Only Web Crypto is used, so this runs in workerd.
 */
import { decodeBase64, digestsEqual, encodeBase64, hmacSha256 } from "../crypto/hmac";

export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

export interface WebhookSigningKeys {
  /** Base64 signing keys of webhooks signed with `openphone-signature` (OPENPHONE_WEBHOOK_KEYS). */
  openphone: readonly string[];
  /** `whsec_…` secrets of webhooks signed the Standard Webhooks way (QUO_WEBHOOK_SECRETS). */
  quo: readonly string[];
}

export type SignatureScheme = "openphone" | "quo";

export type SignatureFailure = "no_signing_key" | "missing_signature" | "malformed_signature" | "stale_timestamp" | "bad_signature";

export type SignatureCheck =
  | { ok: true; scheme: SignatureScheme; timestampMs: number }
  | { ok: false; failure: SignatureFailure; message: string };

/** Anything with a case-insensitive `get`, such as `Headers`. */
export interface HeaderSource {
  get(name: string): string | null;
}

const HMAC_SHA256_BYTES = 32;

/** Checks a webhook request's signature. `now` is injectable for tests. */
export async function verifyWebhookSignature(
  headers: HeaderSource,
  body: Uint8Array,
  keys: WebhookSigningKeys,
  now = Date.now(),
): Promise<SignatureCheck> {
  const openphoneKeys = decodeKeys(keys.openphone, (k) => k);
  const quoKeys = decodeKeys(keys.quo, (k) => k.replace(/^whsec_/, ""));
  if (openphoneKeys.length === 0 && quoKeys.length === 0) {
    return refuse(
      "no_signing_key",
      "No webhook signing key is configured (OPENPHONE_WEBHOOK_KEYS or QUO_WEBHOOK_SECRETS), so every webhook is refused",
    );
  }

  const standardSignature = headers.get("webhook-signature");
  const legacySignature = headers.get("openphone-signature");
  // A request carrying both is checked with whichever scheme has keys, the newer one first.
  if (standardSignature !== null && (quoKeys.length > 0 || legacySignature === null)) {
    if (quoKeys.length === 0) {
      return refuse("no_signing_key", "The request is signed with webhook-signature (Quo), but no QUO_WEBHOOK_SECRETS is configured");
    }
    return verifyQuo(headers, standardSignature, body, quoKeys, now);
  }
  if (legacySignature !== null) {
    if (openphoneKeys.length === 0) {
      return refuse("no_signing_key", "The request is signed with openphone-signature, but no OPENPHONE_WEBHOOK_KEYS is configured");
    }
    return verifyOpenPhone(legacySignature, body, openphoneKeys, now);
  }
  return refuse("missing_signature", "The request has no openphone-signature or webhook-signature header");
}

interface SignatureEntry {
  /** The timestamp exactly as sent: it is part of the signed bytes. */
  timestamp: string;
  digest: Uint8Array;
}

/** Parses `hmac;1;<ts>;<sig>[,hmac;1;<ts>;<sig>…]`. Entries of other schemes or versions are skipped. */
export function parseOpenPhoneSignatureHeader(value: string): SignatureEntry[] {
  const entries: SignatureEntry[] = [];
  for (const part of value.split(",")) {
    const fields = part.trim().split(";");
    if (fields.length !== 4) continue;
    const [scheme, version, timestamp, signature] = fields.map((f) => f.trim()) as [string, string, string, string];
    if (scheme.toLowerCase() !== "hmac" || version !== "1" || !/^\d{1,16}$/.test(timestamp)) continue;
    const digest = decodeBase64(signature);
    if (digest?.length === HMAC_SHA256_BYTES) entries.push({ timestamp, digest });
  }
  return entries;
}

/** Parses `v1,<sig> v1,<sig>…`. Other versions (such as asymmetric `v1a`) are skipped. */
export function parseStandardSignatureHeader(value: string): Uint8Array[] {
  const digests: Uint8Array[] = [];
  for (const part of value.trim().split(/\s+/)) {
    const comma = part.indexOf(",");
    if (comma < 0 || part.slice(0, comma) !== "v1") continue;
    const digest = decodeBase64(part.slice(comma + 1));
    if (digest?.length === HMAC_SHA256_BYTES) digests.push(digest);
  }
  return digests;
}

async function verifyOpenPhone(header: string, body: Uint8Array, keys: Uint8Array[], now: number): Promise<SignatureCheck> {
  const entries = parseOpenPhoneSignatureHeader(header);
  if (entries.length === 0) {
    return refuse("malformed_signature", "The openphone-signature header is malformed; expected hmac;1;<timestamp>;<base64 signature>");
  }
  const fresh = entries.filter((e) => isFresh(e.timestamp, now));
  if (fresh.length === 0) return staleRefusal(entries[0]!.timestamp, now);
  for (const key of keys) {
    for (const entry of fresh) {
      const expected = await hmacSha256(key, `${entry.timestamp}.`, body);
      if (digestsEqual(expected, entry.digest)) return { ok: true, scheme: "openphone", timestampMs: toMilliseconds(entry.timestamp) };
    }
  }
  return refuse("bad_signature", "The openphone-signature does not match any configured signing key (OPENPHONE_WEBHOOK_KEYS)");
}

async function verifyQuo(headers: HeaderSource, header: string, body: Uint8Array, keys: Uint8Array[], now: number): Promise<SignatureCheck> {
  const id = headers.get("webhook-id")?.trim();
  const timestamp = headers.get("webhook-timestamp")?.trim();
  if (!id || !timestamp || !/^\d{1,16}$/.test(timestamp)) {
    return refuse("malformed_signature", "A Quo webhook needs webhook-id and a numeric webhook-timestamp next to webhook-signature");
  }
  const digests = parseStandardSignatureHeader(header);
  if (digests.length === 0) {
    return refuse("malformed_signature", "The webhook-signature header is malformed; expected one or more v1,<base64 signature> entries");
  }
  if (!isFresh(timestamp, now)) return staleRefusal(timestamp, now);
  for (const key of keys) {
    const expected = await hmacSha256(key, `${id}.${timestamp}.`, body);
    if (digests.some((d) => digestsEqual(expected, d))) return { ok: true, scheme: "quo", timestampMs: toMilliseconds(timestamp) };
  }
  return refuse("bad_signature", "The webhook-signature does not match any configured secret (QUO_WEBHOOK_SECRETS)");
}

/** Produces an `openphone-signature` header value (for the emulator, tests and tools that replay deliveries). */
export async function signOpenPhoneWebhook(body: Uint8Array | string, signingKey: string, timestampMs = Date.now()): Promise<string> {
  const key = decodeBase64(signingKey);
  if (!key) throw new TypeError("the signing key is not base64");
  const digest = await hmacSha256(key, `${timestampMs}.`, body);
  return `hmac;1;${timestampMs};${encodeBase64(digest)}`;
}

/** Produces the three Standard Webhooks headers for a Quo `whsec_` secret. */
export async function signQuoWebhook(
  body: Uint8Array | string,
  secret: string,
  id: string,
  timestampSeconds = Math.floor(Date.now() / 1000),
): Promise<Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string>> {
  const key = decodeBase64(secret.replace(/^whsec_/, ""));
  if (!key) throw new TypeError("the secret is not a whsec_ base64 secret");
  const digest = await hmacSha256(key, `${id}.${timestampSeconds}.`, body);
  return { "webhook-id": id, "webhook-timestamp": String(timestampSeconds), "webhook-signature": `v1,${encodeBase64(digest)}` };
}

/**
 * Both schemes document their unit (ms for OpenPhone, s for Quo), but a sender that uses the other one should not
 * be refused for it: anything below 10^12 is read as seconds (10^12 ms is September 2001).
 */
export function toMilliseconds(timestamp: string): number {
  const n = Number(timestamp);
  return n < 1e12 ? n * 1000 : n;
}

function isFresh(timestamp: string, now: number): boolean {
  return Math.abs(now - toMilliseconds(timestamp)) <= SIGNATURE_TOLERANCE_MS;
}

function staleRefusal(timestamp: string, now: number): SignatureCheck {
  const skewSeconds = Math.round((now - toMilliseconds(timestamp)) / 1000);
  const direction = skewSeconds > 0 ? `${skewSeconds} s old` : `${-skewSeconds} s in the future`;
  return refuse(
    "stale_timestamp",
    `The signature timestamp is ${direction}; more than 5 minutes off is refused (a replayed request, or the sender's clock is wrong)`,
  );
}

function refuse(failure: SignatureFailure, message: string): SignatureCheck {
  return { ok: false, failure, message };
}

function decodeKeys(keys: readonly string[], strip: (key: string) => string): Uint8Array[] {
  return keys.map((k) => decodeBase64(strip(k.trim()))).filter((k): k is Uint8Array => k !== undefined && k.length > 0);
}
