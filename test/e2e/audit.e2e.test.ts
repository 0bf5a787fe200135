/**
 * The audit end to end: the whole sandbox (both emulators and the Worker). A healthy sync audits clean; a page
 * trashed in Notion is reported missing and `repair` writes it again; a page that lost its summary is stale and
 * `repair` writes it again; a second page with one Message ID is reported
 * duplicated and `repair` keeps the first, moves what only the second had onto it and trashes the second. The
 * command-line client's exit codes are checked against the same Worker.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAuditCli } from "../../scripts/lib/audit-client.ts";
import type { AuditReport } from "../../src/audit/types.ts";
import { type DumpedPage, E2E_ADMIN_TOKEN, E2E_NOTION_TOKEN, type E2ESandbox, notionPages, plainText, sandboxPeople, startE2ESandbox, waitFor } from "./harness.ts";

let sandbox: E2ESandbox;
let since: string;
const callIds: string[] = [];
const messageIds: string[] = [];

const callPages = () => notionPages(sandbox, sandbox.sync.notion.calls.dataSourceId);
const messagePages = () => notionPages(sandbox, sandbox.sync.notion.messages.dataSourceId);
const audit = (body: Record<string, unknown>) => sandbox.admin<AuditReport>("/admin/audit", { method: "POST", body: JSON.stringify({ since, ...body }) });
const notionApi = <T>(path: string, method: string, body: unknown) =>
  sandbox.json<T>(`${sandbox.notionUrl}/v1/${path}`, { method, body: JSON.stringify(body), headers: { Authorization: `Bearer ${E2E_NOTION_TOKEN}`, "Notion-Version": "2025-09-03" } });
const dump = () => sandbox.json<{ pages: DumpedPage[] }>(`${sandbox.notionUrl}/_emulator/dump`);

function callIsComplete(page: DumpedPage): boolean {
  const p = page.properties;
  return plainText(p["Summary"]).length > 0 && (p["Transcript Status"]?.select as { name?: string } | undefined)?.name === "completed" && typeof p["Recording"]?.url === "string";
}

/** Every created call and text has exactly one page, and every call page is complete. */
async function synced(): Promise<boolean> {
  const [c, m] = await Promise.all([callPages(), messagePages()]);
  const byId = (pages: DumpedPage[], name: string) => new Map(pages.map((p) => [plainText(p.properties[name]), p]));
  const calls = byId(c, "Call ID");
  const messages = byId(m, "Message ID");
  return c.length === callIds.length && m.length === messageIds.length && callIds.every((id) => calls.has(id) && callIsComplete(calls.get(id)!)) && messageIds.every((id) => messages.has(id));
}

const counts = (r: AuditReport) => ({ checked: r.checked, missing: r.missing.length, duplicated: r.duplicated.length, stale: r.stale.length, complete: r.complete });

beforeAll(async () => {
  sandbox = await startE2ESandbox({ openphoneConfig: { timeFactor: 20 } });
  // A call is created when it starts ringing, which the emulator puts before the moment it is made to end.
  since = new Date(Date.now() - 10 * 60_000).toISOString();
  const people = await sandboxPeople(sandbox);
  const phones = people.customers.slice(0, 3).map((p) => p.phone);
  for (const [i, phone] of phones.entries()) {
    const call = await sandbox.json<{ callId: string }>(`${sandbox.openphoneUrl}/_emulator/calls`, {
      method: "POST",
      body: JSON.stringify({ participant: phone, direction: i % 2 ? "outgoing" : "incoming", status: "answered", durationSeconds: 60, recording: { segments: 1 }, transcript: { chars: 300 }, summary: true }),
    });
    callIds.push(call.callId);
    for (const n of [0, 1]) {
      const text = await sandbox.json<{ messageId: string }>(`${sandbox.openphoneUrl}/_emulator/messages`, {
        method: "POST",
        body: JSON.stringify({ participant: phone, direction: "incoming", text: `Audit text ${i}.${n}` }),
      });
      messageIds.push(text.messageId);
    }
  }
  await waitFor("every call and text synced, calls complete", 240_000, synced);
}, 360_000);

afterAll(async () => {
  await sandbox?.close();
});

