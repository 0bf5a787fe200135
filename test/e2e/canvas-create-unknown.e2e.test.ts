/**
 * With the OpenPhone emulator too: the workspace's own lines never match a customer, and CANVAS_CREATE_UNKNOWN
 * creates a Canvas page for a number no customer has (named after its OpenPhone contact), once however many lines
 * ask at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenPhoneEmulator, type RunningOpenPhoneEmulator } from "../../emulators/openphone/server.ts";
import { generateRoster, SANDBOX_ROSTER_SIZE, SANDBOX_SEED } from "../../emulators/shared/roster.ts";
import { startCanvasSandbox, type CanvasSandbox } from "./canvas-sandbox.ts";

const OPENPHONE_KEY = "canvas-e2e-openphone-key";
let sandbox: CanvasSandbox;
let openphone: RunningOpenPhoneEmulator;

interface DumpPage {
  id: string;
  parent: { data_source_id?: string };
  properties: Record<string, { type: string; [k: string]: unknown }>;
}

async function canvasPagesWithPhone(phone: string): Promise<DumpPage[]> {
  const dump = (await (await fetch(`${sandbox.notion.url}/_emulator/dump`)).json()) as { pages: DumpPage[] };
  return dump.pages.filter((p) => p.parent.data_source_id === sandbox.notion.demo!.canvas.dataSourceId && p.properties.Phone?.phone_number === phone);
}

beforeAll(async () => {
  openphone = await startOpenPhoneEmulator({ key: OPENPHONE_KEY, port: 0 });
  sandbox = await startCanvasSandbox({ CANVAS_CREATE_UNKNOWN: "true", OPENPHONE_API_KEY: OPENPHONE_KEY, OPENPHONE_API_BASE: openphone.url });
  await sandbox.call("/refresh", { mode: "full" });
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
  await openphone?.close();
});

describe("own numbers", () => {
  it("never links the workspace's own lines, read from OpenPhone, even when Canvas lists one", async () => {
    const lines = (await (await fetch(`${openphone.url}/v1/phone-numbers`, { headers: { Authorization: OPENPHONE_KEY } })).json()) as { data: { number: string }[] };
    const line = lines.data[0]!.number;
    await sandbox.sdk.pages.create({
      parent: { type: "data_source_id", data_source_id: sandbox.notion.demo!.canvas.dataSourceId },
      properties: { Name: { title: [{ type: "text", text: { content: "Our main line" } }] }, Phone: { phone_number: line } },
    });
    await sandbox.call("/refresh", { mode: "incremental" });
    expect(await sandbox.call("/match", { line: "PNown", keys: [line] })).toEqual({ [line]: null });
    const stored = await sandbox.db.prepare("SELECT number FROM lines ORDER BY number").all();
    expect((stored.results as { number: string }[]).map((r) => r.number)).toEqual(lines.data.map((l) => l.number).sort());
    expect(await canvasPagesWithPhone(line)).toHaveLength(1); // no page created for it either
  });
});

describe("creating customers for unknown numbers", () => {
  it("names the new page after the OpenPhone contact with that number", async () => {
    // Every seventh roster person is an OpenPhone contact without a Canvas page.
    const person = generateRoster(SANDBOX_SEED, SANDBOX_ROSTER_SIZE).find((p) => p.index % 7 === 6)!;
    const answer = await sandbox.call<Record<string, string | null>>("/match", { line: "PNcontact", keys: [person.phone] });
    const pages = await canvasPagesWithPhone(person.phone);
    expect(pages.map((p) => p.id)).toEqual([answer[person.phone]]);
    expect(pages[0]!.properties.Name).toMatchObject({ title: [{ plain_text: `${person.firstName} ${person.lastName}` }] });
  });

  it("creates one Canvas page for a number several lines see at once, and finds it afterwards without Notion", async () => {
    const phone = "+19075550042";
    const answers = await Promise.all(["PN1", "PN2", "PN3", "PN4"].map((line) => sandbox.call<Record<string, string | null>>("/match", { line, keys: [phone] })));
    const ids = new Set(answers.map((a) => a[phone]));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(id).toEqual(expect.any(String));

    const pages = await canvasPagesWithPhone(phone);
    expect(pages.map((p) => p.id)).toEqual([id]);
    // No OpenPhone contact has this number: the number is the name.
    expect(pages[0]!.properties.Name).toMatchObject({ title: [{ plain_text: phone }] });

    const before = await sandbox.notionRequests();
    expect(await sandbox.call("/match", { line: "PN5", keys: [phone] })).toEqual({ [phone]: id });
    expect((await sandbox.notionRequests()) - before).toBe(0);
  });
});
