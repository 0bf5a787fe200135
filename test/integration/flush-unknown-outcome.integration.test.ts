/**
 * Create once against a Notion that applies writes it answers with 5xx and whose queries lag 45 s behind: the flush
 * and its settling (the code the Line Durable Object runs) drive 20 texts to their pages against the Notion emulator,
 * with one clock for both that the test moves forward instead of sleeping. Every Message ID must end with one page.
 */
import { Client, LogLevel } from "@notionhq/client";
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it } from "vitest";
import { getConfig } from "../../src/config";
import { emptyReport } from "../../src/db/sync-history";
import { CLAIM_LOOKUPS, type FlushDeps, flushResource } from "../../src/line/flush";
import { newRecord } from "../../src/line/schedule";
import { settleFlush } from "../../src/line/settle";
import { emptyMessage, mergeMessage } from "../../src/line/state";
import { LineStorage, type ResourceRecord } from "../../src/line/storage";
import { resolvePropertyNames } from "../../src/notion/schema";
import type { OpenPhoneClient } from "../../src/openphone/client";
import type {} from "../emulators-context";

const emulator = inject("notionEmulator");
let clock = Date.parse("2026-03-02T10:00:00Z");
const now = () => clock;

/** Moves the shared clock: the product's and the emulator's. */
async function setClock(at: number | null): Promise<void> {
  if (at !== null) clock = at;
  const response = await fetch(emulator.clockUrl, { method: "POST", body: JSON.stringify({ now: at }) });
  expect(response.status).toBe(204);
}

async function emulatorControl(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  expect(response.ok).toBe(true);
  return (await response.json()) as Record<string, any>;
}

afterEach(async () => {
  await emulatorControl("PUT", "config", { faults: { rate: 0 }, queryLagMs: 0 });
  await setClock(null);
});

/** The Line DO's storage as far as flushing and settling touch it, in memory. */
function memoryStore() {
  const records = new Map<string, ResourceRecord>();
  const store = {
    records,
    get: (id: string) => records.get(id),
    put: (r: ResourceRecord) => void records.set(r.resourceId, r),
    markEventsFlushed: () => undefined,
    requestMediaCopies: () => undefined,
    eventMessages: () => [],
    claimCreate(id: string, props: ResourceRecord["claimProps"], sections: string[], at: number) {
      const r = records.get(id)!;
      records.set(id, { ...r, claim: "creating", claimProps: props, claimSections: sections, claimedAt: at, claimUnknownAt: null, claimLookups: 0 });
    },
  };
  return store;
}

function text(i: number) {
  const id = `AC${String(i).padStart(30, "0")}`;
  const state = mergeMessage(
    emptyMessage(id),
    { lineId: "PN1", direction: "incoming", status: "received", from: "+15551230000", to: ["+15559870000"], text: `text ${i}`, createdAt: new Date(clock).toISOString() },
    { id: `EV${i}`, at: clock },
  );
  return { ...newRecord(id, "message", state, clock), dirty: true, dueAt: clock };
}

