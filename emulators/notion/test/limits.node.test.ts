/**
 * The emulator as a service under load: the per-token rate limit (429 with an integer Retry-After), injected faults
 * at the configured rate (before or after the write), latency, the query lag, and the counters that report it all.
 */
import { APIErrorCode, type Client, type PageObjectResponse, UnknownHTTPResponseError } from "@notionhq/client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { NotionEmulator } from "../server.ts";
import { control, rawCall, sdk, startForTest, text, UNLIMITED } from "./harness.ts";

let emulator: NotionEmulator;
let notion: Client;
let dataSourceId: string;

beforeAll(async () => {
  emulator = await startForTest();
  notion = sdk(emulator, { retry: false });
  const db = await notion.databases.create({ parent: { type: "page_id", page_id: emulator.rootPageId }, title: text("Load"), initial_data_source: { properties: { Name: { title: {} }, Phone: { phone_number: {} } } } });
  const full = await notion.databases.retrieve({ database_id: db.id });
  if (!("data_sources" in full)) throw new Error("expected a full database");
  dataSourceId = full.data_sources[0]!.id;
});
afterAll(() => emulator?.close());
beforeEach(async () => {
  await control(emulator, "PUT", "config", { ...UNLIMITED, latencyMs: { p50: 0, p95: 0 }, faults: { rate: 0, afterWriteRate: 0 }, queryLagMs: 0 });
  await control(emulator, "DELETE", "stats");
});

const namesIn = async (filter?: unknown) => {
  const result = await notion.dataSources.query({ data_source_id: dataSourceId, ...(filter ? { filter: filter as never } : {}) });
  return result.results.map((r) => {
    const title = (r as PageObjectResponse).properties.Name;
    return title?.type === "title" ? title.title.map((t) => t.plain_text).join("") : "";
  });
};

