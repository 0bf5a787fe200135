/**
 * The `openphone-signature` scheme, checked against the test vector in the reference notes and against an
 * independent implementation (WebCrypto instead of node:crypto, written from the documented algorithm).
 */
import { describe, expect, it } from "vitest";
import { openPhoneSignature } from "../webhooks/signature.ts";
import { verifyWithWebCrypto } from "./independent-verifier.ts";

const VECTOR = {
  key: "ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=",
  timestamp: 1700000000000,
  body: '{"id":"EVtest0001","object":"event","apiVersion":"v4","createdAt":"2023-11-14T22:13:20.000Z","type":"message.received","data":{"object":{"id":"ACtest0001","object":"message","from":"+15555550100","to":["+15555550101"],"direction":"incoming","text":"hi","status":"received","createdAt":"2023-11-14T22:13:19.000Z","userId":"UStest0001","phoneNumberId":"PNtest0001"}}}',
  header: "hmac;1;1700000000000;56WpC+JXbHctKSzb5DefgjbBeMOFiX2AQNhn9bhCjps=",
};

describe("openphone-signature", () => {
  it("reproduces the reference test vector", () => {
    expect(openPhoneSignature(VECTOR.key, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.header);
  });

  it("is accepted by an independent verifier, and rejected once the body changes by one byte", async () => {
    const header = openPhoneSignature(VECTOR.key, Date.now(), VECTOR.body);
    expect(await verifyWithWebCrypto(header, VECTOR.key, VECTOR.body)).toBe(true);
    expect(await verifyWithWebCrypto(header, VECTOR.key, VECTOR.body.replace('"hi"', '"hI"'))).toBe(false);
    expect(await verifyWithWebCrypto(VECTOR.header, VECTOR.key, VECTOR.body)).toBe(true);
  });

  it("keys the HMAC with the decoded key bytes, not the base64 text", () => {
    const withText = openPhoneSignature(Buffer.from(VECTOR.key).toString("base64"), VECTOR.timestamp, VECTOR.body);
    expect(withText).not.toBe(VECTOR.header);
  });
});
