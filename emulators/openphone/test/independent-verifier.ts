/**
 * A receiver-side check of `openphone-signature` written from the documented algorithm with WebCrypto, sharing no
 * code with the emulator's signer.
 */
/** Verifies a header the way a receiver would: split, recompute with WebCrypto, compare. */
export async function verifyWithWebCrypto(header: string, base64Key: string, rawBody: string): Promise<boolean> {
  const [scheme, version, timestamp, signature] = header.split(";");
  if (scheme !== "hmac" || version !== "1" || !timestamp || !signature) return false;
  const keyBytes = Uint8Array.from(atob(base64Key), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const expected = Uint8Array.from(atob(signature), (c) => c.charCodeAt(0));
  return crypto.subtle.verify("HMAC", key, expected, new TextEncoder().encode(`${timestamp}.${rawBody}`));
}
