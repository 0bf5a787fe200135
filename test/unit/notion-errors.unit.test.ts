import { Client, LogLevel, RequestTimeoutError } from "@notionhq/client";
import { describe, expect, it } from "vitest";
import { GateClosedError } from "../../src/gates/gated-fetch";
import { classifyNotionError, isGoneFromNotion, isNotionRefusal } from "../../src/notion/errors";

/** The error the official SDK throws for one answer of Notion's API (a page update, as a flush sends). */
async function notionError(status: number, body: Record<string, unknown> | string, headers: Record<string, string> = {}): Promise<unknown> {
  const text = typeof body === "string" ? body : JSON.stringify({ object: "error", status, request_id: "5b2c6f0e-req", ...body });
  const client = new Client({ auth: "secret_test", retry: false, logLevel: LogLevel.ERROR, fetch: async () => new Response(text, { status, headers }) });
  return client.pages.update({ page_id: "00000000-0000-0000-0000-000000000001", properties: {} }).then(
    () => expect.unreachable("the request should fail"),
    (error: unknown) => error,
  );
}

describe("what a Notion failure means", () => {
  it("a 400 validation error is permanent and names the property", async () => {
    const error = await notionError(400, { code: "validation_error", message: "Call ID is not a property that exists." });
    expect(classifyNotionError(error)).toEqual({ kind: "permanent", message: "Notion 400 validation_error: Call ID is not a property that exists.", property: "Call ID" });
    expect(isNotionRefusal(error)).toBe(true);
  });

  it("a 429 is retried after the Retry-After wait, or 5 s without one", async () => {
    expect(classifyNotionError(await notionError(429, { code: "rate_limited", message: "You have been rate limited." }, { "Retry-After": "7" }))).toMatchObject({ kind: "retry", delayMs: 7000, outcomeUnknown: false });
    const without = await notionError(429, { code: "rate_limited", message: "You have been rate limited." });
    expect(classifyNotionError(without)).toMatchObject({ kind: "retry", delayMs: 5000, outcomeUnknown: false });
    expect(isNotionRefusal(without)).toBe(false);
  });

  it("a 409 conflict is retried soon: nothing was written", async () => {
    const error = await notionError(409, { code: "conflict_error", message: "Conflict occurred while saving. Please try again." });
    expect(classifyNotionError(error)).toMatchObject({ kind: "retry", delayMs: 2000, outcomeUnknown: false });
    expect(isNotionRefusal(error)).toBe(false);
  });

  it("a 5xx is retried, and the write may have happened", async () => {
    for (const [status, code] of [
      [500, "internal_server_error"],
      [502, "bad_gateway"],
      [503, "service_unavailable"],
      [504, "gateway_timeout"],
    ] as const) {
      expect(classifyNotionError(await notionError(status, { code, message: "Something went wrong." })), `${status} ${code}`).toMatchObject({ kind: "retry", delayMs: 5000, outcomeUnknown: true });
    }
  });

  it("a Cloudflare page instead of JSON is retried when 5xx, permanent when 400", async () => {
    const html = "<html><body>502 Bad Gateway</body></html>";
    expect(classifyNotionError(await notionError(502, html))).toMatchObject({ kind: "retry", delayMs: 5000, outcomeUnknown: true });
    expect(classifyNotionError(await notionError(400, "<html>Bad Request</html>"))).toMatchObject({ kind: "permanent" });
  });

  it("a refused token, an unshared database or a missing page blocks until the configuration is fixed", async () => {
    const refusals = [
      await notionError(401, { code: "unauthorized", message: "API token is invalid." }),
      await notionError(403, { code: "restricted_resource", message: "Insufficient permissions for this endpoint." }),
      await notionError(404, { code: "object_not_found", message: "Could not find page with ID: 00000000-0000-0000-0000-000000000001." }),
    ];
    for (const error of refusals) {
      expect(classifyNotionError(error)).toMatchObject({ kind: "blocked", delayMs: 60_000 });
      expect(isNotionRefusal(error)).toBe(true);
    }
  });

  it("a timeout is retried, the write may have happened", () => {
    expect(classifyNotionError(new RequestTimeoutError())).toEqual({ kind: "retry", delayMs: 5000, message: "Notion did not answer in time", outcomeUnknown: true });
  });

  it("the gate holding the request back is retried after its wait, at least 1 s, and nothing was sent", () => {
    expect(classifyNotionError(new GateClosedError("notion", 200, "rate limit queue full"))).toMatchObject({ kind: "retry", delayMs: 1000, outcomeUnknown: false });
    expect(classifyNotionError(new GateClosedError("notion", 30_000, "circuit breaker open"))).toMatchObject({ kind: "retry", delayMs: 30_000, outcomeUnknown: false });
  });

  it("a fetch that threw is retried, the write may have happened", () => {
    expect(classifyNotionError(new TypeError("Network connection lost."))).toEqual({ kind: "retry", delayMs: 5000, message: "Notion request failed: Network connection lost.", outcomeUnknown: true });
  });
});

describe("a block that is gone", () => {
  it("is one Notion cannot find, or one it says is archived", async () => {
    expect(isGoneFromNotion(await notionError(404, { code: "object_not_found", message: "Could not find block with ID: 1." }))).toBe(true);
    expect(isGoneFromNotion(await notionError(400, { code: "validation_error", message: "Can't edit block that is archived. You must unarchive the block before editing." }))).toBe(true);
    expect(isGoneFromNotion(await notionError(400, { code: "validation_error", message: "body.callout.rich_text should be defined" }))).toBe(false);
    expect(isGoneFromNotion(await notionError(503, { code: "service_unavailable", message: "Notion is unavailable." }))).toBe(false);
  });
});
