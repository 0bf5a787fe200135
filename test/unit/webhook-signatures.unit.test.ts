import { describe, expect, it } from "vitest";
import {
  parseOpenPhoneSignatureHeader,
  signOpenPhoneWebhook,
  signQuoWebhook,
  toMilliseconds,
  verifyWebhookSignature,
  type WebhookSigningKeys,
} from "../../src/webhooks/signatures";

// The self-computed vector of the OpenPhone reference notes (§8.4).
const VECTOR_KEY = "ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=";
const VECTOR_TS = 1700000000000;
const VECTOR_BODY =
  '{"id":"EVtest0001","object":"event","apiVersion":"v4","createdAt":"2023-11-14T22:13:20.000Z","type":"message.received","data":{"object":{"id":"ACtest0001","object":"message","from":"+15555550100","to":["+15555550101"],"direction":"incoming","text":"hi","status":"received","createdAt":"2023-11-14T22:13:19.000Z","userId":"UStest0001","phoneNumberId":"PNtest0001"}}}';
const VECTOR_HEADER = "hmac;1;1700000000000;56WpC+JXbHctKSzb5DefgjbBeMOFiX2AQNhn9bhCjps=";

// The example of the Standard Webhooks specification, which the Quo scheme follows.
const STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const STANDARD_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const STANDARD_TS = 1614265330;
const STANDARD_BODY = '{"test": 2432232314}';
const STANDARD_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// The 2026-03-30 vector of the Quo reference notes (quo-2026-03-30.md §4.5): key bytes "quo-emulator-test-signing-key-01".
const QUO_VECTOR_SECRET = "whsec_cXVvLWVtdWxhdG9yLXRlc3Qtc2lnbmluZy1rZXktMDE=";
const QUO_VECTOR_SECOND = "whsec_cXVvLWVtdWxhdG9yLXRlc3Qtc2lnbmluZy1rZXktMDI=";
const QUO_VECTOR_ID = "msg_test0000000000000000001";
const QUO_VECTOR_TS = 1775000000;
const QUO_VECTOR_BODY =
  '{"id":"EVtest0001","apiVersion":"2026-03-30","createdAt":"2026-03-31T23:33:19.000Z","type":"message.received","data":{"resource":{"id":"ACtest0001","direction":"incoming","text":"hi","media":[],"status":"received","createdAt":"2026-03-31T23:33:19.000Z"},"context":{"orgId":"ORtest0001","phoneNumberId":"PNtest0001","conversationId":"CNtest0001","userId":"UStest0001","contacts":{"ids":[],"lookupStatus":"none"},"senderIdentifier":"+15555550100","recipientIdentifiers":["+15555550101"]},"links":{"quo":null}}}';
const QUO_VECTOR_SIGNATURE = "v1,WTJQD+KPuIyfj908sxjN6NqziRmZhRxPnfTA/McFmeA=";
const QUO_VECTOR_SECOND_SIGNATURE = "v1,1fTZ+37DWRkpkebEpFMXDQM3pTUvVAuFytHha4EUyrw=";
const QUO_VECTOR_TAMPERED_SIGNATURE = "v1,GqEqgKwssAXpTiNdK9JRoJYOCWjXmKjr/yv1epwnIgU=";

const OTHER_KEY = btoa("another-webhook-signing-key-0002");
const OTHER_SECRET = `whsec_${btoa("another-quo-secret-0002")}`;
const bytes = (s: string) => new TextEncoder().encode(s);
const legacyKeys = (...openphone: string[]): WebhookSigningKeys => ({ openphone, quo: [] });
const quoKeys = (...quo: string[]): WebhookSigningKeys => ({ openphone: [], quo });

function legacyHeaders(signature: string) {
  return new Headers({ "openphone-signature": signature });
}
function standardHeaders(signature: string, id = STANDARD_ID, ts = String(STANDARD_TS)) {
  return new Headers({ "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": signature });
}

