/**
 * Links between calls, texts and customers, end to end through the sandbox: a group text linked to every customer on
 * it, the back-links Notion keeps on Canvas pages, `npm run setup` run again finding what it made, and a failing
 * call shown once among the dead letters. Prints the Notion requests each case cost.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RosterPerson } from "../../emulators/shared/roster.ts";
import { type DumpedPage, E2E_NOTION_TOKEN, E2E_OPENPHONE_KEY, type E2ESandbox, notionPages, plainText, sandboxPeople, startE2ESandbox, waitFor } from "./harness.ts";

const root = path.resolve(import.meta.dirname, "..", "..");
let sandbox: E2ESandbox;
let customers: RosterPerson[];
/** Customer's main number → their Canvas page id. */
let canvasPageOf: Map<string, string>;

beforeAll(async () => {
  sandbox = await startE2ESandbox({ openphoneConfig: { timeFactor: 20 } });
  const people = await sandboxPeople(sandbox);
  customers = people.customers.slice(0, 8);
  const canvas = await notionPages(sandbox, sandbox.sync.workspace.canvas!.dataSourceId);
  // The demo Canvas types numbers in assorted formats; its e-mail addresses are the roster's own.
  const byEmail = new Map(canvas.map((p) => [String(p.properties["Email"]?.email ?? "").toLowerCase(), p.id]));
  canvasPageOf = new Map(customers.map((c) => [c.phone, byEmail.get(c.email.toLowerCase())!]));
}, 240_000);

afterAll(async () => {
  await sandbox?.close();
});

const notionStats = async () => (await sandbox.json<{ requests: { total: number; byOperation: Record<string, number> } }>(`${sandbox.notionUrl}/_emulator/stats`)).requests;
const notionRequests = async () => (await notionStats()).total;
/** Requests per operation since `before`, e.g. `{"pages.create": 1}`. */
function spentSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([op, n]) => [op, n - (before[op] ?? 0)]).filter(([, n]) => (n as number) > 0));
}
const relationIds = (page: DumpedPage | undefined, name: string) => ((page?.properties[name]?.relation as { id: string }[] | undefined) ?? []).map((r) => r.id);
const canvasPage = async (id: string) => (await notionPages(sandbox, sandbox.sync.workspace.canvas!.dataSourceId)).find((p) => p.id === id);
const ourLine = async () => (await sandbox.json<{ data: { id: string; number: string }[] }>(`${sandbox.openphoneUrl}/v1/phone-numbers`, { headers: { Authorization: E2E_OPENPHONE_KEY } })).data[0]!;

async function runSetup(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(path.join(root, "node_modules", ".bin", "tsx"), ["scripts/setup.ts", ...args], {
    cwd: root,
    env: { ...process.env, NOTION_TOKEN: E2E_NOTION_TOKEN, NOTION_API_BASE: sandbox.notionUrl, OPENPHONE_API_KEY: E2E_OPENPHONE_KEY, OPENPHONE_API_BASE: sandbox.openphoneUrl },
    timeout: 120_000,
  });
  return stdout;
}

