/**
 * Operator controls against the sandbox: the line filter and runtime flags changed at run time through
 * `PUT /admin/flags` and the dashboard (headless Chromium), with the Worker never restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, type LaunchedChromium } from "../chromium.ts";
import { E2E_ADMIN_TOKEN, type E2ESandbox, notionPages, startE2ESandbox, waitFor } from "./harness.ts";

interface FlagsBody {
  flags: { name: string; value: string; source: string }[];
  changes: { name: string; from: string | null; to: string | null; changedBy: string }[];
  lines: { id: string | null; state: string }[];
}
interface OpenPhoneStats {
  requests: { total: number };
}
interface Delivery {
  eventId: string;
  type: string;
  lastStatus: number | null;
  outcome: string;
}

let sandbox: E2ESandbox;
let lines: { id: string; number: string }[];

beforeAll(async () => {
  // A ten-minute window from the var: a page written within a few minutes was written with the flag's window.
  sandbox = await startE2ESandbox({ workerSettings: { COALESCE_MS: "600000" } });
  lines = (await sandbox.json<{ phoneNumbers: { id: string; number: string }[] }>(`${sandbox.openphoneUrl}/_emulator/workspace`)).phoneNumbers;
}, 240_000);

afterAll(async () => {
  await sandbox?.close();
});

const flags = () => sandbox.admin<FlagsBody>("/admin/flags");
const putFlags = (values: Record<string, unknown>) => sandbox.admin<{ changes: unknown[] }>("/admin/flags", { method: "PUT", body: JSON.stringify(values) });
const flagOf = (body: FlagsBody, name: string) => body.flags.find((f) => f.name === name)!;
const notionRequests = async () => (await sandbox.json<{ requests: { total: number } }>(`${sandbox.notionUrl}/_emulator/stats`)).requests.total;
const openphoneRequests = async () => (await sandbox.json<OpenPhoneStats>(`${sandbox.openphoneUrl}/_emulator/stats`)).requests.total;
const deliveries = async () => (await sandbox.json<{ data: Delivery[] }>(`${sandbox.openphoneUrl}/_emulator/webhooks/deliveries`)).data;
const allPages = async () => [...(await notionPages(sandbox, sandbox.sync.notion.calls.dataSourceId)), ...(await notionPages(sandbox, sandbox.sync.notion.messages.dataSourceId))];

/** A call with everything, or (`plain`) one whose webhooks all arrive at once: no recording, transcript or summary. */
function createCall(phoneNumberId: string, plain = false) {
  const extras = plain ? { recording: { segments: 0 }, transcript: false, summary: false } : { recording: { segments: 1 }, transcript: { chars: 300 }, summary: true };
  return sandbox.json<{ callId: string }>(`${sandbox.openphoneUrl}/_emulator/calls`, {
    method: "POST",
    body: JSON.stringify({ phoneNumberId, participant: "+14155550142", direction: "incoming", status: "answered", durationSeconds: 40, ...extras }),
  });
}
function createText(phoneNumberId: string) {
  return sandbox.json<{ messageId: string }>(`${sandbox.openphoneUrl}/_emulator/messages`, {
    method: "POST",
    body: JSON.stringify({ phoneNumberId, participant: "+14155550143", direction: "incoming", text: "Is the shop open on Sunday?" }),
  });
}

describe("the line filter", () => {
  it("with SYNC_LINES naming one line, the other lines' webhooks are answered 202 and cost no Notion or OpenPhone request", async () => {
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const [synced, ...others] = lines;
    await putFlags({ SYNC_LINES: synced!.id });
    expect(flagOf(await flags(), "SYNC_LINES")).toMatchObject({ value: synced!.id, source: "kv" });

    const before = { notion: await notionRequests(), openphone: await openphoneRequests(), pages: (await allPages()).length };
    const made = [] as string[];
    for (const line of others) {
      made.push((await createCall(line.id)).callId);
      made.push((await createText(line.id)).messageId);
    }
    // Every event of those calls and texts delivered and answered.
    const answered = await waitFor("every webhook of the other lines answered", 180_000, async () => {
      const log = await deliveries();
      return log.length >= made.length && log.every((d) => d.outcome !== "pending") ? log : undefined;
    });
    expect(answered.every((d) => d.lastStatus === 202)).toBe(true);
    const after = { notion: await notionRequests(), openphone: await openphoneRequests(), pages: (await allPages()).length };
    console.log(`line filter: ${answered.length} webhooks of ${others.length} skipped line(s) cost ${after.notion - before.notion} Notion and ${after.openphone - before.openphone} OpenPhone requests`);
    expect(after.notion - before.notion).toBe(0);
    expect(after.openphone - before.openphone).toBe(0);
    expect(after.pages).toBe(before.pages);

    const stats = await sandbox.admin<{ metrics24h: Record<string, number> }>("/admin/stats");
    expect(stats.metrics24h["webhook.skipped_line"]).toBe(answered.length);
    expect(stats.metrics24h["webhook.enqueued"] ?? 0).toBe(0);
    const body = await flags();
    for (const line of others) expect(body.lines.find((l) => l.id === line.id)?.state).toBe("skipped");
  }, 300_000);
});

