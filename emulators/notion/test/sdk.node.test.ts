/**
 * The official @notionhq/client against the emulator, only `baseUrl` changed: databases with data sources, pages with
 * every property type and content, two-way relations, every filter type, a 100-way `or`, and paging.
 */
import { collectPaginatedAPI, type Client, type PageObjectResponse } from "@notionhq/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NotionEmulator } from "../server.ts";
import { control, sdk, startForTest, text } from "./harness.ts";

let emulator: NotionEmulator;
let notion: Client;
let customers: { databaseId: string; dataSourceId: string };
let calls: { databaseId: string; dataSourceId: string };
let customerId: string;
let fullPage: PageObjectResponse;

const AUDIO_URL = "https://media.example.com/recordings/2026/01/05/call.mp3";

beforeAll(async () => {
  emulator = await startForTest();
  notion = sdk(emulator);
});
afterAll(() => emulator?.close());

function titleOf(page: PageObjectResponse): string {
  const title = Object.values(page.properties).find((p) => p.type === "title");
  return title?.type === "title" ? title.title.map((t) => t.plain_text).join("") : "";
}

describe("databases and data sources", () => {
  it("creates a database under the root page and reads its data source schema", async () => {
    const db = await notion.databases.create({
      parent: { type: "page_id", page_id: emulator.rootPageId },
      title: text("Customers"),
      initial_data_source: { properties: { Name: { title: {} }, Phone: { phone_number: {} }, Email: { email: {} } } },
    });
    expect(db.object).toBe("database");
    const full = await notion.databases.retrieve({ database_id: db.id });
    expect("data_sources" in full && full.data_sources).toHaveLength(1);
    if (!("data_sources" in full)) throw new Error("expected a full database");
    customers = { databaseId: db.id, dataSourceId: full.data_sources[0]!.id };
    const ds = await notion.dataSources.retrieve({ data_source_id: customers.dataSourceId });
    expect(Object.fromEntries(Object.entries(ds.properties).map(([name, p]) => [name, p.type]))).toEqual({ Name: "title", Phone: "phone_number", Email: "email" });
    expect("parent" in ds && ds.parent).toEqual({ type: "database_id", database_id: db.id });

    const root = await notion.blocks.children.list({ block_id: emulator.rootPageId });
    expect(root.results.map((b) => ("type" in b ? b.type : ""))).toContain("child_database");
  });

  it("creates a database with every property type, including a two-way relation", async () => {
    const db = await notion.databases.create({
      parent: { type: "page_id", page_id: emulator.rootPageId },
      title: text("Calls"),
      initial_data_source: {
        properties: {
          Title: { title: {} },
          Notes: { rich_text: {} },
          Duration: { number: { format: "number" } },
          Direction: { select: { options: [{ name: "incoming" }] } },
          Tags: { multi_select: {} },
          Status: { status: {} },
          Started: { date: {} },
          Owner: { people: {} },
          Recording: { files: {} },
          Answered: { checkbox: {} },
          Link: { url: {} },
          Email: { email: {} },
          Phone: { phone_number: {} },
          Customer: { relation: { data_source_id: customers.dataSourceId, type: "dual_property", dual_property: {} } },
          Created: { created_time: {} },
          Edited: { last_edited_time: {} },
          "Created by": { created_by: {} },
          "Edited by": { last_edited_by: {} },
        },
      },
    });
    const full = await notion.databases.retrieve({ database_id: db.id });
    if (!("data_sources" in full)) throw new Error("expected a full database");
    calls = { databaseId: db.id, dataSourceId: full.data_sources[0]!.id };
    const ds = await notion.dataSources.retrieve({ data_source_id: calls.dataSourceId });
    expect(Object.keys(ds.properties)).toHaveLength(18);
    const relation = ds.properties.Customer;
    expect(relation?.type === "relation" && relation.relation).toMatchObject({ data_source_id: customers.dataSourceId, type: "dual_property" });
    const mirror = await notion.dataSources.retrieve({ data_source_id: customers.dataSourceId });
    expect(mirror.properties["Related to Calls (Customer)"]?.type).toBe("relation");
  });
});

