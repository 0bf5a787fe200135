/**
 * CANVAS_CREATE_UNKNOWN: a Canvas page for a number no customer has, created once however many lines ask at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCanvasSandbox, type CanvasSandbox } from "./canvas-sandbox.ts";

let sandbox: CanvasSandbox;

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
  sandbox = await startCanvasSandbox({ CANVAS_CREATE_UNKNOWN: "true" });
  await sandbox.call("/refresh", { mode: "full" });
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
});

describe("creating customers for unknown numbers", () => {
  it("creates one Canvas page for a number several lines see at once, and finds it afterwards without Notion", async () => {
    const phone = "+19075550042";
    const answers = await Promise.all(["PN1", "PN2", "PN3", "PN4"].map((line) => sandbox.call<Record<string, string | null>>("/match", { line, keys: [phone] })));
    const ids = new Set(answers.map((a) => a[phone]));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(id).toEqual(expect.any(String));

    const pages = await canvasPagesWithPhone(phone);
    expect(pages.map((p) => p.id)).toEqual([id]);
    // No OpenPhone contact to name it after (no OpenPhone key in this test): the number is the name.
    expect(pages[0]!.properties.Name).toMatchObject({ title: [{ plain_text: phone }] });

    const before = await sandbox.notionRequests();
    expect(await sandbox.call("/match", { line: "PN5", keys: [phone] })).toEqual({ [phone]: id });
    expect((await sandbox.notionRequests()) - before).toBe(0);
  });
});