describe("customer links", () => {
  it("links a group text to both customers on it, shows every recipient, and each Canvas page lists the text", async () => {
    const [ada, ben] = [customers[0]!, customers[1]!];
    const line = await ourLine();
    // A first text builds the Canvas index (a cold start's cost), so the count below is the group text's own.
    const warm = await sandbox.json<{ messageId: string }>(`${sandbox.openphoneUrl}/_emulator/messages`, {
      method: "POST",
      body: JSON.stringify({ phoneNumberId: line.id, participant: customers[5]!.phone, direction: "incoming", text: "Warming up" }),
    });
    await waitFor("the first text's page", 120_000, async () => (await notionPages(sandbox, sandbox.sync.notion.messages.dataSourceId)).some((p) => plainText(p.properties["Message ID"]) === warm.messageId));
    await new Promise((r) => setTimeout(r, 5000));
    const before = (await notionStats()).byOperation;
    const { messageId } = await sandbox.json<{ messageId: string }>(`${sandbox.openphoneUrl}/_emulator/messages`, {
      method: "POST",
      body: JSON.stringify({ phoneNumberId: line.id, participant: ada.phone, alsoTo: [ben.phone], direction: "incoming", text: "Both of us can make Thursday" }),
    });
    const page = await waitFor("the group text's page", 120_000, async () => (await notionPages(sandbox, sandbox.sync.notion.messages.dataSourceId)).find((p) => plainText(p.properties["Message ID"]) === messageId));
    // Let the coalescing window pass: a late write would show up in the count.
    await new Promise((r) => setTimeout(r, 5000));
    const spent = spentSince(before, (await notionStats()).byOperation);
    console.log(`group text with two customers: ${JSON.stringify(spent)} Notion requests`);

    expect(plainText(page.properties["Text"])).toBe("Both of us can make Thursday");
    expect(page.properties["From"]?.phone_number).toBe(ada.phone);
    expect(page.properties["Participant"]?.phone_number).toBe(ada.phone);
    expect(plainText(page.properties["To"])).toBe(`${line.number}, ${ben.phone}`);
    expect(relationIds(page, "Canvas")).toEqual([canvasPageOf.get(ada.phone), canvasPageOf.get(ben.phone)]);
    // A text that fits its property has no body (a longer one gets a "Text" heading and the whole text).
    expect(page.content).toEqual([]);
    // The back-links Notion keeps: each customer's page lists the text under "Messages".
    for (const person of [ada, ben]) expect(relationIds(await canvasPage(canvasPageOf.get(person.phone)!), "Messages")).toContain(page.id);
    expect(spent["pages.create"]).toBe(1);
    expect(spent["pages.update"] ?? 0).toBe(0);
  }, 180_000);

  it("lists a customer's call on their Canvas page under Calls", async () => {
    const cal = customers[2]!;
    const before = (await notionStats()).byOperation;
    const { callId } = await sandbox.json<{ callId: string }>(`${sandbox.openphoneUrl}/_emulator/calls`, {
      method: "POST",
      body: JSON.stringify({ participant: cal.phone, direction: "incoming", status: "answered", durationSeconds: 40 }),
    });
    const page = await waitFor("the call's page", 120_000, async () => (await notionPages(sandbox, sandbox.sync.notion.calls.dataSourceId)).find((p) => plainText(p.properties["Call ID"]) === callId && p.properties["Duration"]?.number === 40));
    await new Promise((r) => setTimeout(r, 5000));
    const spent = spentSince(before, (await notionStats()).byOperation);
    console.log(`call from a customer: ${JSON.stringify(spent)} Notion requests`);
    expect(relationIds(page, "Canvas")).toEqual([canvasPageOf.get(cal.phone)]);
    expect(plainText(page.properties["Name"])).toContain(`${cal.firstName} ${cal.lastName}`);
    const customer = await canvasPage(canvasPageOf.get(cal.phone)!);
    expect(relationIds(customer, "Calls")).toEqual([page.id]);
    expect(relationIds(customer, "Messages")).toEqual([]);
    expect(spent["pages.create"]).toBe(1);
    expect(Object.values(spent).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2);
  }, 180_000);
});

