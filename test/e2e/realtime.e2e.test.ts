/**
 * Real time, end to end: OpenPhone emulator → signed webhooks → Worker (wrangler dev) → queue → Line Durable Objects
 * → Notion emulator, with `setup` run first. Prints the Notion requests spent per call.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DumpedPage, E2E_ADMIN_TOKEN, E2E_NOTION_TOKEN, E2E_OPENPHONE_KEY, type E2ESandbox, notionPages, plainText, sandboxPeople, startE2ESandbox, waitFor } from "./harness.ts";

interface NotionStats {
  requests: { total: number; byOperation: Record<string, number>; byOperationAndStatus: Record<string, Record<string, number>> };
  rateLimited: number;
}

let sandbox: E2ESandbox;
let customers: { phone: string; firstName: string; lastName: string }[];
let customerNames: Map<string, string>;

beforeAll(async () => {
  // Notion at its real 3 requests/s; every webhook delivered twice and a call's events shuffled.
  sandbox = await startE2ESandbox({ notionConfig: { rateLimit: { perSecond: 3, burst: 10 } }, openphoneConfig: { timeFactor: 20, webhook: { duplicates: 1, shuffle: true } } });
  const people = await sandboxPeople(sandbox);
  customers = people.customers.slice(0, 10);
  customerNames = new Map(customers.map((c) => [c.phone, `${c.firstName} ${c.lastName}`]));
}, 240_000);

afterAll(async () => {
  await sandbox?.close();
});

const notionStats = () => sandbox.json<NotionStats>(`${sandbox.notionUrl}/_emulator/stats`);
const resetNotionStats = () => sandbox.json(`${sandbox.notionUrl}/_emulator/stats`, { method: "DELETE" });
const callPages = () => notionPages(sandbox, sandbox.sync.notion.calls.dataSourceId);
const messagePages = () => notionPages(sandbox, sandbox.sync.notion.messages.dataSourceId);

function createCall(participant: string, incoming: boolean) {
  return sandbox.json<{ callId: string }>(`${sandbox.openphoneUrl}/_emulator/calls`, {
    method: "POST",
    body: JSON.stringify({ participant, direction: incoming ? "incoming" : "outgoing", status: "answered", durationSeconds: 95, recording: { segments: 1 }, transcript: { chars: 900 }, summary: true }),
  });
}

function callIsComplete(page: DumpedPage): boolean {
  const p = page.properties;
  const body = JSON.stringify(page.content);
  return (
    plainText(p["Summary"]).length > 0 &&
    plainText(p["Next Steps"]).length > 0 &&
    (p["Transcript Status"]?.select as { name?: string } | undefined)?.name === "completed" &&
    typeof p["Recording"]?.url === "string" &&
    ((p["Canvas"]?.relation as unknown[]) ?? []).length === 1 &&
    body.includes("Transcript") &&
    body.includes('"to_do"') &&
    body.includes('"audio"')
  );
}

describe("real-time sync", () => {
  it("writes exactly 50 call pages and 50 message pages, complete, from duplicated and shuffled webhooks at 3 Notion requests/s", async () => {
    await resetNotionStats();
    const calls = await Promise.all(Array.from({ length: 50 }, (_, i) => createCall(customers[i % 10]!.phone, i % 2 === 0)));
    const texts = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        sandbox.json<{ messageId: string }>(`${sandbox.openphoneUrl}/_emulator/messages`, {
          method: "POST",
          body: JSON.stringify({ participant: customers[i % 10]!.phone, direction: "incoming", text: `Hello, this is message ${i}` }),
        }),
      ),
    );
    const started = Date.now();
    const done = await waitFor("50 complete call pages and 50 message pages", 420_000, async () => {
      const [c, m] = await Promise.all([callPages(), messagePages()]);
      return c.length === 50 && m.length === 50 && c.every(callIsComplete) ? { c, m } : undefined;
    });
    const seconds = (Date.now() - started) / 1000;
    // Late duplicates must not add pages.
    await new Promise((r) => setTimeout(r, 5000));
    const [c, m] = await Promise.all([callPages(), messagePages()]);
    expect(c).toHaveLength(50);
    expect(m).toHaveLength(50);
    expect(new Set(c.map((p) => plainText(p.properties["Call ID"])))).toEqual(new Set(calls.map((x) => x.callId)));
    expect(new Set(m.map((p) => plainText(p.properties["Message ID"])))).toEqual(new Set(texts.map((x) => x.messageId)));
    // The title names the customer from Canvas, not the bare number.
    for (const page of c) {
      const name = customerNames.get(String(page.properties["Participant"]?.phone_number))!;
      expect(plainText(page.properties["Name"])).toMatch(new RegExp(`^(Incoming call from|Outgoing call to) ${name} · `));
    }
    for (const page of done.m) {
      expect(plainText(page.properties["Text"])).toMatch(/^Hello, this is message \d+$/);
      expect(((page.properties["Canvas"]?.relation as unknown[]) ?? []).length).toBe(1);
    }

    // The recording link names the file the media copier stores: the call's recording id from OpenPhone.
    const sample = c.find((p) => plainText(p.properties["Call ID"]) === calls[0]!.callId)!;
    const listed = await sandbox.json<{ data: { id: string }[] }>(`${sandbox.openphoneUrl}/v1/call-recordings/${calls[0]!.callId}`, { headers: { Authorization: E2E_OPENPHONE_KEY } });
    expect(sample.properties["Recording"]?.url).toContain(`/${calls[0]!.callId}/${listed.data[0]!.id}.`);

    const stats = await notionStats();
    const writes = (stats.requests.byOperation["pages.create"] ?? 0) + (stats.requests.byOperation["pages.update"] ?? 0) + (stats.requests.byOperation["blocks.children.append"] ?? 0);
    console.log(
      `real time, within the window: ${stats.requests.total} Notion requests for 50 calls + 50 texts in ${seconds.toFixed(0)} s ` +
        `(${(stats.requests.total / 100).toFixed(2)} per call or text; ${writes} page writes; ${stats.rateLimited} answered 429)`,
      JSON.stringify(stats.requests.byOperation),
    );
    const today = await sandbox.admin<{ today: { kind: string; outcome: string; avg_latency_ms: number; max_latency_ms: number }[] }>("/admin/stats");
    for (const row of today.today) console.log(`  ${row.kind} ${row.outcome}: webhook → page ${row.avg_latency_ms} ms on average, ${row.max_latency_ms} ms at most (2 s coalescing window)`);
    expect(stats.requests.total / 100).toBeLessThanOrEqual(1.2);
    const dead = await sandbox.admin<{ open: number }>("/admin/dead-letters");
    expect(dead.open).toBe(0);
    expect(sandbox.workerLogs().filter((l) => l.includes('"level":"error"'))).toEqual([]);
  }, 600_000);

  it("spends a few Notion requests per call when its events arrive far apart", async () => {
    // Real gaps (recording 5 s, transcript 30 s, summary 40 s after the call) against a 2 s coalescing window.
    await sandbox.json(`${sandbox.openphoneUrl}/_emulator/config`, { method: "PUT", body: JSON.stringify({ timeFactor: 1, webhook: { duplicates: 0, shuffle: false } }) });
    await resetNotionStats();
    const before = new Set((await callPages()).map((p) => p.id));
    await Promise.all(Array.from({ length: 5 }, (_, i) => createCall(customers[i]!.phone, true)));
    await waitFor("5 more complete call pages", 240_000, async () => {
      const fresh = (await callPages()).filter((p) => !before.has(p.id));
      return fresh.length === 5 && fresh.every(callIsComplete);
    });
    const stats = await notionStats();
    console.log(`real time, events minutes apart: ${(stats.requests.total / 5).toFixed(2)} Notion requests per call`, JSON.stringify(stats.requests.byOperation));
    expect(stats.requests.total / 5).toBeLessThanOrEqual(4);
  }, 300_000);

  it("ends with one page when Notion created it but the answer was lost", async () => {
    await sandbox.json(`${sandbox.openphoneUrl}/_emulator/config`, { method: "PUT", body: JSON.stringify({ timeFactor: 20, webhook: { duplicates: 0, shuffle: true } }) });
    // Every write is applied and then answered 504, until the fault is lifted.
    await sandbox.json(`${sandbox.notionUrl}/_emulator/config`, { method: "PUT", body: JSON.stringify({ faults: { rate: 1, statuses: [504], afterWriteRate: 1 } }) });
    await resetNotionStats();
    const { callId } = await createCall(customers[3]!.phone, true);
    await waitFor("a create answered 504", 60_000, async () => ((await notionStats()).requests.byOperationAndStatus["pages.create"]?.["504"] ?? 0) > 0);
    await sandbox.json(`${sandbox.notionUrl}/_emulator/config`, { method: "PUT", body: JSON.stringify({ faults: { rate: 0 } }) });
    const page = await waitFor("the page to be complete", 120_000, async () => {
      const matching = (await callPages()).filter((p) => plainText(p.properties["Call ID"]) === callId);
      return matching.length === 1 && callIsComplete(matching[0]!) ? matching : undefined;
    });
    await new Promise((r) => setTimeout(r, 3000));
    expect((await callPages()).filter((p) => plainText(p.properties["Call ID"]) === callId)).toHaveLength(1);
    expect(page).toHaveLength(1);
  }, 240_000);

  it("dead-letters a Notion 400 with the property, names it on /health, and completes after the fix and a replay", async () => {
    const dataSource = sandbox.sync.notion.calls.dataSourceId;
    const rename = (from: string, to: string) => sandbox.renameProperty(dataSource, from, to);
    await rename("Summary", "AI summary");
    const { callId } = await createCall(customers[4]!.phone, true);
    const letters = await waitFor("dead letters for the call", 120_000, async () => {
      const open = await sandbox.admin<{ items: { resourceId: string; reason: string; property: string | null; events: unknown[] }[] }>("/admin/dead-letters");
      const mine = open.items.filter((l) => l.resourceId === callId);
      return mine.length > 0 ? mine : undefined;
    });
    // One entry for the call, however many of its events failed.
    expect(letters).toHaveLength(1);
    expect(letters[0]!.property).toBe("Summary");
    expect(letters[0]!.reason).toContain("Summary");
    const health = await fetch(`${sandbox.workerUrl}/health`);
    expect(health.status).toBe(503);
    expect(await health.text()).toContain('property \\"Summary\\"');

    await rename("AI summary", "Summary");
    await sandbox.admin("/admin/dead-letters/replay", { method: "POST", body: "{}" });
    await waitFor("the replayed call's page", 120_000, async () => {
      const matching = (await callPages()).filter((p) => plainText(p.properties["Call ID"]) === callId);
      return matching.length === 1 && callIsComplete(matching[0]!);
    });
    const after = await fetch(`${sandbox.workerUrl}/health`).then((r) => r.text());
    expect(after).not.toContain('property \\"Summary\\"');
  }, 300_000);

  it("re-syncs a call by id into its existing page, and refuses ids that are not OpenPhone's", async () => {
    const before = await callPages();
    const page = before.find(callIsComplete)!;
    const callId = plainText(page.properties["Call ID"]);
    const callSyncs = async () => {
      const stats = await sandbox.admin<{ today: { kind: string; syncs: number }[] }>("/admin/stats");
      return stats.today.filter((r) => r.kind === "call").reduce((n, r) => n + r.syncs, 0);
    };
    const syncsBefore = await callSyncs();
    const accepted = await fetch(`${sandbox.workerUrl}/admin/resync`, {
      method: "POST",
      headers: { Authorization: `Bearer ${E2E_ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ id: callId }),
    });
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toMatchObject({ id: callId, kind: "call", queued: true });
    // The line flushes the re-synced call once more (nothing changed in OpenPhone, so nothing needs writing).
    await waitFor("the re-sync recorded in the history", 60_000, async () => (await callSyncs()) > syncsBefore);
    const after = await callPages();
    expect(after).toHaveLength(before.length);
    expect(after.filter((p) => plainText(p.properties["Call ID"]) === callId)).toHaveLength(1);

    const post = (body: unknown) =>
      fetch(`${sandbox.workerUrl}/admin/resync`, { method: "POST", headers: { Authorization: `Bearer ${E2E_ADMIN_TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect((await post({ id: "not-an-id" })).status).toBe(400);
    expect((await post({ id: "ACdoesnotexist000" })).status).toBe(404);
  }, 120_000);
});
