/**
 * The switches that turn an optimisation off for rollback (runtime flags GATES_ENABLED, D1_BATCHING_ENABLED,
 * CANVAS_INDEX_LOOKUP_ENABLED; MEDIA_STREAMING_ENABLED is in the media integration test): with each off the work is
 * done the plain way, counted here by requests and statements, and gives the same result. The requests go to the
 * Notion emulator, which counts them in its journal and answers the 429s the test scripts.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CanvasMatcher } from "../../src/canvas/matcher";
import { loadConfig } from "../../src/config";
import { runStatements } from "../../src/db/statements";
import { createGatedFetch, newRequestCounter } from "../../src/gates/gated-fetch";
import { NOTION, notion } from "./emulators";

afterEach(() => notion.clearScript());

/** A Gate Durable Object namespace that grants every permit and counts what it is asked. */
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

describe("GATES_ENABLED", () => {
  const { config } = loadConfig({});

  /** A Notion search of a text of this test's own, so its scripted 429s and journal entries are told from others'. */
  function search() {
    const marker = `rollback-gates-${crypto.randomUUID()}`;
    const init = {
      method: "POST",
      headers: { Authorization: `Bearer ${NOTION.token}`, "Notion-Version": "2025-09-03", "Content-Type": "application/json" },
      body: JSON.stringify({ query: marker }),
    };
    const rateLimited = (times: number) => notion.script(...Array.from({ length: times }, () => ({ operation: "search", status: 429, bodyContains: marker })));
    const sent = async () => (await notion.requests()).filter((r) => r.operation === "search" && JSON.stringify(r.body).includes(marker)).map((r) => r.status);
    return { url: `${NOTION.url}/v1/search`, init, rateLimited, sent };
  }

  it("on (the default): every request takes a permit from the gate and reports how it went", async () => {
    const gate = fakeGate();
    const request = search();
    await request.rateLimited(1);
    const counter = newRequestCounter();
    const gated = createGatedFetch({ api: "notion", gate: gate.namespace, config, counter, flags: { ...env } as Env });
    expect((await gated(request.url, request.init)).status).toBe(200);
    expect(await request.sent()).toEqual([429, 200]);
    expect(gate.calls).toEqual({ acquire: 2, report: 2 });
    expect(counter).toMatchObject({ notion: 2, openphone: 0, rateLimited: 1 });
  });

  it("off: no gate request at all, and the client retries its own 429 after Retry-After", async () => {
    const gate = fakeGate();
    const request = search();
    await request.rateLimited(1);
    const counter = newRequestCounter();
    const gated = createGatedFetch({ api: "notion", gate: gate.namespace, config, counter, flags: { ...env, GATES_ENABLED: "false" } as Env });
    expect((await gated(request.url, request.init)).status).toBe(200);
    expect(await request.sent()).toEqual([429, 200]);
    expect(gate.calls).toEqual({ acquire: 0, report: 0 });
    expect(counter).toMatchObject({ notion: 2, openphone: 0, rateLimited: 1 });
  });

  it("off: a 429 that persists is returned after the same number of retries as through the gate", async () => {
    const gate = fakeGate();
    const request = search();
    await request.rateLimited(3);
    const gated = createGatedFetch({ api: "notion", gate: gate.namespace, config, maxRateLimitRetries: 2, flags: { ...env, GATES_ENABLED: "off" } as Env });
    expect((await gated(request.url, request.init)).status).toBe(429);
    expect(await request.sent()).toEqual([429, 429, 429]);
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
  /** A Canvas in the Notion emulator: two customers whose numbers share their last four digits, stored in two formats. */
  const canvas = { databaseId: "", dataSourceId: "", ada: "", ben: "" };
  const settings = () => loadConfig({ NOTION_TOKEN: NOTION.token, NOTION_API_BASE: NOTION.url, NOTION_CANVAS_DATABASE_ID: canvas.databaseId }).config;
  const canvasRequests = async () => (await notion.requests()).filter((r) => r.path.includes(canvas.databaseId) || r.path.includes(canvas.dataSourceId));

  beforeAll(async () => {
    const { rootPageId } = await notion.workspace();
    const database = await notion.api<{ id: string; data_sources: { id: string }[] }>("POST", "/v1/databases", {
      parent: { type: "page_id", page_id: rootPageId },
      title: [{ text: { content: "Customers (rollback switches)" } }],
      initial_data_source: { properties: { Name: { title: {} }, Phone: { phone_number: {} } } },
    });
    canvas.databaseId = database.id;
    canvas.dataSourceId = database.data_sources[0]!.id;
    const customer = async (name: string, phone: string) =>
      (await notion.api<{ id: string }>("POST", "/v1/pages", { parent: { type: "data_source_id", data_source_id: canvas.dataSourceId }, properties: { Name: { title: [{ text: { content: name } }] }, Phone: { phone_number: phone } } })).id;
    canvas.ada = await customer("Ada", "(415) 555-0100");
    canvas.ben = await customer("Ben", "+1 212 555 0100");
  });

  it("off: each lookup is one Notion query per participant, nothing remembered, and the right customer is linked", async () => {
    const matcher = new CanvasMatcher({ ...env, CANVAS_INDEX_LOOKUP_ENABLED: "false", GATES_ENABLED: "false" } as Env, settings());
    expect(Object.fromEntries(await matcher.match(["+12125550100", "+14155550100", "+13105550199"]))).toEqual({ "+12125550100": canvas.ben, "+14155550100": canvas.ada, "+13105550199": null });
    const queries = async () => (await canvasRequests()).filter((r) => r.operation === "data_sources.query");
    expect(await queries()).toHaveLength(3);
    expect((await queries())[0]!.body).toMatchObject({ filter: { property: "Phone", phone_number: { contains: "0100" } } });
    // Asked again: another query, as a plain client would spend.
    expect((await matcher.match(["+14155550100"])).get("+14155550100")).toBe(canvas.ada);
    expect(await queries()).toHaveLength(4);
    // The Canvas's property types were read once.
    expect((await canvasRequests()).filter((r) => r.operation === "data_sources.retrieve")).toHaveLength(1);
  });

  it("on (the default): a number the index knows costs no Notion request", async () => {
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT OR REPLACE INTO canvas_pages (page_id, title, last_edited_time, indexed_at) VALUES (?1, 'Ada', '2026-01-01T00:00:00.000Z', ?2)").bind(canvas.ada, now),
      env.DB.prepare("INSERT OR REPLACE INTO canvas_index (key, page_id, property, raw, added_at) VALUES ('phone:+14155550100', ?1, 'Phone', '(415) 555-0100', ?2)").bind(canvas.ada, now),
    ]);
    await notion.resetCounters();
    const counter = newRequestCounter();
    const matcher = new CanvasMatcher({ ...env, GATES_ENABLED: "false" } as Env, settings(), counter);
    expect((await matcher.match(["+14155550100"])).get("+14155550100")).toBe(canvas.ada);
    expect(await notion.requests()).toEqual([]);
    expect(counter.notion).toBe(0);
  });
});
