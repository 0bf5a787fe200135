/**
 * HMAC-SHA256, constant-time comparison and base64 for the signed things of the product: webhook signatures, media
 * links and the admin token. Only Web Crypto is used, so this runs in workerd.
 */

const encoder = new TextEncoder();

const bytesOf = (data: Uint8Array | string): Uint8Array => (typeof data === "string" ? encoder.encode(data) : data);

/** The HMAC-SHA256 of the parts, one after the other, under `key` (raw bytes, or text as its UTF-8 bytes). */
export async function hmacSha256(key: Uint8Array | string, ...parts: (Uint8Array | string)[]): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", bytesOf(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const chunks = parts.map(bytesOf);
  const message = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    message.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, message));
}

/** Constant-time equality of two digests. Lengths are public (a digest's length is fixed by its hash). */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  // timingSafeEqual throws on a length mismatch.
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

/** Constant-time equality of two secrets, compared as SHA-256 digests so neither content nor length leaks. */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(a)), crypto.subtle.digest("SHA-256", encoder.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/** Standard base64 (with padding) of the bytes. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** URL-safe base64 without padding, for query strings. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes of standard base64 text, or undefined when it is not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