describe("rate limit", () => {
  it("answers a burst beyond the bucket with 429 rate_limited and an integer Retry-After", async () => {
    await control(emulator, "PUT", "config", { rateLimit: { perSecond: 3, burst: 5 } });
    const responses = await Promise.all(Array.from({ length: 20 }, () => rawCall(emulator, "GET", "/v1/users/me")));
    const limited = responses.filter((r) => r.status === 429);
    console.log(`burst of 20 against 3 req/s with burst 5: ${20 - limited.length} served, ${limited.length} limited`);
    expect(responses.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(5);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    for (const response of limited) {
      expect(response.json).toMatchObject({ object: "error", status: 429, code: "rate_limited" });
      expect(response.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    }
    // Control routes are not limited and not counted.
    for (let i = 0; i < 10; i++) await control(emulator, "GET", "stats");
    const stats = await control(emulator, "GET", "stats");
    expect(stats.rateLimited).toBe(limited.length);
    expect(stats.requests.byStatus["429"]).toBe(limited.length);
    expect(stats.requests.byOperation["users.me"]).toBe(20);
  });

  it("applies a new limit at once, and refuses a bad token as unauthorized rather than limited", async () => {
    await control(emulator, "PUT", "config", { rateLimit: { perSecond: 1, burst: 1 } });
    expect((await rawCall(emulator, "GET", "/v1/users/me")).status).toBe(200);
    expect((await rawCall(emulator, "GET", "/v1/users/me")).status).toBe(429);
    expect((await rawCall(emulator, "GET", "/v1/users/me", { headers: { authorization: "Bearer other" } })).status).toBe(401);
  });

  it("lets the SDK recover from a 429 by waiting Retry-After", async () => {
    await control(emulator, "PUT", "config", { rateLimit: { perSecond: 2, burst: 1 } });
    const retrying = sdk(emulator);
    const started = performance.now();
    for (let i = 0; i < 3; i++) await retrying.users.me({});
    const stats = await control(emulator, "GET", "stats");
    console.log(`3 sequential calls at 2 req/s burst 1 with SDK retries: ${(performance.now() - started).toFixed(0)} ms, ${stats.rateLimited} answered 429`);
    expect(stats.requests.byStatus["200"]).toBe(3);
  });
});

describe("faults", () => {
  it("injects faults at the configured rate", async () => {
    await control(emulator, "PUT", "config", { faults: { rate: 0.3, statuses: [503, 529] } });
    const responses = await Promise.all(Array.from({ length: 300 }, () => rawCall(emulator, "GET", "/v1/users/me")));
    const failed = responses.filter((r) => r.status !== 200);
    const observed = failed.length / responses.length;
    console.log(`fault rate configured 0.30, observed ${observed.toFixed(3)} over ${responses.length} requests`);
    expect(observed).toBeGreaterThan(0.2);
    expect(observed).toBeLessThan(0.4);
    for (const r of failed) expect(r.json).toMatchObject(r.status === 503 ? { code: "service_unavailable" } : { code: "service_overload" });
    expect(failed.filter((r) => r.status === 529).every((r) => r.headers.get("retry-after") !== null)).toBe(true);
    const stats = await control(emulator, "GET", "stats");
    expect(stats.faults.injected).toBe(failed.length);
  });

  it("answers 502 as an HTML page from the edge, which the SDK cannot parse", async () => {
    await control(emulator, "PUT", "config", { faults: { rate: 1, statuses: [502] } });
    const error = await notion.users.me({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownHTTPResponseError);
    expect((error as UnknownHTTPResponseError).status).toBe(502);
    const raw = await rawCall(emulator, "GET", "/v1/users/me");
    expect(raw.headers.get("content-type")).toContain("text/html");
    expect(raw.text).toContain("502 Bad Gateway");
  });

  it("answers 409 conflict_error without writing", async () => {
    await control(emulator, "PUT", "config", { faults: { rate: 1, statuses: [409] } });
    await expect(notion.pages.create({ parent: { data_source_id: dataSourceId }, properties: { Name: { title: text("Conflicted") } } })).rejects.toMatchObject({ status: 409, code: APIErrorCode.ConflictError });
    await control(emulator, "PUT", "config", { faults: { rate: 0 } });
    expect(await namesIn({ property: "Name", title: { equals: "Conflicted" } })).toEqual([]);
  });

  it("can answer 504 after the page was created, or before, as configured", async () => {
    await control(emulator, "PUT", "config", { faults: { rate: 1, statuses: [504], afterWriteRate: 1 } });
    await expect(notion.pages.create({ parent: { data_source_id: dataSourceId }, properties: { Name: { title: text("Written anyway") } } })).rejects.toMatchObject({ status: 504, code: "gateway_timeout" });
    await control(emulator, "PUT", "config", { faults: { afterWriteRate: 0 } });
    await expect(notion.pages.create({ parent: { data_source_id: dataSourceId }, properties: { Name: { title: text("Never written") } } })).rejects.toMatchObject({ status: 504 });
    await control(emulator, "PUT", "config", { faults: { rate: 0 } });
    expect(await namesIn({ property: "Name", title: { starts_with: "Written" } })).toEqual(["Written anyway"]);
    expect(await namesIn({ property: "Name", title: { equals: "Never written" } })).toEqual([]);
    const stats = await control(emulator, "GET", "stats");
    expect(stats.faults.afterWrite).toBe(1);
    expect(stats.requests.byOperationAndStatus["pages.create"]).toEqual({ "504": 2 });
  });
});

describe("scripted faults", () => {
  const create = (name: string) => notion.pages.create({ parent: { data_source_id: dataSourceId }, properties: { Name: { title: text(name) } } });

  it("answers the next matching request with each fault in turn, once, before or after the write", async () => {
    await control(emulator, "PUT", "config", {
      faults: {
        script: [
          { operation: "pages.create", status: 503, bodyContains: "Scripted B" },
          { operation: "pages.create", status: 504, afterWrite: true, bodyContains: "Scripted B" },
          { operation: "pages.create", status: 429 },
        ],
      },
    });
    // A query is not the operation scripted; a create of another page takes the unscoped 429 only.
    expect(await namesIn()).toBeInstanceOf(Array);
    const limited = await rawCall(emulator, "POST", "/v1/pages", { body: JSON.stringify({ parent: { data_source_id: dataSourceId }, properties: { Name: { title: text("Scripted A") } } }) });
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ object: "error", status: 429, code: "rate_limited" });
    expect(limited.headers.get("retry-after")).toBe("1");
    await expect(create("Scripted B")).rejects.toMatchObject({ status: 503, code: "service_unavailable" });
    await expect(create("Scripted B")).rejects.toMatchObject({ status: 504, code: "gateway_timeout" });
    await create("Scripted A");
    expect((await control(emulator, "GET", "config")).faults.script).toEqual([]);
    expect((await namesIn({ property: "Name", title: { starts_with: "Scripted" } })).sort()).toEqual(["Scripted A", "Scripted B"]);
    const stats = await control(emulator, "GET", "stats");
    expect(stats.faults).toEqual({ injected: 3, afterWrite: 1 });
  });

  it("holds a hanging answer for hangMs and writes nothing", async () => {
    await control(emulator, "PUT", "config", { faults: { script: [{ operation: "pages.create", status: 503, hangMs: 300 }] } });
    await expect(create("Hung")).rejects.toMatchObject({ status: 503 });
    expect(await namesIn({ property: "Name", title: { equals: "Hung" } })).toEqual([]);
  });

  it("refuses a fault that cannot happen", async () => {
    for (const fault of [{ operation: "pages.create", status: 418 }, { operation: "pages.create", status: 409, afterWrite: true }, { operation: "pages.create", status: 503, afterWrite: true, hangMs: 10 }, { operation: "pages.create", status: 503, times: 2 }]) {
      const response = await fetch(`${emulator.url}/_emulator/config`, { method: "PUT", body: JSON.stringify({ faults: { script: [fault] } }) });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("faults.script.0");
    }
  });
});

describe("request journal", () => {
  it("lists each API request with its operation, status and a write's body, and empties with the counters", async () => {
    const page = await notion.pages.create({ parent: { data_source_id: dataSourceId }, properties: { Name: { title: text("Journaled") } } });
    await notion.pages.update({ page_id: page.id, properties: { Phone: { phone_number: "+14155550101" } } });
    const { requests } = await control(emulator, "GET", "requests");
    expect(requests.map((r: { operation: string; status: number }) => `${r.operation} ${r.status}`)).toEqual(["pages.create 200", "pages.update 200"]);
    expect(requests[1]).toMatchObject({ method: "PATCH", path: `/v1/pages/${page.id}`, body: { properties: { Phone: { phone_number: "+14155550101" } } } });
    await control(emulator, "DELETE", "stats");
    expect((await control(emulator, "GET", "requests")).requests).toEqual([]);
  });
});

describe("latency and query lag", () => {
  // How long the delayed answers take is measured by `npm run bench` (scripts/lib/emulator-latency.ts), not here.
  it("answers every request with latency configured", async () => {
    await control(emulator, "PUT", "config", { latencyMs: { p50: 80, p95: 200 } });
    for (let i = 0; i < 20; i++) expect((await notion.users.me({})).object).toBe("user");
    const stats = await control(emulator, "GET", "stats");
    expect(stats.requests.byOperation["users.me"]).toBe(20);
    expect(stats.requests.byStatus["200"]).toBe(20);
  });

  it("hides new and changed pages from queries until the lag has passed", async () => {
    await control(emulator, "PUT", "config", { queryLagMs: 1500 });
    const page = await notion.pages.create({ parent: { data_source_id: dataSourceId }, properties: { Name: { title: text("Lagging") }, Phone: { phone_number: "+14155550000" } } });
    expect(await namesIn({ property: "Name", title: { equals: "Lagging" } })).toEqual([]);
    // The page itself is readable at once by id.
    expect((await notion.pages.retrieve({ page_id: page.id })).id).toBe(page.id);
    await waitUntil(async () => (await namesIn({ property: "Name", title: { equals: "Lagging" } })).length === 1);

    await notion.pages.update({ page_id: page.id, properties: { Phone: { phone_number: "+14155559999" } } });
    expect(await namesIn({ property: "Phone", phone_number: { equals: "+14155559999" } })).toEqual([]);
    expect(await namesIn({ property: "Phone", phone_number: { equals: "+14155550000" } })).toEqual(["Lagging"]);
    await waitUntil(async () => (await namesIn({ property: "Phone", phone_number: { equals: "+14155559999" } })).length === 1);
  });
});

describe("control API", () => {
  it("refuses invalid configuration with a readable error and keeps the old one", async () => {
    const before = await control(emulator, "GET", "config");
    const response = await fetch(`${emulator.url}/_emulator/config`, { method: "PUT", body: JSON.stringify({ faults: { statuses: [418] } }) });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("faults.statuses");
    const config = await control(emulator, "GET", "config");
    expect(config).toEqual(before);
  });

  it("resets to a fresh workspace", async () => {
    await control(emulator, "POST", "reset");
    await expect(notion.dataSources.retrieve({ data_source_id: dataSourceId })).rejects.toMatchObject({ status: 404 });
    const dump = await control(emulator, "GET", "dump");
    expect(dump.pages.map((p: { id: string }) => p.id)).toEqual([emulator.rootPageId]);
    const stats = await control(emulator, "GET", "stats");
    expect(stats.requests.byOperation["data_sources.retrieve"]).toBe(1);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("condition not met in time");
}
