/**
 * What the real API refuses, the emulator refuses: same status, same code, and a message in Notion's words that
 * names the path at fault. A refused write leaves nothing behind.
 */
import { type Client } from "@notionhq/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NotionEmulator } from "../server.ts";
import { control, rawCall, sdk, startForTest, text } from "./harness.ts";

let emulator: NotionEmulator;
let notion: Client;
let dataSourceId: string;
let pageId: string;

beforeAll(async () => {
  emulator = await startForTest();
  notion = sdk(emulator, { retry: false });
  const db = await notion.databases.create({
    parent: { type: "page_id", page_id: emulator.rootPageId },
    title: text("Calls"),
    initial_data_source: { properties: { Name: { title: {} }, Notes: { rich_text: {} }, Phone: { phone_number: {} }, Email: { email: {} }, Site: { url: {} }, Tags: { multi_select: {} } } },
  });
  const full = await notion.databases.retrieve({ database_id: db.id });
  if (!("data_sources" in full)) throw new Error("expected a full database");
  dataSourceId = full.data_sources[0]!.id;
  pageId = (await notion.pages.create({ parent: { data_source_id: dataSourceId }, properties: { Name: { title: text("Existing") } } })).id;
});
afterAll(() => emulator?.close());

/** Sends a body through the SDK's generic request so invalid shapes reach the server. */
const send = (path: string, method: "post" | "patch", body: Record<string, unknown>) => notion.request({ path, method, body });
const createWith = (properties: Record<string, unknown>) => send("pages", "post", { parent: { data_source_id: dataSourceId }, properties });

function refusal(status: number, code: string, message: string | RegExp) {
  return { status, code, message: typeof message === "string" ? expect.stringContaining(message) : expect.stringMatching(message) };
}

async function pageCount(): Promise<number> {
  const dump = await control(emulator, "GET", "dump");
  return dump.pages.length;
}

describe("headers and ids", () => {
  it("needs Notion-Version: 400 missing_version", async () => {
    const response = await rawCall(emulator, "GET", "/v1/users/me", { headers: { "notion-version": "" } });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ object: "error", code: "missing_version", message: expect.stringContaining("Notion-Version") });
    expect(response.headers.get("x-notion-request-id")).toEqual(expect.any(String));
  });

  it("needs the right token: 401 unauthorized", async () => {
    await expect(sdk(emulator, { auth: "wrong-token" }).users.me({})).rejects.toMatchObject(refusal(401, "unauthorized", "API token is invalid."));
  });

  it("answers 404 object_not_found for ids it cannot see, 400 for ids that are not ids", async () => {
    const unknown = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f";
    await expect(notion.pages.retrieve({ page_id: unknown })).rejects.toMatchObject(refusal(404, "object_not_found", `Could not find page with ID: ${unknown}`));
    await expect(notion.dataSources.query({ data_source_id: unknown })).rejects.toMatchObject(refusal(404, "object_not_found", "data_source"));
    await expect(notion.blocks.children.list({ block_id: unknown })).rejects.toMatchObject(refusal(404, "object_not_found", "block"));
    await expect(notion.pages.retrieve({ page_id: "not-an-id" })).rejects.toMatchObject(refusal(400, "validation_error", "path.page_id should be a valid uuid"));
  });

  it("accepts ids without dashes", async () => {
    const page = await notion.pages.retrieve({ page_id: pageId.replace(/-/g, "") });
    expect(page.id).toBe(pageId);
  });

  it("refuses data source routes under 2022-06-28 and unknown URLs with invalid_request_url", async () => {
    const legacy = sdk(emulator, { notionVersion: "2022-06-28", retry: false });
    await expect(legacy.dataSources.query({ data_source_id: dataSourceId })).rejects.toMatchObject(refusal(400, "invalid_request_url", "Invalid request URL."));
    const response = await rawCall(emulator, "GET", "/v1/nothing-here");
    expect(response.json).toMatchObject({ status: 400, code: "invalid_request_url" });
  });

  it("refuses a body that is not JSON with invalid_json", async () => {
    const response = await rawCall(emulator, "POST", "/v1/pages", { body: "{not json" });
    expect(response.json).toMatchObject({ status: 400, code: "invalid_json" });
  });
});

describe("page properties", () => {
  it("refuses unknown property names and values of the wrong type, and writes nothing", async () => {
    const before = await pageCount();
    await expect(createWith({ Name: { title: text("x") }, Colour: { rich_text: text("red") } })).rejects.toMatchObject(refusal(400, "validation_error", "Colour is not a property that exists."));
    await expect(createWith({ Phone: { rich_text: text("+14155550123") } })).rejects.toMatchObject(refusal(400, "validation_error", "Phone is expected to be phone_number."));
    await expect(createWith({ Phone: { phone_number: 4155550123 } })).rejects.toMatchObject(refusal(400, "validation_error", "body.properties.Phone.phone_number should be a string"));
    expect(await pageCount()).toBe(before);
  });

  it("refuses rich text over 2000 characters per item and over 100 items", async () => {
    await expect(createWith({ Notes: { rich_text: text("a".repeat(2001)) } })).rejects.toMatchObject(
      refusal(400, "validation_error", "body failed validation: body.properties.Notes.rich_text[0].text.content.length should be ≤ `2000`, instead was `2001`."),
    );
    const many = Array.from({ length: 101 }, () => ({ text: { content: "x" } }));
    await expect(createWith({ Notes: { rich_text: many } })).rejects.toMatchObject(refusal(400, "validation_error", "body.properties.Notes.rich_text.length should be ≤ `100`, instead was `101`."));
    const tags = Array.from({ length: 101 }, (_, i) => ({ name: `t${i}` }));
    await expect(createWith({ Tags: { multi_select: tags } })).rejects.toMatchObject(refusal(400, "validation_error", "body.properties.Tags.multi_select.length should be ≤ `100`"));
    // 2000 exactly is fine.
    await expect(createWith({ Notes: { rich_text: text("a".repeat(2000)) } })).resolves.toMatchObject({ object: "page" });
  });

  it("refuses URLs over 2000, emails and phone numbers over 200 characters", async () => {
    await expect(createWith({ Site: { url: `https://example.com/${"a".repeat(1990)}` } })).rejects.toMatchObject(refusal(400, "validation_error", "body.properties.Site.url.length should be ≤ `2000`, instead was `2010`."));
    await expect(createWith({ Email: { email: `${"a".repeat(190)}@example.com` } })).rejects.toMatchObject(refusal(400, "validation_error", "body.properties.Email.email.length should be ≤ `200`, instead was `202`."));
    await expect(createWith({ Phone: { phone_number: "1".repeat(201) } })).rejects.toMatchObject(refusal(400, "validation_error", "body.properties.Phone.phone_number.length should be ≤ `200`, instead was `201`."));
  });

  it("refuses select option names with commas", async () => {
    await expect(createWith({ Tags: { multi_select: [{ name: "a,b" }] } })).rejects.toMatchObject(refusal(400, "validation_error", "body.properties.Tags.multi_select[0].name should not contain commas"));
  });
});

