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

async function schemaOf(dataSourceId: string): Promise<Record<string, { type: string; relation?: { data_source_id: string } }>> {
  const response = await fetch(`${notion.url}/v1/data_sources/${dataSourceId}`, { headers: { Authorization: `Bearer ${TOKEN}`, "Notion-Version": "2025-09-03" } });
  return ((await response.json()) as { properties: Record<string, { type: string; relation?: { data_source_id: string } }> }).properties;
}

describe("setup", () => {
  it("creates the Calls and Messages databases with every property and the Canvas relation, then finds nothing to add", async () => {
    const canvas = notion.demo!.canvas;
    const created = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, parentPageId: notion.rootPageId, canvasDatabaseId: canvas.databaseId });
    expect(created.calls.created).toBe(true);
    const calls = await schemaOf(created.calls.dataSourceId);
    for (const spec of CALL_PROPERTIES) expect(calls[spec.name]?.type, spec.name).toBe(spec.type);
    expect(calls["Canvas"]?.relation?.data_source_id).toBe(canvas.dataSourceId);
    const messages = await schemaOf(created.messages.dataSourceId);
    for (const spec of MESSAGE_PROPERTIES) expect(messages[spec.name]?.type, spec.name).toBe(spec.type);

    const again = await setupNotionDatabases({ token: TOKEN, baseUrl: notion.url, callsDatabaseId: created.calls.databaseId, messagesDatabaseId: created.messages.databaseId, canvasDatabaseId: canvas.databaseId });
    expect(again.calls).toMatchObject({ created: false, added: [], mismatched: [] });
    expect(describeNotionSetup(again)).toContain(`= Calls database ${created.calls.databaseId}: every property is present`);
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
