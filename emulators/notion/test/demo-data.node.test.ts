/** The demo workspace the sandbox starts with: Canvas customers from the shared roster, Mail with empty relations. */
import type { PageObjectResponse } from "@notionhq/client";
import { collectPaginatedAPI } from "@notionhq/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateRoster, SANDBOX_ROSTER_SIZE, SANDBOX_SEED } from "../../shared/roster.ts";
import type { NotionEmulator } from "../server.ts";
import { control, sdk, startForTest } from "./harness.ts";

let emulator: NotionEmulator;

beforeAll(async () => {
  emulator = await startForTest({ demoData: true, seed: SANDBOX_SEED });
});
afterAll(() => emulator?.close());

function plain(page: PageObjectResponse, name: string): string {
  const property = page.properties[name];
  if (!property) return "";
  if (property.type === "title") return property.title.map((t) => t.plain_text).join("");
  if (property.type === "rich_text") return property.rich_text.map((t) => t.plain_text).join("");
  if (property.type === "phone_number") return property.phone_number ?? "";
  if (property.type === "email") return property.email ?? "";
  return "";
}

describe("demo data", () => {
  it("publishes the Canvas and Mail ids for the sandbox", async () => {
    const workspace = await control(emulator, "GET", "workspace");
    expect(workspace).toMatchObject({
      rootPageId: emulator.rootPageId,
      canvas: { databaseId: emulator.demo!.canvas.databaseId, dataSourceId: emulator.demo!.canvas.dataSourceId },
      mail: { databaseId: emulator.demo!.mail.databaseId, dataSourceId: emulator.demo!.mail.dataSourceId },
    });
  });

  it("holds a Canvas page for every roster person but every 7th, numbers typed in assorted formats", async () => {
    const notion = sdk(emulator);
    const pages = (await collectPaginatedAPI(notion.dataSources.query, { data_source_id: emulator.demo!.canvas.dataSourceId })) as PageObjectResponse[];
    const roster = generateRoster(SANDBOX_SEED, SANDBOX_ROSTER_SIZE);
    const expected = roster.filter((p) => p.index % 7 !== 6).map((p) => `${p.firstName} ${p.lastName}`);
    expect(pages.map((p) => plain(p, "Name")).sort()).toEqual([...expected].sort());

    const phones = pages.map((p) => plain(p, "Phone")).filter(Boolean);
    const texts = pages.map((p) => plain(p, "Other phones")).filter(Boolean);
    expect(phones.some((p) => /^\(\d{3}\) \d{3}-\d{4}$/.test(p))).toBe(true);
    expect(phones.some((p) => /^\d{3}\.\d{3}\.\d{4}$/.test(p))).toBe(true);
    expect(phones.some((p) => /^\+1 \d{3} \d{3} \d{4}$/.test(p))).toBe(true);
    expect(phones.some((p) => /^\d{3}-\d{3}-\d{4} x\d+$/.test(p))).toBe(true);
    expect([...phones, ...texts].some((p) => /^\+(?!1 )\d{1,3} /.test(p))).toBe(true);
    // Someone with two numbers in one text field.
    expect(texts.some((t) => (t.match(/\d{3}\D{0,3}\d{4}/g) ?? []).length >= 2)).toBe(true);
    expect(pages.every((p) => plain(p, "Email").toLowerCase().endsWith("@example.com"))).toBe(true);
    console.log(`demo Canvas: ${pages.length} pages, sample phones: ${phones.slice(0, 6).join(" | ")}`);
  });

  it("holds Mail pages with From/To addresses and an empty two-way Canvas relation", async () => {
    const notion = sdk(emulator);
    const mail = (await collectPaginatedAPI(notion.dataSources.query, { data_source_id: emulator.demo!.mail.dataSourceId })) as PageObjectResponse[];
    expect(mail.length).toBe(30);
    expect(mail.every((m) => m.properties.Canvas?.type === "relation" && m.properties.Canvas.relation.length === 0)).toBe(true);
    const roster = new Set(generateRoster(SANDBOX_SEED, SANDBOX_ROSTER_SIZE).map((p) => p.email));
    const addresses = mail.flatMap((m) => [plain(m, "From"), ...plain(m, "To").split(/,\s*/)]).map((a) => a.toLowerCase());
    expect(addresses.some((a) => roster.has(a))).toBe(true);
    expect(addresses.some((a) => !roster.has(a) && !a.startsWith("team@"))).toBe(true);
    const schema = await notion.dataSources.retrieve({ data_source_id: emulator.demo!.mail.dataSourceId });
    expect(schema.properties.Canvas).toMatchObject({ type: "relation", relation: { data_source_id: emulator.demo!.canvas.dataSourceId, type: "dual_property" } });
    const canvas = await notion.dataSources.retrieve({ data_source_id: emulator.demo!.canvas.dataSourceId });
    expect(canvas.properties.Mail?.type).toBe("relation");
  });

  it("is the same workspace, ids included, for the same seed", async () => {
    const twin = await startForTest({ demoData: true, seed: SANDBOX_SEED });
    try {
      const strip = (dump: Record<string, any>) => JSON.stringify(dump, (key, value) => (key === "created_time" || key === "last_edited_time" ? undefined : value));
      expect(strip(await control(twin, "GET", "dump"))).toBe(strip(await control(emulator, "GET", "dump")));
    } finally {
      await twin.close();
    }
  });
});