describe("audit", () => {
  it("reports 0 missing, 0 duplicated and 0 stale on a healthy sync, from one query per database", async () => {
    const report = await audit({});
    console.log(`audit of ${report.checked} items: ${report.requests.openphone} OpenPhone and ${report.requests.notion} Notion requests`);
    expect(counts(report)).toEqual({ checked: callIds.length + messageIds.length, missing: 0, duplicated: 0, stale: 0, complete: true });
    // Page existence for the whole window: one data source lookup and one query page per database.
    expect(report.requests.notion).toBe(4);
    const stats = await sandbox.admin<{ audit: { lastRunAt: string; checked: number; missing: number; duplicated: number; stale: number } }>("/admin/stats");
    expect(stats.audit).toMatchObject({ checked: report.checked, missing: 0, duplicated: 0, stale: 0 });
    const out: string[] = [];
    expect(await runAuditCli({ url: sandbox.workerUrl, token: E2E_ADMIN_TOKEN, since, repair: false, json: true }, (t) => out.push(t))).toBe(0);
    expect(JSON.parse(out.join(""))).toMatchObject({ checked: report.checked, missing: [], duplicated: [], stale: [] });

    // A budget too small for the window: each part stops where its budget ends, the next continues from there,
    // and the parts together check every item once.
    const part = await audit({ maxRequests: 10 });
    expect(part).toMatchObject({ complete: false, stoppedBy: "request budget", next: expect.any(String) });
    expect(part.checked).toBeLessThan(report.checked);
    const parted: string[] = [];
    expect(await runAuditCli({ url: sandbox.workerUrl, token: E2E_ADMIN_TOKEN, since, repair: false, json: true, maxRequests: 10 }, (t) => parted.push(t))).toBe(0);
    const whole = JSON.parse(parted.join("")) as AuditReport & { parts: number };
    console.log(`the same audit at 10 requests a part: ${whole.parts} parts, ${whole.requests.openphone} OpenPhone and ${whole.requests.notion} Notion requests`);
    expect(whole).toMatchObject({ checked: report.checked, missing: [], duplicated: [], stale: [], complete: true });
    expect(whole.parts).toBeGreaterThan(1);
  });

  it("reports a page trashed in Notion as missing, and repair writes it again", async () => {
    const victimId = messageIds[0]!;
    const victim = (await messagePages()).find((p) => plainText(p.properties["Message ID"]) === victimId)!;
    await notionApi(`pages/${victim.id}`, "PATCH", { in_trash: true });

    const found = await audit({});
    expect(found.missing.map((m) => m.id)).toEqual([victimId]);
    expect(counts(found)).toMatchObject({ duplicated: 0, stale: 0 });
    const out: string[] = [];
    expect(await runAuditCli({ url: sandbox.workerUrl, token: E2E_ADMIN_TOKEN, since, repair: false, json: false }, (t) => out.push(t))).toBe(1);
    expect(out.join("")).toContain(victimId);

    const repaired = await audit({ repair: true });
    expect(repaired.repaired?.resynced).toEqual([victimId]);
    expect(repaired.repaired?.failed).toEqual([]);
    const restored = await waitFor("the trashed text written again", 60_000, async () => (await messagePages()).find((p) => plainText(p.properties["Message ID"]) === victimId));
    expect(restored.id).not.toBe(victim.id);
    expect(plainText(restored.properties["Text"])).toBe("Audit text 0.0");
    expect(counts(await audit({}))).toMatchObject({ missing: 0, duplicated: 0, stale: 0 });
  });

  it("reports a call page that lost its summary as stale, and repair writes it again", async () => {
    const id = callIds[0]!;
    const page = (await callPages()).find((p) => plainText(p.properties["Call ID"]) === id)!;
    const summary = plainText(page.properties["Summary"]);
    await notionApi(`pages/${page.id}`, "PATCH", { properties: { Summary: { rich_text: [] } } });

    const found = await audit({});
    expect(found.stale).toEqual([expect.objectContaining({ id, pageId: page.id, lacks: ["summary"] })]);
    expect(counts(found)).toMatchObject({ missing: 0, duplicated: 0 });

    const repaired = await audit({ repair: true });
    expect(repaired.repaired?.resynced).toEqual([id]);
    await waitFor("the summary written again", 60_000, async () => plainText((await callPages()).find((p) => p.id === page.id)?.properties["Summary"]) === summary);
    expect(counts(await audit({}))).toMatchObject({ missing: 0, duplicated: 0, stale: 0 });
  });

  it("reports two pages with one Message ID as duplicated, and repair keeps the first and trashes the newer", async () => {
    const id = messageIds[1]!;
    const first = (await messagePages()).find((p) => plainText(p.properties["Message ID"]) === id)!;
    const sent = first.properties["Sent"]!.date as { start: string };
    // A second page of the same text, as a create whose answer was lost makes it, with a note only it has.
    const second = await notionApi<{ id: string }>("pages", "POST", {
      parent: { type: "data_source_id", data_source_id: sandbox.sync.notion.messages.dataSourceId },
      properties: { Name: { title: [{ text: { content: "Audit text 0.1" } }] }, "Message ID": { rich_text: [{ text: { content: id } }] }, Sent: { date: { start: sent.start } } },
      children: [{ type: "paragraph", paragraph: { rich_text: [{ type: "text", text: { content: "Only on the second page" } }] } }],
    });

    const found = await audit({});
    expect(found.duplicated).toEqual([expect.objectContaining({ id, pageIds: [first.id, second.id] })]);
    expect(counts(found)).toMatchObject({ missing: 0, stale: 0 });

    const repaired = await audit({ repair: true });
    expect(repaired.repaired?.duplicatesRepaired).toEqual([expect.objectContaining({ id, keptPageId: first.id, trashedPageIds: [second.id], movedBlocks: 1 })]);
    const pages = (await dump()).pages;
    expect(pages.find((p) => p.id === second.id)?.in_trash ?? pages.find((p) => p.id === second.id)?.archived).toBe(true);
    const kept = pages.find((p) => p.id === first.id)!;
    expect(kept.in_trash || kept.archived).toBeFalsy();
    expect(JSON.stringify(kept.content)).toContain("Only on the second page");
    expect((await messagePages()).filter((p) => plainText(p.properties["Message ID"]) === id)).toHaveLength(1);

    expect(counts(await audit({}))).toMatchObject({ missing: 0, duplicated: 0, stale: 0 });
    const stats = await sandbox.admin<{ metrics24h: Record<string, number> }>("/admin/stats");
    expect(stats.metrics24h["audit.duplicates_repaired"]).toBe(1);
  });
});
