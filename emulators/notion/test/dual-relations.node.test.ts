/**
 * Two-way relations through the official SDK: the synced property named as asked, filled when a one-way relation
 * turns two-way, removed when it turns back, and a name the other side already has refused.
 */
import type { Client } from "@notionhq/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NotionEmulator } from "../server.ts";
import { sdk, startForTest, text } from "./harness.ts";

let emulator: NotionEmulator;
let notion: Client;

beforeAll(async () => {
  emulator = await startForTest();
  notion = sdk(emulator);
});
afterAll(() => emulator?.close());

async function dataSourceOf(databaseId: string): Promise<string> {
  const db = await notion.databases.retrieve({ database_id: databaseId });
  if (!("data_sources" in db)) throw new Error("expected a full database");
  return db.data_sources[0]!.id;
}

async function database(title: string, properties: Record<string, unknown>): Promise<string> {
  const db = await notion.databases.create({ parent: { type: "page_id", page_id: emulator.rootPageId }, title: text(title), initial_data_source: { properties } } as never);
  return dataSourceOf(db.id);
}

const relationOf = async (dataSourceId: string, name: string) => {
  const property = (await notion.dataSources.retrieve({ data_source_id: dataSourceId })).properties[name];
  return property?.type === "relation" ? property.relation : undefined;
};

describe("two-way relations", () => {
  it("names the synced property as asked and keeps it in step with the pages", async () => {
    const customers = await database("Customers", { Name: { title: {} } });
    const calls = await database("Calls", { Name: { title: {} }, Customer: { relation: { data_source_id: customers, dual_property: { synced_property_name: "Calls" } } } });
    const relation = await relationOf(calls, "Customer");
    const mirror = await relationOf(customers, "Calls");
    expect(relation).toMatchObject({ type: "dual_property", dual_property: { synced_property_name: "Calls" } });
    expect(mirror).toMatchObject({ data_source_id: calls, type: "dual_property", dual_property: { synced_property_name: "Customer" } });

    const ada = await notion.pages.create({ parent: { type: "data_source_id", data_source_id: customers }, properties: { Name: { title: text("Ada") } } });
    const call = await notion.pages.create({ parent: { type: "data_source_id", data_source_id: calls }, properties: { Name: { title: text("Call") }, Customer: { relation: [{ id: ada.id }] } } });
    const seen = await notion.pages.retrieve({ page_id: ada.id });
    expect("properties" in seen && seen.properties.Calls).toMatchObject({ type: "relation", relation: [{ id: call.id }] });
  });

  it("fills the synced property when a one-way relation turns two-way, and removes it when it turns back", async () => {
    const customers = await database("Customers 2", { Name: { title: {} } });
    const texts = await database("Texts", { Name: { title: {} }, Customer: { relation: { data_source_id: customers, single_property: {} } } });
    const ben = await notion.pages.create({ parent: { type: "data_source_id", data_source_id: customers }, properties: { Name: { title: text("Ben") } } });
    const hello = await notion.pages.create({ parent: { type: "data_source_id", data_source_id: texts }, properties: { Name: { title: text("Hello") }, Customer: { relation: [{ id: ben.id }] } } });

    await notion.dataSources.update({ data_source_id: texts, properties: { Customer: { relation: { data_source_id: customers, dual_property: { synced_property_name: "Messages" } } } } } as never);
    const seen = await notion.pages.retrieve({ page_id: ben.id });
    expect("properties" in seen && seen.properties.Messages).toMatchObject({ type: "relation", relation: [{ id: hello.id }] });
    // Asking again for the same two-way relation changes nothing: still one synced property.
    await notion.dataSources.update({ data_source_id: texts, properties: { Customer: { relation: { data_source_id: customers, dual_property: { synced_property_name: "Messages" } } } } } as never);
    const names = Object.keys((await notion.dataSources.retrieve({ data_source_id: customers })).properties);
    expect(names.filter((n) => n === "Messages" || n.startsWith("Related to"))).toEqual(["Messages"]);

    await notion.dataSources.update({ data_source_id: texts, properties: { Customer: { relation: { data_source_id: customers, single_property: {} } } } } as never);
    expect(Object.keys((await notion.dataSources.retrieve({ data_source_id: customers })).properties)).toEqual(["Name"]);
    expect(await relationOf(texts, "Customer")).toMatchObject({ type: "single_property" });
  });

  it("refuses a synced property name the other data source already has, and changes nothing", async () => {
    const customers = await database("Customers 3", { Name: { title: {} }, Calls: { number: {} } });
    const attempt = database("Calls 3", { Name: { title: {} }, Customer: { relation: { data_source_id: customers, dual_property: { synced_property_name: "Calls" } } } });
    await expect(attempt).rejects.toMatchObject({ status: 400, code: "validation_error" });
    const schema = (await notion.dataSources.retrieve({ data_source_id: customers })).properties;
    expect(Object.keys(schema)).toEqual(["Name", "Calls"]);
    expect(schema.Calls?.type).toBe("number");
  });
});