describe("runtime flags", () => {
  it("a coalescing window of 0 set through PUT /admin/flags takes effect without a restart, and is recorded", async () => {
    const synced = lines[0]!;
    const delivered = (await deliveries()).length;
    const slow = await createCall(synced.id, true);
    // Its webhooks answered, and the line holds it: the var's ten-minute window applies.
    await waitFor("the first call's webhooks answered", 120_000, async () => {
      const log = await deliveries();
      return log.length > delivered && log.every((d) => d.outcome !== "pending");
    });
    await waitFor("the first call pending on its line", 60_000, async () => {
      const stats = await sandbox.admin<{ lines: { lineId: string; pending: number }[] }>("/admin/stats");
      return stats.lines.some((l) => l.lineId === synced.id && l.pending > 0);
    });
    await putFlags({ COALESCE_MS: "0" });
    const body = await flags();
    expect(flagOf(body, "COALESCE_MS")).toMatchObject({ value: "0", source: "kv" });
    expect(body.changes[0]).toMatchObject({ name: "COALESCE_MS", from: null, to: "0", changedBy: "admin-api" });
    // Every isolate rereads the flags at most a minute after it last read them; past that, the new window holds.
    await new Promise((resolve) => setTimeout(resolve, 61_000));
    const fast = await createCall(synced.id, true);
    const pages = await waitFor("the page of the call made after the change", 240_000, async () => {
      const found = await notionPages(sandbox, sandbox.sync.notion.calls.dataSourceId);
      return found.some((p) => JSON.stringify(p.properties).includes(fast.callId)) ? found : undefined;
    });
    // The call made before the change still waits out the var's ten-minute window.
    expect(pages.some((p) => JSON.stringify(p.properties).includes(slow.callId))).toBe(false);
  }, 420_000);

  it("an admin changes a flag on the dashboard, and sees its source become KV", async () => {
    let browser: LaunchedChromium | undefined;
    try {
      browser = await launchChromium("operator-flags");
      const page = await browser.context.newPage();
      await page.goto(`${sandbox.workerUrl}/`);
      await page.fill("#token", E2E_ADMIN_TOKEN);
      await page.click("#token-form button");
      const row = page.locator('#flags tr[data-flag="MEDIA_COPY_ENABLED"]');
      await row.waitFor({ timeout: 60_000 });
      expect(await row.locator(".flag-source").textContent()).toBe("default");
      await row.locator("select").selectOption("false");
      await row.locator("button", { hasText: "Set" }).click();
      await expect.poll(() => page.locator("#flag-result").textContent(), { timeout: 60_000 }).toContain("Changed MEDIA_COPY_ENABLED to false");
      await expect.poll(() => row.locator(".flag-source").textContent(), { timeout: 60_000 }).toBe("kv");
      expect(await row.locator(".flag-value").textContent()).toBe("false");
      // A malformed value is refused with the reason, and nothing changes.
      const window = page.locator('#flags tr[data-flag="COALESCE_MS"]');
      await window.locator("input").fill("soon");
      await window.locator("button", { hasText: "Set" }).click();
      await expect.poll(() => page.locator("#flag-result").textContent(), { timeout: 60_000 }).toContain("Not changed: Nothing was changed: COALESCE_MS: expected a whole number");
      // The line filter's effect is listed with the flags.
      await expect.poll(() => page.locator("#line-filter .line-state.skipped").count(), { timeout: 60_000 }).toBe(lines.length - 1);
      expect(await page.locator("#line-filter .line-state.synced").count()).toBeGreaterThanOrEqual(1);
    } finally {
      await browser?.close();
    }
    const body = await flags();
    expect(flagOf(body, "MEDIA_COPY_ENABLED")).toMatchObject({ value: "false", source: "kv" });
    expect(flagOf(body, "COALESCE_MS")).toMatchObject({ value: "0", source: "kv" });
    expect(body.changes[0]).toMatchObject({ name: "MEDIA_COPY_ENABLED", from: null, to: "false", changedBy: "dashboard" });
  }, 240_000);
});