describe("pages", () => {
  it("creates a page with every writable property type and content blocks", async () => {
    const customer = await notion.pages.create({
      parent: { type: "data_source_id", data_source_id: customers.dataSourceId },
      properties: { Name: { title: text("Ana Díaz") }, Phone: { phone_number: "+14155550123" }, Email: { email: "ana@example.com" } },
    });
    customerId = customer.id;
    const owner = (await notion.users.list({})).results.find((u) => u.type === "person")!;
    const page = await notion.pages.create({
      parent: { type: "data_source_id", data_source_id: calls.dataSourceId },
      properties: {
        Title: { title: text("Call with Ana Díaz") },
        Notes: { rich_text: [{ text: { content: "Asked about " } }, { text: { content: "pricing", link: { url: "https://example.com/p" } }, annotations: { bold: true } }] },
        Duration: { number: 125 },
        Direction: { select: { name: "outgoing" } },
        Tags: { multi_select: [{ name: "sales" }, { name: "follow-up" }] },
        Status: { status: { name: "Done" } },
        Started: { date: { start: "2026-01-05T10:00:00.000Z", end: "2026-01-05T10:02:05.000Z" } },
        Owner: { people: [{ id: owner.id }] },
        Recording: { files: [{ name: "call.mp3", external: { url: AUDIO_URL } }] },
        Answered: { checkbox: true },
        Link: { url: "https://my.quo.com/calls/AC123" },
        Email: { email: "ana@example.com" },
        Phone: { phone_number: "+14155550123" },
        Customer: { relation: [{ id: customerId }] },
      },
      children: [
        { heading_2: { rich_text: text("Summary") } },
        { paragraph: { rich_text: text("Ana wants a quote.") } },
        { to_do: { rich_text: text("Send the quote"), checked: false } },
        { audio: { type: "external", external: { url: AUDIO_URL } } },
        { callout: { rich_text: text("Voicemail") } },
        { divider: {} },
        { quote: { rich_text: text("Can you call me back?") } },
        { bulleted_list_item: { rich_text: text("one") } },
        { toggle: { rich_text: text("Transcript"), children: [{ paragraph: { rich_text: text("Ana: Hello"), children: [{ paragraph: { rich_text: text("(00:01)") } }] } }] } },
      ],
    });
    const got = (await notion.pages.retrieve({ page_id: page.id })) as PageObjectResponse;
    fullPage = got;
    const p = got.properties;
    expect(got.parent).toEqual({ type: "data_source_id", data_source_id: calls.dataSourceId, database_id: calls.databaseId });
    expect(titleOf(got)).toBe("Call with Ana Díaz");
    expect(p.Notes?.type === "rich_text" && p.Notes.rich_text.map((t) => t.plain_text).join("")).toBe("Asked about pricing");
    expect(p.Notes?.type === "rich_text" && p.Notes.rich_text[1]?.href).toBe("https://example.com/p");
    expect(p.Duration).toMatchObject({ number: 125 });
    expect(p.Direction?.type === "select" && p.Direction.select?.name).toBe("outgoing");
    expect(p.Tags?.type === "multi_select" && p.Tags.multi_select.map((o) => o.name)).toEqual(["sales", "follow-up"]);
    expect(p.Status?.type === "status" && p.Status.status?.name).toBe("Done");
    expect(p.Started).toMatchObject({ date: { start: "2026-01-05T10:00:00.000Z", end: "2026-01-05T10:02:05.000Z" } });
    expect(p.Owner?.type === "people" && p.Owner.people.map((u) => u.id)).toEqual([owner.id]);
    expect(p.Recording).toMatchObject({ files: [{ name: "call.mp3", external: { url: AUDIO_URL } }] });
    expect(p.Answered).toMatchObject({ checkbox: true });
    expect(p.Link).toMatchObject({ url: "https://my.quo.com/calls/AC123" });
    expect(p.Phone).toMatchObject({ phone_number: "+14155550123" });
    expect(p.Customer).toMatchObject({ relation: [{ id: customerId }] });
    expect(p.Created?.type === "created_time" && p.Created.created_time).toBe(got.created_time);
    expect(p["Edited by"]).toMatchObject({ last_edited_by: { object: "user" } });

    // Options used for the first time now exist in the schema.
    const ds = await notion.dataSources.retrieve({ data_source_id: calls.dataSourceId });
    const direction = ds.properties.Direction;
    expect(direction?.type === "select" && direction.select.options.map((o) => o.name)).toEqual(["incoming", "outgoing"]);

    // The customer sees the call through the mirrored property.
    const customerPage = (await notion.pages.retrieve({ page_id: customerId })) as PageObjectResponse;
    expect(customerPage.properties["Related to Calls (Customer)"]).toMatchObject({ relation: [{ id: page.id }] });

    const blocks = await notion.blocks.children.list({ block_id: page.id });
    expect(blocks.results.map((b) => ("type" in b ? b.type : ""))).toEqual(["heading_2", "paragraph", "to_do", "audio", "callout", "divider", "quote", "bulleted_list_item", "toggle"]);
    const audio = blocks.results[3]!;
    expect("audio" in audio && audio.audio).toMatchObject({ type: "external", external: { url: AUDIO_URL } });
    const toggle = blocks.results[8]!;
    expect("has_children" in toggle && toggle.has_children).toBe(true);
    const inner = await notion.blocks.children.list({ block_id: toggle.id });
    expect(inner.results).toHaveLength(1);
  });

  it("updates only the properties sent, appends blocks, and trashes", async () => {
    const before = fullPage;
    const updated = (await notion.pages.update({ page_id: before.id, properties: { Duration: { number: 130 }, Customer: { relation: [] } } })) as PageObjectResponse;
    expect(updated.properties.Duration).toMatchObject({ number: 130 });
    expect(titleOf(updated)).toBe("Call with Ana Díaz");
    expect(updated.properties.Phone).toMatchObject({ phone_number: "+14155550123" });
    const customerPage = (await notion.pages.retrieve({ page_id: customerId })) as PageObjectResponse;
    expect(customerPage.properties["Related to Calls (Customer)"]).toMatchObject({ relation: [] });

    const appended = await notion.blocks.children.append({ block_id: before.id, children: [{ paragraph: { rich_text: text("Later note") } }] });
    expect(appended.results).toHaveLength(1);
    const block = appended.results[0]!;
    await notion.blocks.update({ block_id: block.id, paragraph: { rich_text: text("Edited note") } });
    const again = await notion.blocks.retrieve({ block_id: block.id });
    expect("paragraph" in again && again.paragraph.rich_text[0]?.plain_text).toBe("Edited note");
    await notion.blocks.delete({ block_id: block.id });
    const listed = await notion.blocks.children.list({ block_id: before.id });
    expect(listed.results.map((b) => b.id)).not.toContain(block.id);

    const trashed = await notion.pages.update({ page_id: before.id, in_trash: true });
    expect("in_trash" in trashed && trashed.in_trash).toBe(true);
    const query = await notion.dataSources.query({ data_source_id: calls.dataSourceId });
    expect(query.results.map((r) => r.id)).not.toContain(before.id);
    await notion.pages.update({ page_id: before.id, in_trash: false });
  });

  it("shows 25 related pages in a page object and the rest through the property item endpoint", async () => {
    const related: string[] = [];
    for (let i = 0; i < 30; i++) {
      related.push((await notion.pages.create({ parent: { data_source_id: customers.dataSourceId }, properties: { Name: { title: text(`Related ${i}`) } } })).id);
    }
    const call = await notion.pages.create({
      parent: { data_source_id: calls.dataSourceId },
      properties: { Title: { title: text("Many customers") }, Customer: { relation: related.map((id) => ({ id })) } },
    });
    const page = (await notion.pages.retrieve({ page_id: call.id })) as PageObjectResponse;
    const customer = page.properties.Customer;
    expect(customer?.type === "relation" && customer.relation).toHaveLength(25);
    expect(customer).toMatchObject({ has_more: true });
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const response = await notion.pages.properties.retrieve({ page_id: call.id, property_id: customer!.id, page_size: 10, start_cursor: cursor });
      if (response.object !== "list") throw new Error("expected a paginated property item list");
      for (const item of response.results) if (item.type === "relation") ids.push(item.relation.id);
      cursor = response.next_cursor ?? undefined;
    } while (cursor);
    expect(ids).toEqual(related);
  });

  it("has no idempotency: the same create twice makes two pages", async () => {
    const body = { parent: { type: "data_source_id" as const, data_source_id: customers.dataSourceId }, properties: { Name: { title: text("Twice") } } };
    const a = await notion.pages.create(body);
    const b = await notion.pages.create(body);
    expect(a.id).not.toBe(b.id);
    const found = await notion.dataSources.query({ data_source_id: customers.dataSourceId, filter: { property: "Name", title: { equals: "Twice" } } });
    expect(found.results).toHaveLength(2);
  });
});

