import { afterEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { createLogger } from "../../src/observability/logger";

const OPENPHONE_KEY = "opk_live_4f9a1c2e7b3d5a6f8e0c1b2a";
const WEBHOOK_KEY = "c2lnbmluZy1rZXktZm9yLXRlc3Rz";
const QUO_SECRET = "whsec_cXVvLXNpZ25pbmctc2VjcmV0LTEyMw==";
const ALERT_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX";

// getConfig is what every Worker entry point calls first; it teaches the loggers the configured values.
getConfig({
  OPENPHONE_API_KEY: OPENPHONE_KEY,
  NOTION_TOKEN: "ntn_live_token_value_1234567890",
  ADMIN_TOKEN: "admin-token-for-redaction-tests",
  OPENPHONE_WEBHOOK_KEYS: WEBHOOK_KEY,
  QUO_WEBHOOK_SECRETS: QUO_SECRET,
  MEDIA_SIGNING_KEYS: "media-signing-key-0123456789abcdef",
  ALERT_WEBHOOK_URL: ALERT_URL,
});

function logged(fields: Record<string, unknown>): string {
  const spy = vi.spyOn(console, "log").mockImplementation(() => undefined);
  createLogger("info").info("test", fields);
  const line = String(spy.mock.calls[0]?.[0]);
  spy.mockRestore();
  return line;
}

afterEach(() => vi.restoreAllMocks());

describe("log redaction", () => {
  it("prints an R2 object key and other fields named like keys", () => {
    const line = logged({ key: "recordings/2026/03/02/AC123-1.mp3", objectKey: "media/2026/03/02/MSG1-0.jpg", apiKeyName: "OPENPHONE_API_KEY" });
    expect(JSON.parse(line)).toMatchObject({ key: "recordings/2026/03/02/AC123-1.mp3", objectKey: "media/2026/03/02/MSG1-0.jpg", apiKeyName: "OPENPHONE_API_KEY" });
  });

  it("masks the raw OpenPhone key under any field name and inside text", () => {
    const line = logged({ header: OPENPHONE_KEY, request: { init: { headers: { Authorization: OPENPHONE_KEY } } }, error: new Error(`GET /v1/calls with ${OPENPHONE_KEY} failed`) });
    expect(line).not.toContain(OPENPHONE_KEY);
    expect(JSON.parse(line)).toMatchObject({ header: "[redacted]", request: { init: { headers: { Authorization: "[redacted]" } } }, error: { message: "GET /v1/calls with [redacted] failed" } });
  });

  it("masks every configured secret: tokens, signing keys, a whsec_ secret's key part and the alert webhook URL", () => {
    const line = logged({
      notes: ["ntn_live_token_value_1234567890", `Bearer admin-token-for-redaction-tests`, `sig key ${WEBHOOK_KEY}`, QUO_SECRET.slice("whsec_".length), "media-signing-key-0123456789abcdef", `posting to ${ALERT_URL}`],
    });
    expect(JSON.parse(line).notes).toEqual(["[redacted]", "Bearer [redacted]", "sig key [redacted]", "[redacted]", "[redacted]", "posting to [redacted]"]);
  });

  it("leaves text that only looks like a secret alone", () => {
    const line = logged({ token: "page-cursor-abc", note: "secret_ is a prefix, Bearer is a word" });
    expect(JSON.parse(line)).toMatchObject({ token: "page-cursor-abc", note: "secret_ is a prefix, Bearer is a word" });
  });
});
