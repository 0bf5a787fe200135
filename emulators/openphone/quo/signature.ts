/**
 * The Standard Webhooks signature of the 2026-03-30 system: HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw
 * body>`, keyed by the `whsec_` secret with the prefix removed and base64-decoded, sent as `v1,<base64>`.
 */
import { createHmac, randomBytes } from "node:crypto";

export function standardWebhookSignature(secret: string, webhookId: string, timestampSeconds: number, rawBody: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return `v1,${createHmac("sha256", key).update(`${webhookId}.${timestampSeconds}.${rawBody}`, "utf8").digest("base64")}`;
}

/** A new signing secret: `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}
