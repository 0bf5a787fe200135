/**
 * The `openphone-signature` scheme of v1 webhooks: `hmac;1;<ms timestamp>;<signature>`, where the signature is the
 * base64 HMAC-SHA256 of `"<timestamp>.<raw body>"` keyed by the webhook's key after base64-decoding it.
 */
import { createHmac } from "node:crypto";

export function openPhoneSignature(base64Key: string, timestampMs: number, rawBody: string): string {
  const digest = createHmac("sha256", Buffer.from(base64Key, "base64")).update(`${timestampMs}.${rawBody}`, "utf8").digest("base64");
  return `hmac;1;${timestampMs};${digest}`;
}
