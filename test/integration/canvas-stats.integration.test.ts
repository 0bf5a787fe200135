import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { CanvasMatcher } from "../../src/canvas/matcher";
import { readRelinks } from "../../src/db/canvas-links";
import { loadConfig } from "../../src/config";

const ADMIN_TOKEN = "admin-token-for-canvas-tests-VALUE-0001";

async function seed(): Promise<void> {
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare("INSERT INTO canvas_pages (page_id, title, last_edited_time, indexed_at) VALUES ('page-a', 'Ada', '2026-01-01T00:00:00.000Z', ?1), ('page-b', 'Ben', '2026-01-01T00:00:00.000Z', ?1)").bind(now),
    env.DB.prepare(
      "INSERT INTO canvas_index (key, page_id, property, raw, added_at) VALUES ('phone:+15551230001', 'page-a', 'Phone', '(555) 123-0001', ?1), ('phone:+15551230002', 'page-b', 'Phone', '555.123.0002', ?1), ('phone:+15551230002', 'page-a', 'Other phones', 'office 555 123 0002', ?1)",
    ).bind(now),
    env.DB.prepare("INSERT INTO canvas_unparsed (page_id, property, raw, seen_at) VALUES ('page-b', 'Phone', 'ask reception', ?1)").bind(now),
    env.DB.prepare(
      "INSERT INTO resources (resource_id, kind, phone_number_id, participant, notion_page_id, canvas_page_id, updated_at) VALUES ('ACx1', 'call', 'PN1', '+15559990000', 'n1', NULL, ?1), ('ACx2', 'call', 'PN1', '+15559990000', 'n2', NULL, ?1), ('ACx3', 'message', 'PN1', '+15551230001', 'n3', 'page-a', ?1)",
    ).bind(now),
    env.DB.prepare("INSERT INTO canvas_relinks (resource_id, kind, notion_page_id, canvas_page_id, property, status, linked_at) VALUES ('ACx3', 'message', 'n3', 'page-a', 'Canvas', 'linked', ?1)").bind(now),
  ]);
}

describe("Canvas figures", () => {
  it("lists shared numbers, picks the same customer for them every time, and shows the index on /admin/stats", async () => {
    await seed();
    const ambiguous = await env.DB.prepare("SELECT key, pages, chosen_page_id FROM canvas_ambiguous").all();
    expect(ambiguous.results).toEqual([{ key: "phone:+15551230002", pages: 2, chosen_page_id: "page-a" }]);

    // Without a Canvas database configured the matcher answers from the index only (no Durable Object, no Notion).
    const { config } = loadConfig({});
    const matcher = new CanvasMatcher(env, config);
    expect(Object.fromEntries(await matcher.match(["+1 (555) 123-0002", "+15551230001", "+15559990000"]))).toEqual({
      "+1 (555) 123-0002": "page-a",
      "+15551230001": "page-a",
      "+15559990000": null,
    });
    const again = await matcher.match(["+15551230002"]);
    expect(again.get("+15551230002")).toBe("page-a");

    expect(Object.fromEntries(await readRelinks(env.DB, ["ACx1", "ACx3"]))).toEqual({ ACx3: "page-a" });

    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request("http://worker/admin/stats", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }), { ...env, ADMIN_TOKEN } as Env, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    const stats = await response.json<{ canvasIndex: Record<string, number>; canvas: { memory_hits: number; d1_hits: number; misses: number } }>();
    expect(stats.canvasIndex).toMatchObject({ pages: 2, keys: 3, unparsed: 1, ambiguous: 1, unmatchedParticipants: 1 });
    expect(stats.canvas).toMatchObject({ memory_hits: 1, d1_hits: 2, misses: 1 });
  });
});
