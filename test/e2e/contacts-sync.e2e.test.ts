/**
 * Canvas → OpenPhone contacts against both emulators: the demo Canvas in the Notion emulator, the OpenPhone emulator
 * (its roster contacts cleared, so every contact there is one this test can account for), and the product's Canvas
 * Durable Object in workerd. OpenPhone request counts come from the emulator's `/_emulator/stats`; they are printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenPhoneEmulator, type RunningOpenPhoneEmulator } from "../../emulators/openphone/server.ts";
import type { ContactSyncReport } from "../../src/contacts/sync-report.ts";
import { startCanvasSandbox, type CanvasSandbox } from "./canvas-sandbox.ts";

const KEY = "contacts-e2e-openphone-key";
const CUSTOMERS = 40;
const text = (content: string) => [{ type: "text" as const, text: { content } }];

let openphone: RunningOpenPhoneEmulator;
let sandbox: CanvasSandbox;

async function openphoneRequests(): Promise<number> {
  const stats = (await (await fetch(`${openphone.url}/_emulator/stats`)).json()) as { requests: { total: number } };
  return stats.requests.total;
}

async function pass(dryRun = false): Promise<{ report: ContactSyncReport; requests: number }> {
  const before = await openphoneRequests();
  const report = await sandbox.call<ContactSyncReport>("/contacts/sync", { dryRun });
  return { report, requests: (await openphoneRequests()) - before };
}

const contacts = () => openphone.emulator.store.workspace.contacts;

beforeAll(async () => {
  openphone = await startOpenPhoneEmulator({ port: 0, key: KEY });
  openphone.emulator.store.workspace.contacts.splice(0);
  sandbox = await startCanvasSandbox({ OPENPHONE_API_KEY: KEY, OPENPHONE_API_BASE: openphone.url, CONTACTS_SYNC: "on", CANVAS_COMPANY_PROPERTY: "Company" });
  await sandbox.call("/refresh", { mode: "full" });
  const row = await sandbox.db.prepare("SELECT COUNT(DISTINCT page_id) AS n FROM canvas_index WHERE key LIKE 'phone:%'").first<{ n: number }>();
  const dataSourceId = sandbox.notion.demo!.canvas.dataSourceId;
  // Up to 40 customers with a number: the demo Canvas plus new customers typed in by hand.
  for (let i = row!.n; i < CUSTOMERS; i++) {
    await sandbox.sdk.pages.create({
      parent: { type: "data_source_id", data_source_id: dataSourceId },
      properties: { Name: { title: text(`Extra Customer${i}`) }, Phone: { phone_number: `(720) 555-${String(1000 + i)}` }, Company: { rich_text: text("Extra Co") } },
    } as never);
  }
  await sandbox.call("/refresh", { mode: "full" });
}, 180_000);

afterAll(async () => {
  await sandbox?.close();
  await openphone?.close();
});

describe("Canvas customers become OpenPhone contacts", () => {
  it("a dry run says what it would create and writes nothing", async () => {
    const { report } = await pass(true);
    expect(report.counts.create).toBe(CUSTOMERS);
    expect(contacts()).toHaveLength(0);
  });

  it("40 customers give 40 contacts with name, company, E.164 numbers, e-mails and externalId", async () => {
    const { report, requests } = await pass();
    console.log(`first pass: ${report.counts.create} created, ${requests} OpenPhone requests`);
    expect(report.counts).toMatchObject({ create: CUSTOMERS, failed: 0 });
    expect(contacts()).toHaveLength(CUSTOMERS);
    const pages = await sandbox.db.prepare("SELECT page_id, title, company FROM canvas_pages").all<{ page_id: string; title: string; company: string | null }>();
    for (const page of pages.results) {
      const contact = contacts().find((c) => c.externalId === page.page_id);
      if (!contact) continue;
      expect(`${contact.defaultFields.firstName} ${contact.defaultFields.lastName ?? ""}`.trim()).toBe(page.title);
      expect(contact.defaultFields.company).toBe(page.company);
      expect(contact.source).toBe("notion-canvas");
      for (const p of contact.defaultFields.phoneNumbers) expect(p.value).toMatch(/^\+[1-9]\d{6,14}$/);
    }
    expect(contacts().every((c) => c.externalId !== null)).toBe(true);
    expect(contacts().some((c) => c.defaultFields.emails.length > 0)).toBe(true);
    // One listing (to see hand-made contacts) and one create per customer.
    expect(requests).toBe(CUSTOMERS + 1);
  });

  it("a second pass with an unchanged Canvas makes 0 OpenPhone requests", async () => {
    const { report, requests } = await pass();
    console.log(`second pass: ${requests} OpenPhone requests`);
    expect(requests).toBe(0);
    expect(report.counts).toMatchObject({ create: 0, update: 0, unchanged: CUSTOMERS });
  });

  it("3 edits in Canvas update 3 contacts", async () => {
    const edited = contacts().slice(0, 3).map((c) => c.externalId!);
    for (const [i, pageId] of edited.entries()) await sandbox.sdk.pages.update({ page_id: pageId, properties: { Name: { title: text(`Renamed Person${i}`) } } } as never);
    await sandbox.call("/refresh", { mode: "incremental" });
    const { report, requests } = await pass();
    console.log(`after 3 edits: ${report.counts.update} updated, ${requests} OpenPhone requests`);
    expect(report.counts).toMatchObject({ update: 3, create: 0 });
    expect(requests).toBe(3);
    for (const [i, pageId] of edited.entries()) expect(contacts().find((c) => c.externalId === pageId)?.defaultFields.lastName).toBe(`Person${i}`);
    expect(contacts()).toHaveLength(CUSTOMERS);
  });

  it("a hand-made contact with a new customer's number is untouched and reported", async () => {
    const handMade = await fetch(`${openphone.url}/v1/contacts`, {
      method: "POST",
      headers: { Authorization: KEY, "Content-Type": "application/json" },
      body: JSON.stringify({ defaultFields: { firstName: "Typed", lastName: "ByHand", phoneNumbers: [{ name: "mobile", value: "+17205559999" }] } }),
    }).then((r) => r.json() as Promise<{ data: { id: string; updatedAt: string } }>);
    await sandbox.sdk.pages.create({
      parent: { type: "data_source_id", data_source_id: sandbox.notion.demo!.canvas.dataSourceId },
      properties: { Name: { title: text("Same Number") }, Phone: { phone_number: "720-555-9999" } },
    } as never);
    await sandbox.call("/refresh", { mode: "incremental" });
    const { report, requests } = await pass();
    console.log(`hand-made conflict pass: ${requests} OpenPhone requests`);
    expect(report.counts).toMatchObject({ conflict: 1, create: 0 });
    expect(report.items.find((i) => i.action === "conflict")?.conflict).toContain(handMade.data.id);
    const after = contacts().find((c) => c.id === handMade.data.id)!;
    expect(after.updatedAt).toBe(handMade.data.updatedAt);
    expect(after.externalId).toBeNull();
    expect(contacts()).toHaveLength(CUSTOMERS + 1);
  });
});