describe("queries", () => {
  let people: { databaseId: string; dataSourceId: string };
  const phone = (i: number) => `+1415555${String(i).padStart(4, "0")}`;

  beforeAll(async () => {
    const db = await notion.databases.create({
      parent: { type: "page_id", page_id: emulator.rootPageId },
      title: text("People"),
      initial_data_source: {
        properties: {
          Name: { title: {} }, Notes: { rich_text: {} }, Phone: { phone_number: {} }, Email: { email: {} }, Score: { number: {} },
          VIP: { checkbox: {} }, Tier: { select: {} }, Since: { date: {} }, Account: { relation: { data_source_id: customers.dataSourceId, type: "single_property", single_property: {} } },
        },
      },
    });
    const full = await notion.databases.retrieve({ database_id: db.id });
    if (!("data_sources" in full)) throw new Error("expected a full database");
    people = { databaseId: db.id, dataSourceId: full.data_sources[0]!.id };
    for (let i = 0; i < 250; i++) {
      await notion.pages.create({
        parent: { type: "data_source_id", data_source_id: people.dataSourceId },
        properties: {
          Name: { title: text(`Person ${i}`) },
          Notes: { rich_text: text(i % 10 === 0 ? "Prefers Canvas email" : "") },
          Phone: { phone_number: phone(i) },
          Email: { email: `person${i}@example.com` },
          Score: { number: i },
          VIP: { checkbox: i % 50 === 0 },
          Tier: { select: { name: i % 2 === 0 ? "gold" : "silver" } },
          Since: { date: { start: `2025-${String((i % 12) + 1).padStart(2, "0")}-15` } },
          Account: { relation: i < 3 ? [{ id: customerId }] : [] },
        },
      });
    }
  }, 120_000);

  const query = async (filter: unknown, extra: Record<string, unknown> = {}) => {
    const response = await notion.dataSources.query({ data_source_id: people.dataSourceId, filter: filter as never, ...extra });
    return response.results.map((r) => titleOf(r as PageObjectResponse));
  };

  it("filters on each property type", async () => {
    expect(await query({ property: "Name", title: { equals: "Person 7" } })).toEqual(["Person 7"]);
    expect(await query({ property: "Notes", rich_text: { contains: "canvas" } })).toHaveLength(25);
    expect(await query({ property: "Phone", phone_number: { equals: phone(42) } })).toEqual(["Person 42"]);
    expect(await query({ property: "Email", email: { equals: "person9@example.com" } })).toEqual(["Person 9"]);
    expect(await query({ property: "Score", number: { greater_than_or_equal_to: 245 } })).toHaveLength(5);
    expect(await query({ property: "VIP", checkbox: { equals: true } })).toEqual(["Person 0", "Person 50", "Person 100", "Person 150", "Person 200"]);
    expect(await query({ and: [{ property: "Tier", select: { equals: "silver" } }, { property: "Score", number: { less_than: 6 } }] })).toEqual(["Person 1", "Person 3", "Person 5"]);
    expect(await query({ and: [{ property: "Since", date: { on_or_after: "2025-12-01" } }, { property: "Score", number: { less_than: 40 } }] })).toEqual(["Person 11", "Person 23", "Person 35"]);
    expect(await query({ property: "Account", relation: { contains: customerId } })).toEqual(["Person 0", "Person 1", "Person 2"]);
    expect(await query({ and: [{ property: "Account", relation: { is_empty: true } }, { property: "Score", number: { less_than: 5 } }] })).toEqual(["Person 3", "Person 4"]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await query({ timestamp: "last_edited_time", last_edited_time: { on_or_after: future } })).toEqual([]);
    expect(await query({ timestamp: "created_time", created_time: { before: future } }, { page_size: 10 })).toHaveLength(10);
    expect(await query({ property: "Score", number: { less_than: 3 } }, { sorts: [{ property: "Score", direction: "descending" }] })).toEqual(["Person 2", "Person 1", "Person 0"]);
  });

  it("answers an `or` of 100 phone numbers with the pages that match", async () => {
    const wanted = Array.from({ length: 100 }, (_, i) => phone(i * 2 + 1));
    const started = performance.now();
    const response = await notion.dataSources.query({
      data_source_id: people.dataSourceId,
      filter: { or: wanted.map((p) => ({ property: "Phone", phone_number: { equals: p } })) },
    });
    console.log(`or of 100 phone_number equals over 250 pages: ${(performance.now() - started).toFixed(1)} ms`);
    expect(response.results).toHaveLength(100);
    expect(response.has_more).toBe(false);
    const phones = response.results.map((r) => {
      const prop = (r as PageObjectResponse).properties.Phone;
      return prop?.type === "phone_number" ? prop.phone_number : null;
    });
    expect(new Set(phones)).toEqual(new Set(wanted));
  });

  it("pages through 250 results with cursors", async () => {
    const first = await notion.dataSources.query({ data_source_id: people.dataSourceId });
    expect(first.results).toHaveLength(100);
    expect(first.has_more).toBe(true);
    expect(first.next_cursor).toEqual(expect.any(String));
    const all = await collectPaginatedAPI(notion.dataSources.query, { data_source_id: people.dataSourceId, page_size: 100 });
    expect(all).toHaveLength(250);
    expect(new Set(all.map((p) => p.id)).size).toBe(250);
    const stats = await control(emulator, "GET", "stats");
    expect(stats.requests.byOperation["data_sources.query"]).toBeGreaterThanOrEqual(4);
  });

  it("searches pages and data sources by title", async () => {
    const found = await notion.search({ query: "person 24", filter: { property: "object", value: "page" } });
    expect(found.results.map((r) => titleOf(r as PageObjectResponse)).sort()).toEqual(["Person 24", "Person 240", "Person 241", "Person 242", "Person 243", "Person 244", "Person 245", "Person 246", "Person 247", "Person 248", "Person 249"]);
    const sources = await notion.search({ query: "People", filter: { property: "object", value: "data_source" } });
    expect(sources.results.map((r) => r.object)).toEqual(["data_source"]);
  });

  it("serves 2022-06-28: databases carry properties, the database query works, data source routes do not", async () => {
    const legacy = sdk(emulator, { notionVersion: "2022-06-28" });
    const db = (await legacy.request({ path: `databases/${people.databaseId}`, method: "get" })) as Record<string, any>;
    expect(Object.keys(db.properties)).toContain("Phone");
    const result = (await legacy.request({ path: `databases/${people.databaseId}/query`, method: "post", body: { filter: { property: "Score", number: { equals: 3 } } } })) as Record<string, any>;
    expect(result.results.map((p: any) => p.parent)).toEqual([{ type: "database_id", database_id: people.databaseId }]);
    await expect(legacy.dataSources.retrieve({ data_source_id: people.dataSourceId })).rejects.toMatchObject({ status: 400, code: "invalid_request_url" });
    await expect(notion.request({ path: `databases/${people.databaseId}/query`, method: "post", body: {} })).rejects.toMatchObject({ status: 400, code: "invalid_request_url" });
  });
});
