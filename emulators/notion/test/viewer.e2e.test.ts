/**
 * The viewer in headless Chromium: a call page written through the official SDK (audio block, summary, to-dos, a long
 * transcript) renders with a playable audio element and the whole transcript readable; the database table links
 * related pages by title; text written by users is shown, never run.
 */
import fs from "node:fs";
import type { Client } from "@notionhq/client";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, launchChromium, type LaunchedChromium } from "../../../test/chromium.ts";
import type { NotionEmulator } from "../server.ts";
import { sdk, startForTest, text } from "./harness.ts";

const AUDIO_URL = "https://media.example.com/recordings/2026/01/05/AC123.mp3";

let emulator: NotionEmulator;
let notion: Client;
let browser: LaunchedChromium | undefined;
let callPageId: string;
let callsDatabaseId: string;
const turns = Array.from({ length: 120 }, (_, i) => `Speaker ${i % 2 === 0 ? "A" : "B"} (${String(Math.floor(i / 2)).padStart(2, "0")}:${String((i * 7) % 60).padStart(2, "0")}): line ${i} of the transcript, ${"words ".repeat(30).trim()}.`);

/** Each test fails (never skips) when the browser is missing, so CI cannot pass without having run them. */
function requireBrowser(): BrowserContext {
  if (!browser) throw new Error(`Chromium is required for the viewer tests and was not found at ${CHROMIUM}. Install it: apt-get install -y chromium`);
  return browser.context;
}

beforeAll(async () => {
  emulator = await startForTest();
  notion = sdk(emulator);
  const customers = await notion.databases.create({ parent: { type: "page_id", page_id: emulator.rootPageId }, title: text("Canvas"), initial_data_source: { properties: { Name: { title: {} } } } });
  const customersFull = await notion.databases.retrieve({ database_id: customers.id });
  if (!("data_sources" in customersFull)) throw new Error("expected a full database");
  const customer = await notion.pages.create({ parent: { data_source_id: customersFull.data_sources[0]!.id }, properties: { Name: { title: text("Ana <b>Díaz</b>") } } });

  const calls = await notion.databases.create({
    parent: { type: "page_id", page_id: emulator.rootPageId },
    title: text("Calls"),
    initial_data_source: { properties: { Title: { title: {} }, Duration: { number: {} }, Customer: { relation: { data_source_id: customersFull.data_sources[0]!.id, type: "single_property", single_property: {} } } } },
  });
  callsDatabaseId = calls.id;
  const callsFull = await notion.databases.retrieve({ database_id: calls.id });
  if (!("data_sources" in callsFull)) throw new Error("expected a full database");
  // A transcript as the product writes it: chunks of speaker turns, each paragraph within the 2000-character limit.
  const chunks: string[] = [];
  for (let i = 0; i < turns.length; i += 8) chunks.push(turns.slice(i, i + 8).join("\n").slice(0, 2000));
  const page = await notion.pages.create({
    parent: { data_source_id: callsFull.data_sources[0]!.id },
    properties: { Title: { title: text("<script>window.injected = true</script> Call with Ana") }, Duration: { number: 312 }, Customer: { relation: [{ id: customer.id }] } },
    children: [
      { heading_2: { rich_text: text("Summary") } },
      { paragraph: { rich_text: text("Ana asked for a quote for the spring job.") } },
      { heading_2: { rich_text: text("Next steps") } },
      { to_do: { rich_text: text("Send the quote by Friday"), checked: false } },
      { heading_2: { rich_text: text("Recording") } },
      { audio: { type: "external", external: { url: AUDIO_URL } } },
      { heading_2: { rich_text: text("Transcript") } },
    ],
  });
  callPageId = page.id;
  await notion.blocks.children.append({ block_id: page.id, children: chunks.map((chunk) => ({ paragraph: { rich_text: text(chunk) } })) });

  if (!fs.existsSync(CHROMIUM)) return;
  browser = await launchChromium("notion-viewer");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
});

describe("viewer", () => {
  it("renders a call page with a playable audio block and the whole transcript", async () => {
    const page = await requireBrowser().newPage();
    // Nothing leaves the machine: the recording URL points at a host that does not exist here.
    await page.route((url) => !url.href.startsWith(emulator.url), (route) => route.abort());
    await page.goto(`${emulator.url}/pages/${callPageId}`);
    await expect.poll(() => page.title()).toContain("Call with Ana");
    const audio = page.locator("audio");
    expect(await audio.count()).toBe(1);
    expect(await audio.getAttribute("src")).toBe(AUDIO_URL);
    expect(await audio.evaluate((el) => (el as HTMLAudioElement).controls)).toBe(true);
    const body = await page.locator(".content").innerText();
    expect(body).toContain("Ana asked for a quote");
    expect(body).toContain("Send the quote by Friday");
    expect(await page.locator('input[type="checkbox"]').count()).toBe(1);
    for (const turn of [turns[0]!, turns[60]!, turns[119]!]) expect(body).toContain(turn.slice(0, 40));
    // The title and the related customer's name are shown as text, not run or parsed as HTML.
    expect(await page.locator("h1").innerText()).toBe("<script>window.injected = true</script> Call with Ana");
    expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
    expect(await page.locator(".props").innerText()).toContain("Ana <b>Díaz</b>");
    expect(await page.locator(".props").innerText()).toContain("312");
    await page.close();
  });

  it("lists databases and shows a database as a table with related pages linked by title", async () => {
    const page = await requireBrowser().newPage();
    await page.goto(`${emulator.url}/`);
    expect(await page.locator("table").innerText()).toContain("Calls");
    await page.locator(`a[href="/databases/${callsDatabaseId}"]`).click();
    await page.waitForURL(`**/databases/${callsDatabaseId}`);
    const headers = await page.locator("th").allInnerTexts();
    expect(headers).toEqual(["Title", "Duration", "Customer"]);
    const related = page.locator("td a", { hasText: "Ana <b>Díaz</b>" });
    expect(await related.count()).toBe(1);
    await page.locator(`td a[href="/pages/${callPageId}"]`).click();
    await page.waitForURL(`**/pages/${callPageId}`);
    expect(await page.locator("audio").count()).toBe(1);
    await page.close();
  });
});
