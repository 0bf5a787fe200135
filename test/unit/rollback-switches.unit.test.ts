/**
 * The switches that turn an optimisation off for rollback (runtime flags GATES_ENABLED, D1_BATCHING_ENABLED,
 * CANVAS_INDEX_LOOKUP_ENABLED; MEDIA_STREAMING_ENABLED is in the media integration test): with each off the work is
 * done the plain way, counted here by requests and statements, and gives the same result.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CanvasMatcher } from "../../src/canvas/matcher";
import { loadConfig } from "../../src/config";
import { runStatements } from "../../src/db/statements";
import { createGatedFetch, newRequestCounter } from "../../src/gates/gated-fetch";

afterEach(() => vi.restoreAllMocks());

function fakeGate() {
  const calls = { acquire: 0, report: 0 };
  const stub = {
    acquire: async () => {
      calls.acquire++;
      return { ok: true, waitMs: 0 };
    },
    report: async () => {
      calls.report++;
    },
  };
  return { calls, namespace: { idFromName: () => "gate", get: () => stub } as never };
}

/** Answers 429 (Retry-After 0) to the first request, then 200. */
function rateLimitedOnce() {
  let n = 0;
  return vi.spyOn(globalThis, "fetch").mockImplementation(async () => (n++ === 0 ? new Response("slow down", { status: 429, headers: { "Retry-After": "0" } }) : new Response("{}", { status: 200 })));
}

describe("GATES_ENABLED", () => {
  const { config } = loadConfig({});

  it("on (the default): every request takes a permit from the gate and reports how it went", async () => {
    const gate = fakeGate();
    const fetchSpy = rateLimitedOnce();
    const counter = newRequestCounter();
    const gated = createGatedFetch({ api: "notion", gate: gate.namespace, config, counter, flags: { ...env } as Env });
    expect((await gated("https://api.notion.test/v1/pages")).status).toBe(200);
    expect(fetchSpy).toHaveBeenCalledTimes(2);
    expect(gate.calls).toEqual({ acquire: 2, report: 2 });
    expect(counter).toEqual({ notion: 2, openphone: 0, rateLimited: 1 });
  });

  it("off: no gate request at all, and the client retries its own 429 after Retry-After", async () => {
    const gate = fakeGate();
    const fetchSpy = rateLimitedOnce();
    const counter = newRequestCounter();
    const gated = createGatedFetch({ api: "notion", gate: gate.namespace, config, counter, flags: { ...env, GATES_ENABLED: "false" } as Env });
    expect((await gated("https://api.notion.test/v1/pages")).status).toBe(200);
    expect(fetchSpy).toHaveBeenCalledTimes(2);
    expect(gate.calls).toEqual({ acquire: 0, report: 0 });
    expect(counter).toEqual({ notion: 2, openphone: 0, rateLimited: 1 });
  });

  it("off: a 429 that persists is returned after the same number of retries as through the gate", async () => {
    const gate = fakeGate();
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("", { status: 429, headers: { "Retry-After": "0" } }));
    const gated = createGatedFetch({ api: "openphone", gate: gate.namespace, config, maxRateLimitRetries: 2, flags: { ...env, GATES_ENABLED: "off" } as Env });
    expect((await gated("https://api.openphone.test/v1/calls")).status).toBe(429);
    expect(fetchSpy).toHaveBeenCalledTimes(3);
    expect(gate.calls.acquire).toBe(0);
  });
});

describe("D1_BATCHING_ENABLED (runStatements)", () => {
  it("writes the same rows in one batch or one statement per round trip", async () => {
    await env.DB.exec("CREATE TABLE IF NOT EXISTS rollback_rows (id INTEGER PRIMARY KEY, label TEXT)");
    const statements = (offset: number) => [1, 2, 3].map((i) => env.DB.prepare("INSERT INTO rollback_rows (id, label) VALUES (?1, ?2)").bind(offset + i, `row ${i}`));
    expect(await runStatements(env.DB, statements(0), true)).toBe(1);
    expect(await runStatements(env.DB, statements(10), false)).toBe(3);
    expect(await runStatements(env.DB, [], false)).toBe(0);
    const rows = await env.DB.prepare("SELECT id, label FROM rollback_rows ORDER BY id").all();
    expect(rows.results).toEqual([1, 2, 3, 11, 12, 13].map((id) => ({ id, label: `row ${id % 10}` })));
  });
});

