/**
 * The dashboard in headless Chromium against the sandbox: what an operator sees after a few calls and texts, and the
 * re-sync form.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, launchChromium, type LaunchedChromium } from "../chromium.ts";
import { E2E_ADMIN_TOKEN, E2E_NOTION_TOKEN, type E2ESandbox, notionPages, plainText, sandboxPeople, startE2ESandbox, waitFor } from "./harness.ts";

let sandbox: E2ESandbox;
let browser: LaunchedChromium;
let callIds: string[];
let customers: { phone: string }[];

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is required for the dashboard test and was not found at ${CHROMIUM}. Install it: apt-get install -y chromium`);
  sandbox = await startE2ESandbox({ openphoneConfig: { timeFactor: 50 } });
  const people = await sandboxPeople(sandbox);
  customers = people.customers.slice(0, 2);
  callIds = [];
  for (const customer of customers) {
    const { callId } = await sandbox.json<{ callId: string }>(`${sandbox.openphoneUrl}/_emulator/calls`, {
      method: "POST",
      body: JSON.stringify({ participant: customer.phone, direction: "incoming", status: "answered", durationSeconds: 60, recording: { segments: 1, bytes: 20_000 }, transcript: { chars: 300 }, summary: true }),
    });
    callIds.push(callId);
    await sandbox.json(`${sandbox.openphoneUrl}/_emulator/messages`, { method: "POST", body: JSON.stringify({ participant: customer.phone, direction: "incoming", text: "See you Thursday" }) });
  }
  await waitFor("2 call pages and 2 message pages", 120_000, async () => {
    const [calls, texts] = await Promise.all([notionPages(sandbox, sandbox.sync.notion.calls.dataSourceId), notionPages(sandbox, sandbox.sync.notion.messages.dataSourceId)]);
    return calls.length === 2 && texts.length === 2 && calls.every((p) => plainText(p.properties["Summary"]).length > 0);
  });
  browser = await launchChromium("dashboard");
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
});

describe("dashboard", () => {
  it("asks for the admin token, then shows health, today's syncs, the Canvas hit ratio and no failures", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${sandbox.workerUrl}/`);
    await expect.poll(() => page.locator("#health-badge").textContent()).toBe("healthy");
    await expect.poll(() => page.locator("#auth-message").textContent()).toContain("admin token");

    await page.fill("#token", E2E_ADMIN_TOKEN);
    await page.click("#token-form button");
    await expect.poll(() => page.locator("#synced").textContent(), { timeout: 15_000 }).not.toBe("–");
    const synced = Number((await page.locator("#synced").textContent())!.replace(/\D/g, ""));
    expect(synced).toBeGreaterThanOrEqual(4);
    expect(await page.locator("#synced-detail").textContent()).toMatch(/2 calls, 2 texts/);
    expect(await page.locator("#failed").textContent()).toBe("0");
    expect(await page.locator("#canvas").textContent()).toMatch(/^\d+(\.\d)? %$/);
    expect(await page.locator("#notion").textContent()).toMatch(/^\d+ req \/ 24 h$/);
    expect(await page.locator("#dead-count").textContent()).toBe("(none)");
    expect(await page.locator("#latency-detail").textContent()).toMatch(/^median, last 24 h · p95 \d+\.\d s · 4 pages · /);
    await page.close();
  });

  it("shows one row per line with its pending items and last write, and 24-hour charts of items written and lag", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${sandbox.workerUrl}/`);
    await page.fill("#token", E2E_ADMIN_TOKEN);
    await page.click("#token-form button");
    await expect.poll(() => page.locator("#synced").textContent(), { timeout: 15_000 }).not.toBe("–");
    const stats = await sandbox.admin<{ lines: { lineId: string; name: string | null; pending: number; answered: boolean }[] }>("/admin/stats");
    // The sandbox's traffic has reached its lines by now: each line that was handed work is listed and answers.
    expect(stats.lines.length).toBeGreaterThanOrEqual(1);
    expect(stats.lines.every((l) => l.answered)).toBe(true);
    const rows = page.locator("#lines tbody tr");
    await expect.poll(() => rows.count()).toBe(stats.lines.length);
    expect(await page.locator("#lines-empty").isHidden()).toBe(stats.lines.length > 0);
    for (const [i, line] of stats.lines.entries()) {
      const cells = await rows.nth(i).locator("td").allTextContents();
      expect(cells[0]).toBe(line.name ? `${line.name} (${line.lineId})` : line.lineId);
      expect(cells[1]).toBe(line.answered ? String(line.pending) : "?");
    }
    // Four items were written minutes ago: the throughput chart has a bar, labelled with its count.
    expect(await page.locator("#throughput-chart rect.bar").count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator("#throughput-total").textContent()).toMatch(/\((\d+) in 24 h\)/);
    expect(await page.locator("#lag-chart line.limit").count()).toBe(1);
    await page.close();
  });

  it("re-syncs a call from the form", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${sandbox.workerUrl}/`);
    await page.fill("#token", E2E_ADMIN_TOKEN);
    await page.click("#token-form button");
    await page.fill("#resync-id", callIds[0]!);
    await page.click("#resync-form button");
    await expect.poll(() => page.locator("#resync-result").textContent()).toBe(`Re-sync of ${callIds[0]} queued.`);
    await page.fill("#resync-id", "ACnosuchcall0000");
    await page.click("#resync-form button");
    await expect.poll(() => page.locator("#resync-result").textContent()).toContain("OpenPhone has no call or message ACnosuchcall0000");
    await page.close();
  });

  it("lists a failing call once, with its events and reason, and its one Replay completes the page", async () => {
    const dataSource = sandbox.sync.notion.calls.dataSourceId;
    const rename = (from: string, to: string) => sandbox.renameProperty(dataSource, from, to);
    await rename("Line", "Phone line");
    const { callId } = await sandbox.json<{ callId: string }>(`${sandbox.openphoneUrl}/_emulator/calls`, {
      method: "POST",
      body: JSON.stringify({ participant: customers[0]!.phone, direction: "incoming", status: "answered", durationSeconds: 30, recording: { segments: 1, bytes: 20_000 }, transcript: { chars: 200 }, summary: true }),
    });
    await waitFor("the failing call's events among the dead letters", 120_000, async () => {
      const open = await sandbox.admin<{ items: { resourceId: string; events: unknown[] }[] }>("/admin/dead-letters");
      return open.items.some((i) => i.resourceId === callId && i.events.length >= 3);
    });
    const page = await browser.context.newPage();
    await page.goto(`${sandbox.workerUrl}/`);
    await page.fill("#token", E2E_ADMIN_TOKEN);
    await page.click("#token-form button");
    const row = page.locator(`#dead-letters tbody tr[data-item="${callId}"]`);
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator("#dead-letters tbody tr").count()).toBe(1);
    expect(await row.locator("td").nth(1).textContent()).toBe(`Call ${callId}`);
    expect(await row.locator("td.events").textContent()).toContain("call.completed");
    expect(await row.locator("td.reason").textContent()).toContain("Line");
    expect(await row.locator("button").textContent()).toMatch(/^Replay \d+ events$/);

    await rename("Phone line", "Line");
    await row.locator("button").click();
    await expect.poll(() => page.locator("#replay-result").textContent()).toMatch(/^Replayed \d+\.$/);
    await waitFor("the replayed call's complete page", 120_000, async () => {
      const found = (await notionPages(sandbox, dataSource)).filter((p) => plainText(p.properties["Call ID"]) === callId);
      return found.length === 1 && plainText(found[0]!.properties["Summary"]).length > 0;
    });
    await expect.poll(() => page.locator("#dead-count").textContent(), { timeout: 30_000 }).toBe("(none)");
    await page.close();
  });
});