describe("openphone-signature (legacy scheme)", () => {
  it("reproduces the reference test vector", async () => {
    expect(await signOpenPhoneWebhook(VECTOR_BODY, VECTOR_KEY, VECTOR_TS)).toBe(VECTOR_HEADER);
    const check = await verifyWebhookSignature(legacyHeaders(VECTOR_HEADER), bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS + 1000);
    expect(check).toEqual({ ok: true, scheme: "openphone", timestampMs: VECTOR_TS });
  });

  it("refuses a tampered body", async () => {
    const check = await verifyWebhookSignature(legacyHeaders(VECTOR_HEADER), bytes(VECTOR_BODY.replace('"hi"', '"hI"')), legacyKeys(VECTOR_KEY), VECTOR_TS);
    expect(check).toMatchObject({ ok: false, failure: "bad_signature" });
  });

  it("refuses a re-serialised body even when the JSON means the same", async () => {
    const pretty = JSON.stringify(JSON.parse(VECTOR_BODY), null, 2);
    const check = await verifyWebhookSignature(legacyHeaders(VECTOR_HEADER), bytes(pretty), legacyKeys(VECTOR_KEY), VECTOR_TS);
    expect(check).toMatchObject({ ok: false, failure: "bad_signature" });
  });

  it("refuses the wrong key, and the key's base64 text used as the key", async () => {
    expect(await verifyWebhookSignature(legacyHeaders(VECTOR_HEADER), bytes(VECTOR_BODY), legacyKeys(OTHER_KEY), VECTOR_TS)).toMatchObject({
      ok: false,
      failure: "bad_signature",
    });
    const signedWithText = await signOpenPhoneWebhook(VECTOR_BODY, btoa(VECTOR_KEY), VECTOR_TS);
    expect(await verifyWebhookSignature(legacyHeaders(signedWithText), bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS)).toMatchObject({
      ok: false,
      failure: "bad_signature",
    });
  });

  it("accepts any of several keys (one per registered webhook)", async () => {
    const check = await verifyWebhookSignature(legacyHeaders(VECTOR_HEADER), bytes(VECTOR_BODY), legacyKeys(OTHER_KEY, VECTOR_KEY), VECTOR_TS);
    expect(check.ok).toBe(true);
  });

  it("accepts a header with several comma-separated signatures when one matches", async () => {
    const wrong = await signOpenPhoneWebhook(VECTOR_BODY, OTHER_KEY, VECTOR_TS);
    const header = `${wrong}, ${VECTOR_HEADER}`;
    expect(parseOpenPhoneSignatureHeader(header)).toHaveLength(2);
    expect((await verifyWebhookSignature(legacyHeaders(header), bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS)).ok).toBe(true);
    expect(await verifyWebhookSignature(legacyHeaders(`${wrong},${wrong}`), bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS)).toMatchObject({
      failure: "bad_signature",
    });
  });

  it("refuses timestamps more than 5 minutes old or ahead, and accepts them just inside", async () => {
    const old = await verifyWebhookSignature(legacyHeaders(VECTOR_HEADER), bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS + 5 * 60_000 + 6000);
    expect(old).toMatchObject({ ok: false, failure: "stale_timestamp" });
    if (!old.ok) expect(old.message).toContain("306 s old");
    const future = await verifyWebhookSignature(legacyHeaders(VECTOR_HEADER), bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS - 5 * 60_000 - 1000);
    expect(future).toMatchObject({ ok: false, failure: "stale_timestamp" });
    if (!future.ok) expect(future.message).toContain("in the future");
    expect((await verifyWebhookSignature(legacyHeaders(VECTOR_HEADER), bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS + 5 * 60_000)).ok).toBe(true);
  });

  it("accepts a timestamp sent in seconds, normalised to milliseconds", async () => {
    const seconds = 1700000000;
    const header = await signOpenPhoneWebhook(VECTOR_BODY, VECTOR_KEY, seconds);
    const check = await verifyWebhookSignature(legacyHeaders(header), bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS + 2000);
    expect(check).toEqual({ ok: true, scheme: "openphone", timestampMs: VECTOR_TS });
    expect(toMilliseconds("1700000000")).toBe(toMilliseconds("1700000000000"));
  });

  it("calls malformed headers malformed", async () => {
    for (const header of ["", "garbage", "hmac;1;1700000000000", "sha1;1;1700000000000;56WpC+JXbHctKSzb5DefgjbBeMOFiX2AQNhn9bhCjps=", "hmac;2;1700000000000;56WpC+JXbHctKSzb5DefgjbBeMOFiX2AQNhn9bhCjps=", "hmac;1;soon;56WpC+JXbHctKSzb5DefgjbBeMOFiX2AQNhn9bhCjps=", "hmac;1;1700000000000;not base64!", "hmac;1;1700000000000;c2hvcnQ="]) {
      const check = await verifyWebhookSignature(legacyHeaders(header), bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS);
      expect(check, header).toMatchObject({ ok: false, failure: "malformed_signature" });
    }
  });
});

