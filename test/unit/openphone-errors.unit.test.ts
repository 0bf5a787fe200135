import { describe, expect, it } from "vitest";
import { GateClosedError } from "../../src/gates/gated-fetch";
import { classifyOpenPhoneError, isOpenPhoneError, isRetryableOpenPhoneFailure, OpenPhoneClient, OpenPhoneError } from "../../src/openphone/client";

/** The error the client throws for one answer of OpenPhone's API, in the envelope OpenPhone sends. */
async function errorFor(status: number, envelope: Record<string, unknown> | string, headers: Record<string, string> = {}): Promise<unknown> {
  const body = typeof envelope === "string" ? envelope : JSON.stringify(envelope);
  const client = new OpenPhoneClient({ apiKey: "key", baseUrl: "https://api.test", fetch: async () => new Response(body, { status, headers }) });
  return client.request("getCallById_v1", { path: { callId: "AC1" } }).then(
    () => expect.unreachable("the request should fail"),
    (error: unknown) => error,
  );
}

const envelope = (status: number, code: string, title: string, message = title) => ({ message, code, status, title, trace: "7f3a9c", docs: "https://openphone.com/docs" });

describe("an OpenPhone error", () => {
  it("carries a code read from the status, OpenPhone's own code, the trace and the wait it asked for", async () => {
    const error = await errorFor(429, envelope(429, "0100429", "Too Many Requests", "API rate limit exceeded"), { "Retry-After": "3" });
    expect(isOpenPhoneError(error)).toBe(true);
    expect(error).toMatchObject({ status: 429, code: "rate_limited", apiCode: "0100429", trace: "7f3a9c", retryAfterMs: 3000, operation: "getCallById_v1" });
  });

  it("is not mistaken for other errors", () => {
    expect(isOpenPhoneError(new Error("boom"))).toBe(false);
    expect(isOpenPhoneError(new GateClosedError("openphone", 1000, "rate limit queue full"))).toBe(false);
    expect(isOpenPhoneError({ status: 404 })).toBe(false);
  });
});

describe("what an OpenPhone failure means", () => {
  it("a 404 is not found", async () => {
    const failure = classifyOpenPhoneError(await errorFor(404, envelope(404, "0100404", "Not Found", "Call not found")));
    expect(failure).toMatchObject({ kind: "not_found" });
    expect(failure.message).toContain("Call not found");
    expect(isRetryableOpenPhoneFailure(failure)).toBe(false);
  });

  it("a 401 is a refused key", async () => {
    const failure = classifyOpenPhoneError(await errorFor(401, envelope(401, "0100401", "Unauthorized", "Invalid API key")));
    expect(failure.kind).toBe("unauthorized");
    expect(isRetryableOpenPhoneFailure(failure)).toBe(false);
  });

  it("a 400, 402, 403 or 409 is permanent: the same request will be refused again", async () => {
    const refusals = [
      await errorFor(400, { ...envelope(400, "0101400", "Too Many Participants"), errors: [{ path: "/participants", message: "Expected at most 1" }] }),
      await errorFor(402, envelope(402, "0200402", "Payment Required")),
      await errorFor(403, envelope(403, "0101403", "Forbidden")),
      await errorFor(409, envelope(409, "0800409", "Conflict")),
    ];
    expect(refusals.map((e) => (e as OpenPhoneError).code)).toEqual(["invalid_request", "payment_required", "forbidden", "conflict"]);
    for (const error of refusals) expect(classifyOpenPhoneError(error).kind).toBe("permanent");
  });

  it("a 2xx whose body is not JSON is permanent", async () => {
    const error = await errorFor(200, "<html>maintenance</html>");
    expect(error).toMatchObject({ code: "invalid_response", status: 200 });
    expect(classifyOpenPhoneError(error).kind).toBe("permanent");
  });

  it("a 429 is rate limited, with the Retry-After wait when OpenPhone gave one", async () => {
    expect(classifyOpenPhoneError(await errorFor(429, envelope(429, "0100429", "Too Many Requests"), { "Retry-After": "2" }))).toMatchObject({ kind: "rate_limited", retryAfterMs: 2000 });
    const without = classifyOpenPhoneError(await errorFor(429, envelope(429, "0100429", "Too Many Requests")));
    expect(without).toMatchObject({ kind: "rate_limited", retryAfterMs: undefined });
    expect(isRetryableOpenPhoneFailure(without)).toBe(true);
  });

  it("a 5xx, with or without an envelope, is transient", async () => {
    expect(classifyOpenPhoneError(await errorFor(500, envelope(500, "0101500", "Unknown")))).toMatchObject({ kind: "transient" });
    const gateway = classifyOpenPhoneError(await errorFor(502, "Bad Gateway"));
    expect(gateway).toMatchObject({ kind: "transient" });
    expect(gateway.message).toContain("502 Bad Gateway");
    expect(classifyOpenPhoneError(await errorFor(503, envelope(503, "0101503", "Unavailable"), { "Retry-After": "10" }))).toMatchObject({ kind: "transient", retryAfterMs: 10_000 });
  });

  it("no answer at all is transient", async () => {
    const client = new OpenPhoneClient({ apiKey: "key", fetch: async () => Promise.reject(new TypeError("Network connection lost")) });
    const error = await client.request("listUsers_v1", { query: { maxResults: 10 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: "network_error" });
    expect(classifyOpenPhoneError(error)).toMatchObject({ kind: "transient", message: "listUsers_v1: Network connection lost" });
  });

  it("the gate holding a request back is gate_closed, telling an open breaker from a full queue", () => {
    expect(classifyOpenPhoneError(new GateClosedError("openphone", 4000, "rate limit queue full"))).toMatchObject({ kind: "gate_closed", retryAfterMs: 4000, circuitOpen: false });
    const breaker = classifyOpenPhoneError(new GateClosedError("openphone", 30_000, "circuit breaker open"));
    expect(breaker).toMatchObject({ kind: "gate_closed", retryAfterMs: 30_000, circuitOpen: true });
    expect(isRetryableOpenPhoneFailure(breaker)).toBe(true);
  });

  it("anything else is unknown, with its message", () => {
    expect(classifyOpenPhoneError(new Error("D1_ERROR: no such table"))).toEqual({ kind: "unknown", message: "D1_ERROR: no such table" });
    expect(classifyOpenPhoneError("boom")).toEqual({ kind: "unknown", message: "boom" });
  });

  it("an unreadable contact keeps the 502 it is given: transient, as any bad gateway answer", () => {
    const error = new OpenPhoneError("OpenPhone answered with a contact that cannot be read: no id", { status: 502, operation: "createContact_v1", code: "invalid_response" });
    expect(error.code).toBe("invalid_response");
    expect(classifyOpenPhoneError(error).kind).toBe("transient");
  });
});