describe("CANVAS_INDEX_LOOKUP_ENABLED", () => {
  const CANVAS = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const { config } = loadConfig({ NOTION_TOKEN: "t", NOTION_API_BASE: "https://notion.test", NOTION_CANVAS_DATABASE_ID: CANVAS });

  /** A Canvas of two customers whose numbers share their last four digits, stored in two formats. */
  function fakeNotion() {
    const requests: { method: string; path: string; body: unknown }[] = [];
    const page = (id: string, phone: string) => ({ object: "page", id, last_edited_time: "2026-01-01T00:00:00.000Z", properties: { Name: { type: "title", title: [{ plain_text: id }] }, Phone: { type: "phone_number", phone_number: phone } } });
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
      requests.push({ method: init?.method ?? "GET", path: url.pathname, body });
      if (url.pathname === `/v1/databases/${CANVAS}`) return json({ object: "database", id: CANVAS, data_sources: [{ id: "ds-canvas" }] });
      if (url.pathname === "/v1/data_sources/ds-canvas") return json({ object: "data_source", id: "ds-canvas", properties: { Name: { type: "title" }, Phone: { type: "phone_number" } } });
      if (url.pathname === "/v1/data_sources/ds-canvas/query") {
        const needle = body.filter.phone_number.contains as string;
        const rows = [page("page-ada", "(415) 555-0100"), page("page-ben", "+1 212 555 0100")].filter((p) => p.properties.Phone.phone_number.replace(/\D/g, "").includes(needle));
        return json({ object: "list", results: rows, next_cursor: null, has_more: false });
      }
      return new Response("{}", { status: 404 });
    });
    return { requests, queries: () => requests.filter((r) => r.path.endsWith("/query")) };
  }

  it("off: each lookup is one Notion query per participant, nothing remembered, and the right customer is linked", async () => {
    const notion = fakeNotion();
    const matcher = new CanvasMatcher({ ...env, CANVAS_INDEX_LOOKUP_ENABLED: "false", GATES_ENABLED: "false" } as Env, config);
    expect(Object.fromEntries(await matcher.match(["+12125550100", "+14155550100", "+13105550199"]))).toEqual({ "+12125550100": "page-ben", "+14155550100": "page-ada", "+13105550199": null });
    expect(notion.queries()).toHaveLength(3);
    expect(notion.queries()[0]!.body).toMatchObject({ filter: { property: "Phone", phone_number: { contains: "0100" } } });
    // Asked again: another query, as a plain client would spend.
    expect((await matcher.match(["+14155550100"])).get("+14155550100")).toBe("page-ada");
    expect(notion.queries()).toHaveLength(4);
    // The Canvas's property types were read once.
    expect(notion.requests.filter((r) => r.path === "/v1/data_sources/ds-canvas")).toHaveLength(1);
  });

  it("on (the default): a number the index knows costs no Notion request", async () => {
    const notion = fakeNotion();
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT OR REPLACE INTO canvas_pages (page_id, title, last_edited_time, indexed_at) VALUES ('page-ada', 'Ada', '2026-01-01T00:00:00.000Z', ?1)").bind(now),
      env.DB.prepare("INSERT OR REPLACE INTO canvas_index (key, page_id, property, raw, added_at) VALUES ('phone:+14155550100', 'page-ada', 'Phone', '(415) 555-0100', ?1)").bind(now),
    ]);
    const matcher = new CanvasMatcher({ ...env, GATES_ENABLED: "false" } as Env, config);
    expect((await matcher.match(["+14155550100"])).get("+14155550100")).toBe("page-ada");
    expect(notion.requests).toHaveLength(0);
  });
});
