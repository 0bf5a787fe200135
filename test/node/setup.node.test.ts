import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNotionEmulator } from "../../emulators/notion/server.ts";
import { describeNotionSetup, setupNotionDatabases } from "../../scripts/lib/setup.ts";
import { CALL_PROPERTIES, MESSAGE_PROPERTIES } from "../../src/notion/schema.ts";

const TOKEN = "setup-test-token";
let notion: Awaited<ReturnType<typeof startNotionEmulator>>;

beforeAll(async () => {
  notion = await startNotionEmulator({ port: 0, token: TOKEN, demoData: true, config: { rateLimit: { perSecond: 1000, burst: 1000 } } });
});
afterAll(() => notion?.close());

interface SchemaEntry {
  id: string;
  type: string;
  relation?: { data_source_id: string; type: string; dual_property?: { synced_property_id: string; synced_property_name: string } };
}

async function schemaOf(dataSourceId: string): Promise<Record<string, SchemaEntry>> {
  const response = await fetch(`${notion.url}/v1/data_sources/${dataSourceId}`, { headers: { Authorization: `Bearer ${TOKEN}`, "Notion-Version": "2025-09-03" } });
  return ((await response.json()) as { properties: Record<string, SchemaEntry> }).properties;
}

async function notionApi(method: string, pathname: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${notion.url}/v1/${pathname}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, "Notion-Version": "2025-09-03", "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** A page of its own under the root, so each test sees only the databases it made. */
async function freshParent(title: string): Promise<string> {
  const page = await notionApi("POST", "pages", { parent: { page_id: notion.rootPageId }, properties: { title: { title: [{ text: { content: title } }] } } });
  return page.id as string;
}

/** A Canvas database of its own (the demo one is shared with the other tests), with one customer page. */
async function freshCanvas(parent: string, extra: Record<string, unknown> = {}): Promise<{ databaseId: string; dataSourceId: string; customerId: string }> {
  const db = await notionApi("POST", "databases", { parent: { type: "page_id", page_id: parent }, title: [{ text: { content: "Customers" } }], initial_data_source: { properties: { Name: { title: {} }, Phone: { phone_number: {} }, ...extra } } });
  const dataSourceId = (db.data_sources as { id: string }[])[0]!.id;
  const customer = await notionApi("POST", "pages", { parent: { data_source_id: dataSourceId }, properties: { Name: { title: [{ text: { content: "Ada Petrov" } }] } } });
  return { databaseId: db.id as string, dataSourceId, customerId: customer.id as string };
}

describe("setup", () => {
  it("creates the Calls and Messages databases with every property and the Canvas relation, then finds nothing to add", async () => {
    const canvas = notion.demo!.canvas;
    const created = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, parentPageId: notion.rootPageId, canvasDatabaseId: canvas.databaseId });
    expect(created.calls.created).toBe(true);
    const calls = await schemaOf(created.calls.dataSourceId);
    for (const spec of CALL_PROPERTIES) expect(calls[spec.name]?.type, spec.name).toBe(spec.type);
    expect(calls["Canvas"]?.relation?.data_source_id).toBe(canvas.dataSourceId);
    expect(calls["Canvas"]?.relation).toMatchObject({ type: "dual_property", dual_property: { synced_property_name: "Calls" } });
    const messages = await schemaOf(created.messages.dataSourceId);
    for (const spec of MESSAGE_PROPERTIES) expect(messages[spec.name]?.type, spec.name).toBe(spec.type);

    const again = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, callsDatabaseId: created.calls.databaseId, messagesDatabaseId: created.messages.databaseId, canvasDatabaseId: canvas.databaseId });
    expect(again.calls).toMatchObject({ created: false, added: [], mismatched: [] });
    expect(describeNotionSetup(again)).toContain(`= Calls database ${created.calls.databaseId}: every property is present`);
    expect(describeNotionSetup(again)).toContain("nothing to change");
  });

  it("run twice under one parent page, finds the databases it made and reports nothing to change", async () => {
    const parent = await freshParent("Sync twice");
    const canvas = await freshCanvas(parent);
    const offered: string[][] = [];
    const confirm = async (changes: { backlink: string }[]) => (offered.push(changes.map((c) => c.backlink)), true);
    const first = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, parentPageId: parent, canvasDatabaseId: canvas.databaseId, confirmCanvasChange: confirm });
    const second = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, parentPageId: parent, canvasDatabaseId: canvas.databaseId, confirmCanvasChange: confirm });
    expect(offered).toEqual([["Calls", "Messages"]]);
    expect(second.calls).toMatchObject({ databaseId: first.calls.databaseId, created: false, found: true, added: [] });
    expect(second.messages).toMatchObject({ databaseId: first.messages.databaseId, created: false, found: true, added: [] });
    expect(describeNotionSetup(second).at(-1)).toBe("nothing to change");
    const children = (await notionApi("GET", `blocks/${parent}/children`)).results as { type: string; child_database?: { title: string } }[];
    expect(children.filter((c) => c.type === "child_database").map((c) => c.child_database?.title).sort()).toEqual(["Calls", "Customers", "Messages"]);

    // The Canvas page shows the calls and texts linked to it, in the columns Notion keeps.
    const call = await notionApi("POST", "pages", { parent: { data_source_id: first.calls.dataSourceId }, properties: { Name: { title: [{ text: { content: "Call" } }] }, Canvas: { relation: [{ id: canvas.customerId }] } } });
    const customer = await notionApi("GET", `pages/${canvas.customerId}`);
    const props = customer.properties as Record<string, { type: string; relation?: { id: string }[] }>;
    expect(props["Calls"]).toMatchObject({ type: "relation", relation: [{ id: call.id }] });
    expect(props["Messages"]).toMatchObject({ type: "relation", relation: [] });
  });

  it("with back-links off leaves the Canvas schema as it is", async () => {
    const parent = await freshParent("No back-links");
    const canvas = await freshCanvas(parent);
    const before = Object.keys(await schemaOf(canvas.dataSourceId)).sort();
    const result = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, parentPageId: parent, canvasDatabaseId: canvas.databaseId, backlinks: false, confirmCanvasChange: async () => { throw new Error("not asked when back-links are off"); } });
    expect(Object.keys(await schemaOf(canvas.dataSourceId)).sort()).toEqual(before);
    expect((await schemaOf(result.calls.dataSourceId))["Canvas"]?.relation?.type).toBe("single_property");
    expect(describeNotionSetup(result)).toContain("= Canvas: back-links off (--no-backlinks); the Canvas schema was not touched");
  });

  it("offers existing one-way relations the change, makes it when accepted, and the links already made show on the Canvas", async () => {
    const parent = await freshParent("Upgrade");
    const canvas = await freshCanvas(parent);
    const oneWay = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, parentPageId: parent, canvasDatabaseId: canvas.databaseId, backlinks: false });
    const text = await notionApi("POST", "pages", { parent: { data_source_id: oneWay.messages.dataSourceId }, properties: { Name: { title: [{ text: { content: "Hi" } }] }, Canvas: { relation: [{ id: canvas.customerId }] } } });

    const declined = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, parentPageId: parent, canvasDatabaseId: canvas.databaseId, confirmCanvasChange: async () => false });
    expect(declined.canvasDeclined.map((c) => c.backlink)).toEqual(["Calls", "Messages"]);
    expect(Object.keys(await schemaOf(canvas.dataSourceId))).not.toContain("Messages");

    const upgraded = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, parentPageId: parent, canvasDatabaseId: canvas.databaseId, confirmCanvasChange: async () => true });
    expect(upgraded.canvasChanges.map((c) => [c.backlink, c.upgrade])).toEqual([["Calls", true], ["Messages", true]]);
    expect(describeNotionSetup(upgraded)).toContain(`~ Canvas: made Messages.Canvas two-way; Canvas pages now show "Messages"`);
    const customer = await notionApi("GET", `pages/${canvas.customerId}`);
    expect((customer.properties as Record<string, unknown>)["Messages"]).toMatchObject({ type: "relation", relation: [{ id: text.id }] });
    const again = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, parentPageId: parent, canvasDatabaseId: canvas.databaseId, confirmCanvasChange: async () => { throw new Error("nothing left to offer"); } });
    expect(describeNotionSetup(again).at(-1)).toBe("nothing to change");
  });

  it("does not take a Canvas property's name: the relation stays one-way and setup says why", async () => {
    const parent = await freshParent("Taken name");
    const canvas = await freshCanvas(parent, { Calls: { number: {} } });
    const result = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, parentPageId: parent, canvasDatabaseId: canvas.databaseId });
    expect((await schemaOf(result.calls.dataSourceId))["Canvas"]?.relation?.type).toBe("single_property");
    expect((await schemaOf(result.messages.dataSourceId))["Canvas"]?.relation?.type).toBe("dual_property");
    expect(result.canvasBlocked[0]).toContain(`the Canvas database already has a property "Calls" (number)`);
  });

  it("adds what an existing database lacks, under the names the property map gives, and reports type clashes", async () => {
    const response = await fetch(`${notion.url}/v1/databases`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Notion-Version": "2025-09-03", "Content-Type": "application/json" },
      body: JSON.stringify({ parent: { type: "page_id", page_id: notion.rootPageId }, title: [{ type: "text", text: { content: "Our calls" } }], initial_data_source: { properties: { Title: { title: {} }, Duration: { rich_text: {} } } } }),
    });
    const existing = (await response.json()) as { id: string };
    const result = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, callsDatabaseId: existing.id, parentPageId: notion.rootPageId, propertyMap: { "Calls.Name": "Title", "Calls.Status": "Call status" } });
    expect(result.calls.added).toContain("Call status");
    expect(result.calls.added).not.toContain("Name");
    expect(result.calls.mismatched).toEqual(["Duration: expected number, found rich_text"]);
    const schema = await schemaOf(result.calls.dataSourceId);
    expect(schema["Call status"]?.type).toBe("select");
    expect(schema["Call ID"]?.type).toBe("rich_text");
  });
});