describe("create once when Notion applies writes it fails and its queries lag", () => {
  it("20 texts, 30 % of writes answered 5xx after being applied, query lag 45 s: one page per Message ID", async () => {
    await setClock(clock);
    const dataSourceId = emulator.messagesDataSourceId;
    const before = (await emulatorControl("GET", "stats")).faults.afterWrite as number;
    await emulatorControl("PUT", "config", { faults: { rate: 0.3, statuses: [502, 503, 504], afterWriteRate: 1 }, queryLagMs: 45_000 });
    const client = new Client({ auth: emulator.token, baseUrl: emulator.url, notionVersion: "2025-09-03", retry: false, logLevel: LogLevel.ERROR });
    const store = memoryStore();
    for (let i = 1; i <= 20; i++) store.put(text(i));
    const { config } = getConfig({});
    const deps: FlushDeps = {
      config,
      notion: client,
      openphone: {} as OpenPhoneClient,
      parent: async () => ({ type: "data_source_id", data_source_id: dataSourceId }),
      names: (kind) => resolvePropertyNames(kind, {}),
      userNames: async () => ({}),
      line: async () => ({ label: "Sales", number: "+15559870000" }),
      canvasPageId: null,
      claim: async (id, props, sections) => store.claimCreate(id, props, sections, clock),
      now,
    };
    const metrics: Record<string, number> = {};
    let flushes = 0;
    for (;;) {
      const due = [...store.records.values()].filter((r) => r.dirty && r.dueAt !== null);
      if (due.length === 0) break;
      await setClock(Math.max(clock, Math.min(...due.map((r) => r.dueAt!))));
      for (const record of due.filter((r) => r.dueAt! <= clock)) {
        const report = emptyReport();
        const result = await flushResource(record, deps);
        settleFlush(store as unknown as LineStorage, record, result, { canvasPageId: null, pendingSince: null, counter: { notion: 0, openphone: 0, rateLimited: 0 }, participantOf: () => undefined, now }, report);
        for (const [k, v] of Object.entries(report.metrics)) metrics[k] = (metrics[k] ?? 0) + v;
        // Each lookup is counted in the stored record, and never beyond the budget.
        expect(store.get(record.resourceId)!.claimLookups).toBeLessThanOrEqual(CLAIM_LOOKUPS);
        // The request itself takes a moment; the clock moves on with it.
        await setClock(clock + 200);
        flushes++;
      }
      expect(flushes).toBeLessThan(2000);
    }
    const faults = ((await emulatorControl("GET", "stats")).faults.afterWrite as number) - before;

    await emulatorControl("PUT", "config", { faults: { rate: 0 } });
    await setClock(clock + 60_000);
    const pages = await client.dataSources.query({ data_source_id: dataSourceId, page_size: 100 });
    const ids = pages.results.map((p) => ((p as { properties: Record<string, { rich_text: { plain_text: string }[] }> }).properties["Message ID"]!.rich_text.map((t) => t.plain_text).join("")));
    const perId = new Map<string, number>();
    for (const id of ids) perId.set(id, (perId.get(id) ?? 0) + 1);
    expect([...perId.values()].filter((n) => n > 1)).toEqual([]);
    expect(perId.size).toBe(20);
    for (const r of store.records.values()) expect(r.pageId).toBeTruthy();
    // The faults did land on creates that went through, and each such page was found instead of made again.
    expect(faults).toBeGreaterThan(0);
    expect(metrics["sync.duplicate_prevented"]).toBeGreaterThan(0);
    console.log(`flush-unknown-outcome: ${flushes} flushes, ${faults} writes answered 5xx after being applied, ${metrics["sync.duplicate_prevented"]} duplicates prevented`);
  });
});

describe("the Line DO's storage of the create claim", () => {
  it("adds the unknown-attempt columns to a resources table made before them, keeping its rows", async () => {
    const stub = env.LINE.get(env.LINE.idFromName("PNolder-schema"));
    const columns = await runInDurableObject(stub, (_i, state) => {
      const sql = state.storage.sql;
      sql.exec("ALTER TABLE resources DROP COLUMN claim_lookups");
      sql.exec("ALTER TABLE resources DROP COLUMN claim_unknown_at");
      sql.exec("INSERT INTO resources (resource_id, kind, state, first_event_at, claim, claimed_at) VALUES ('AC1', 'message', '{\"kind\":\"message\",\"id\":\"AC1\",\"stamps\":{}}', 1, 'creating', 5)");
      const storage = new LineStorage(sql);
      storage.migrate();
      storage.migrate();
      const record = storage.get("AC1")!;
      return { names: sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('resources')").toArray().map((c) => c.name), record };
    });
    expect(columns.names).toEqual(expect.arrayContaining(["claim_unknown_at", "claim_lookups"]));
    expect(columns.record).toMatchObject({ claim: "creating", claimedAt: 5, claimUnknownAt: null, claimLookups: 0 });
  });
});