describe("content blocks", () => {
  const paragraph = (content: string) => ({ paragraph: { rich_text: text(content) } });

  it("refuses more than 100 blocks per append", async () => {
    const children = Array.from({ length: 101 }, (_, i) => paragraph(`p${i}`));
    await expect(send(`blocks/${pageId}/children`, "patch", { children })).rejects.toMatchObject(refusal(400, "validation_error", "body.children.length should be ≤ `100`, instead was `101`."));
    const listed = await notion.blocks.children.list({ block_id: pageId });
    expect(listed.results).toHaveLength(0);
  });

  it("refuses a page create with more than 100 children, and creates nothing", async () => {
    const children = Array.from({ length: 101 }, (_, i) => paragraph(`p${i}`));
    const before = (await notion.dataSources.query({ data_source_id: dataSourceId })).results.length;
    await expect(send("pages", "post", { parent: { data_source_id: dataSourceId }, properties: {}, children })).rejects.toMatchObject(refusal(400, "validation_error", "body.children.length should be ≤ `100`, instead was `101`."));
    expect((await notion.dataSources.query({ data_source_id: dataSourceId })).results.length).toBe(before);
  });

  it("refuses nesting deeper than two levels below the top", async () => {
    const deep = { toggle: { rich_text: text("1"), children: [{ toggle: { rich_text: text("2"), children: [{ toggle: { rich_text: text("3"), children: [paragraph("4")] } }] } }] } };
    await expect(send(`blocks/${pageId}/children`, "patch", { children: [deep] })).rejects.toMatchObject(
      refusal(400, "validation_error", "body failed validation: body.children[0].toggle.children[0].toggle.children[0].toggle.children should be not present"),
    );
  });

  it("refuses more than 1000 block elements in one payload", async () => {
    const wide = Array.from({ length: 11 }, () => ({ toggle: { rich_text: text("t"), children: Array.from({ length: 100 }, () => paragraph("x")) } }));
    await expect(send(`blocks/${pageId}/children`, "patch", { children: wide })).rejects.toMatchObject(refusal(400, "validation_error", "body.children should hold at most `1000` block elements"));
  });

  it("refuses payloads over 500 KB", async () => {
    const children = Array.from({ length: 100 }, () => ({ paragraph: { rich_text: Array.from({ length: 3 }, () => ({ text: { content: "x".repeat(1900) } })) } }));
    const body = JSON.stringify({ children });
    expect(body.length).toBeGreaterThan(500_000);
    const response = await rawCall(emulator, "PATCH", `/v1/blocks/${pageId}/children`, { body });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ code: "validation_error", message: expect.stringContaining("body.length should be ≤ `500000`") });
  });
});

describe("queries", () => {
  const query = (body: Record<string, unknown>) => send(`data_sources/${dataSourceId}/query`, "post", body);

  it("refuses a filter on a property of another type", async () => {
    await expect(query({ filter: { property: "Phone", rich_text: { equals: "+14155550123" } } })).rejects.toMatchObject(
      refusal(400, "validation_error", 'body.filter.rich_text does not match the type of property "Phone", which is `phone_number`'),
    );
    await expect(query({ filter: { property: "Nope", rich_text: { equals: "x" } } })).rejects.toMatchObject(refusal(400, "validation_error", "Could not find property with name or id: Nope"));
  });

  it("refuses compound filters wider than 100 or deeper than two levels", async () => {
    const wide = Array.from({ length: 101 }, (_, i) => ({ property: "Phone", phone_number: { equals: `+1415555${String(i).padStart(4, "0")}` } }));
    await expect(query({ filter: { or: wide } })).rejects.toMatchObject(refusal(400, "validation_error", "body failed validation: body.filter.or.length should be ≤ `100`, instead was `101`."));
    const leaf = { property: "Name", title: { equals: "x" } };
    await expect(query({ filter: { or: [{ and: [{ or: [leaf] }] }] } })).rejects.toMatchObject(refusal(400, "validation_error", "body.filter.or[0].and[0].or should be not present"));
    await expect(query({ filter: { or: [{ and: [leaf] }] } })).resolves.toMatchObject({ object: "list" });
  });

  it("refuses page_size over 100", async () => {
    await expect(query({ page_size: 101 })).rejects.toMatchObject(refusal(400, "validation_error", "body.page_size should be ≤ `100`, instead was `101`."));
  });
});