describe("npm run setup, again", () => {
  it("finds the databases it made under the parent page and reports nothing to change", async () => {
    const rootPageId = sandbox.sync.workspace.rootPageId;
    const canvasId = sandbox.sync.workspace.canvas!.databaseId;
    const before = (await notionStats()).byOperation;
    const output = await runSetup(["--parent", rootPageId, "--canvas", canvasId]);
    console.log(`setup run again: ${JSON.stringify(spentSince(before, (await notionStats()).byOperation))} Notion requests`);
    expect(output).toContain(`= Calls database ${sandbox.sync.notion.calls.databaseId} (found under the parent page): every property is present`);
    expect(output).toContain(`= Messages database ${sandbox.sync.notion.messages.databaseId} (found under the parent page): every property is present`);
    expect(output).toContain("nothing to change");
    expect(output).not.toContain("The Canvas database (yours) would change");
    const children = await sandbox.json<{ results: { type: string; child_database?: { title: string } }[] }>(`${sandbox.notionUrl}/v1/blocks/${rootPageId}/children`, {
      headers: { Authorization: `Bearer ${E2E_NOTION_TOKEN}`, "Notion-Version": "2025-09-03" },
    });
    const titles = children.results.filter((c) => c.type === "child_database").map((c) => c.child_database?.title);
    expect(titles.filter((t) => t === "Calls")).toHaveLength(1);
    expect(titles.filter((t) => t === "Messages")).toHaveLength(1);
  }, 240_000);

  it("run twice under a new page, creates one pair and then changes nothing", async () => {
    const parent = await sandbox.json<{ id: string }>(`${sandbox.notionUrl}/v1/pages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${E2E_NOTION_TOKEN}`, "Notion-Version": "2025-09-03" },
      body: JSON.stringify({ parent: { page_id: sandbox.sync.workspace.rootPageId }, properties: { title: { title: [{ text: { content: "Second team" } }] } } }),
    });
    const first = await runSetup(["--parent", parent.id, "--no-backlinks"]);
    expect(first).toContain("+ created the Calls database");
    expect(first).toContain("+ created the Messages database");
    const second = await runSetup(["--parent", parent.id, "--no-backlinks"]);
    expect(second).toContain("nothing to change");
    expect(second).not.toContain("+ created");
    const children = await sandbox.json<{ results: { type: string }[] }>(`${sandbox.notionUrl}/v1/blocks/${parent.id}/children`, {
      headers: { Authorization: `Bearer ${E2E_NOTION_TOKEN}`, "Notion-Version": "2025-09-03" },
    });
    expect(children.results.filter((c) => c.type === "child_database")).toHaveLength(2);
  }, 240_000);
});

describe("dead letters", () => {
  it("show a call whose events all failed once, with its events, the reason and one replay that completes it", async () => {
    const dataSource = sandbox.sync.notion.calls.dataSourceId;
    const rename = (from: string, to: string) => sandbox.renameProperty(dataSource, from, to);
    await rename("Line", "Phone line");
    const { callId } = await sandbox.json<{ callId: string }>(`${sandbox.openphoneUrl}/_emulator/calls`, {
      method: "POST",
      body: JSON.stringify({ participant: customers[3]!.phone, direction: "incoming", status: "answered", durationSeconds: 60, recording: { segments: 1 }, transcript: { chars: 400 }, summary: true }),
    });
    type Item = { item: string; resourceId: string; kind: string; reason: string; property: string | null; events: { eventType: string }[] };
    const mine = await waitFor("the call among the dead letters, with its later events", 180_000, async () => {
      const open = await sandbox.admin<{ items: Item[] }>("/admin/dead-letters");
      const items = open.items.filter((i) => i.resourceId === callId);
      return items.length === 1 && items[0]!.events.length >= 3 ? items : undefined;
    });
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ item: callId, kind: "call", property: "Line" });
    const types = mine[0]!.events.map((e) => e.eventType);
    expect(new Set(types).size).toBe(types.length);
    expect(types).toContain("call.completed");

    console.log(`call failing on a renamed property: 1 dead-letter entry with ${types.length} events (${types.join(", ")})`);
    await rename("Phone line", "Line");
    const beforeReplay = (await notionStats()).byOperation;
    const replay = await sandbox.admin<{ replayed: number }>("/admin/dead-letters/replay", { method: "POST", body: JSON.stringify({ items: [callId] }) });
    expect(replay.replayed).toBe(types.length);
    const page = await waitFor("the replayed call's page", 180_000, async () => (await notionPages(sandbox, dataSource)).find((p) => plainText(p.properties["Call ID"]) === callId));
    const complete = await waitFor("the replayed call's summary", 120_000, async () => {
      const now = (await notionPages(sandbox, dataSource)).find((p) => p.id === page.id);
      return now && plainText(now.properties["Summary"]).length > 0 ? now : undefined;
    });
    expect((await notionPages(sandbox, dataSource)).filter((p) => plainText(p.properties["Call ID"]) === callId)).toHaveLength(1);
    expect(plainText(complete.properties["Line"]).length).toBeGreaterThan(0);
    console.log(`replay of that call until its page is complete: ${JSON.stringify(spentSince(beforeReplay, (await notionStats()).byOperation))} Notion requests`);
    expect(relationIds(page, "Canvas")).toEqual([canvasPageOf.get(customers[3]!.phone)]);
    const after = await sandbox.admin<{ items: Item[] }>("/admin/dead-letters");
    expect(after.items.filter((i) => i.resourceId === callId)).toEqual([]);
  }, 420_000);
});