describe("webhook-signature (Quo / Standard Webhooks scheme)", () => {
  const now = STANDARD_TS * 1000 + 10_000;

  it("reproduces the Standard Webhooks example signature", async () => {
    expect((await signQuoWebhook(STANDARD_BODY, STANDARD_SECRET, STANDARD_ID, STANDARD_TS))["webhook-signature"]).toBe(STANDARD_SIGNATURE);
    const check = await verifyWebhookSignature(standardHeaders(STANDARD_SIGNATURE), bytes(STANDARD_BODY), quoKeys(STANDARD_SECRET), now);
    expect(check).toEqual({ ok: true, scheme: "quo", timestampMs: STANDARD_TS * 1000 });
  });

  it("reproduces the 2026-03-30 reference vector: one key, two keys in one header, a tampered body", async () => {
    const at = QUO_VECTOR_TS * 1000 + 1_000;
    const headers = (signature: string) => standardHeaders(signature, QUO_VECTOR_ID, String(QUO_VECTOR_TS));
    expect(bytes(QUO_VECTOR_BODY).byteLength).toBe(508);
    expect((await signQuoWebhook(QUO_VECTOR_BODY, QUO_VECTOR_SECRET, QUO_VECTOR_ID, QUO_VECTOR_TS))["webhook-signature"]).toBe(QUO_VECTOR_SIGNATURE);
    expect((await signQuoWebhook(QUO_VECTOR_BODY, QUO_VECTOR_SECOND, QUO_VECTOR_ID, QUO_VECTOR_TS))["webhook-signature"]).toBe(QUO_VECTOR_SECOND_SIGNATURE);
    expect((await verifyWebhookSignature(headers(QUO_VECTOR_SIGNATURE), bytes(QUO_VECTOR_BODY), quoKeys(QUO_VECTOR_SECRET), at)).ok).toBe(true);
    const both = headers(`${QUO_VECTOR_SECOND_SIGNATURE} ${QUO_VECTOR_SIGNATURE}`);
    expect((await verifyWebhookSignature(both, bytes(QUO_VECTOR_BODY), quoKeys(QUO_VECTOR_SECRET), at)).ok).toBe(true);
    const tampered = QUO_VECTOR_BODY.replace('"text":"hi"', '"text":"hI"');
    expect((await signQuoWebhook(tampered, QUO_VECTOR_SECRET, QUO_VECTOR_ID, QUO_VECTOR_TS))["webhook-signature"]).toBe(QUO_VECTOR_TAMPERED_SIGNATURE);
    expect(await verifyWebhookSignature(headers(QUO_VECTOR_SIGNATURE), bytes(tampered), quoKeys(QUO_VECTOR_SECRET), at)).toMatchObject({ ok: false, failure: "bad_signature" });
  });

  it("refuses a tampered body, another webhook id and the wrong secret", async () => {
    expect(await verifyWebhookSignature(standardHeaders(STANDARD_SIGNATURE), bytes('{"test": 2432232315}'), quoKeys(STANDARD_SECRET), now)).toMatchObject({
      failure: "bad_signature",
    });
    expect(await verifyWebhookSignature(standardHeaders(STANDARD_SIGNATURE, "msg_other"), bytes(STANDARD_BODY), quoKeys(STANDARD_SECRET), now)).toMatchObject({
      failure: "bad_signature",
    });
    expect(await verifyWebhookSignature(standardHeaders(STANDARD_SIGNATURE), bytes(STANDARD_BODY), quoKeys(OTHER_SECRET), now)).toMatchObject({
      failure: "bad_signature",
    });
  });

  it("accepts several secrets and several space-separated signatures", async () => {
    const other = (await signQuoWebhook(STANDARD_BODY, OTHER_SECRET, STANDARD_ID, STANDARD_TS))["webhook-signature"];
    const headers = standardHeaders(`v1a,ignoredAsymmetricSignature ${other} ${STANDARD_SIGNATURE}`);
    expect((await verifyWebhookSignature(headers, bytes(STANDARD_BODY), quoKeys(STANDARD_SECRET), now)).ok).toBe(true);
    expect((await verifyWebhookSignature(standardHeaders(STANDARD_SIGNATURE), bytes(STANDARD_BODY), quoKeys(OTHER_SECRET, STANDARD_SECRET), now)).ok).toBe(true);
  });

  it("refuses stale and future timestamps", async () => {
    expect(await verifyWebhookSignature(standardHeaders(STANDARD_SIGNATURE), bytes(STANDARD_BODY), quoKeys(STANDARD_SECRET), STANDARD_TS * 1000 + 301_000)).toMatchObject({
      failure: "stale_timestamp",
    });
    expect(await verifyWebhookSignature(standardHeaders(STANDARD_SIGNATURE), bytes(STANDARD_BODY), quoKeys(STANDARD_SECRET), STANDARD_TS * 1000 - 301_000)).toMatchObject({
      failure: "stale_timestamp",
    });
  });

  it("calls a missing id, a non-numeric timestamp or an unknown signature version malformed", async () => {
    for (const headers of [
      standardHeaders(STANDARD_SIGNATURE, ""),
      standardHeaders(STANDARD_SIGNATURE, STANDARD_ID, "yesterday"),
      standardHeaders("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
      standardHeaders("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
    ]) {
      expect(await verifyWebhookSignature(headers, bytes(STANDARD_BODY), quoKeys(STANDARD_SECRET), now)).toMatchObject({ failure: "malformed_signature" });
    }
  });
});

describe("configuration and headers", () => {
  it("fails closed when no key is configured, whatever the request carries", async () => {
    for (const headers of [legacyHeaders(VECTOR_HEADER), standardHeaders(STANDARD_SIGNATURE), new Headers()]) {
      const check = await verifyWebhookSignature(headers, bytes(VECTOR_BODY), { openphone: [], quo: [] }, VECTOR_TS);
      expect(check).toMatchObject({ ok: false, failure: "no_signing_key" });
    }
  });

  it("names the missing key when only the other scheme is configured", async () => {
    const legacyOnly = await verifyWebhookSignature(standardHeaders(STANDARD_SIGNATURE), bytes(STANDARD_BODY), legacyKeys(VECTOR_KEY), STANDARD_TS * 1000);
    expect(legacyOnly).toMatchObject({ ok: false, failure: "no_signing_key" });
    if (!legacyOnly.ok) expect(legacyOnly.message).toContain("QUO_WEBHOOK_SECRETS");
    const quoOnly = await verifyWebhookSignature(legacyHeaders(VECTOR_HEADER), bytes(VECTOR_BODY), quoKeys(STANDARD_SECRET), VECTOR_TS);
    expect(quoOnly).toMatchObject({ ok: false, failure: "no_signing_key" });
    if (!quoOnly.ok) expect(quoOnly.message).toContain("OPENPHONE_WEBHOOK_KEYS");
  });

  it("refuses a request without any signature header", async () => {
    const check = await verifyWebhookSignature(new Headers(), bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS);
    expect(check).toMatchObject({ ok: false, failure: "missing_signature" });
  });

  it("reads the header case-insensitively and never puts a key in a message", async () => {
    const headers = new Headers({ "OpenPhone-Signature": VECTOR_HEADER });
    expect((await verifyWebhookSignature(headers, bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS)).ok).toBe(true);
    const refused = await verifyWebhookSignature(headers, bytes(VECTOR_BODY), legacyKeys(OTHER_KEY), VECTOR_TS);
    expect(JSON.stringify(refused)).not.toContain(OTHER_KEY);
  });

  it("checks a request that carries both headers with the scheme that has keys", async () => {
    const headers = standardHeaders(STANDARD_SIGNATURE);
    headers.set("openphone-signature", VECTOR_HEADER);
    expect(await verifyWebhookSignature(headers, bytes(VECTOR_BODY), legacyKeys(VECTOR_KEY), VECTOR_TS)).toMatchObject({ ok: true, scheme: "openphone" });
  });
});
