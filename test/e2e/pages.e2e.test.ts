/**
 * Whole pages through the sandbox: a 4-hour call with 2,000 transcript turns, a voicemail with its transcript, a
 * text with a picture, a call from someone only OpenPhone knows. For each: the page's properties, its body blocks in
 * order, and the Notion requests it cost (printed). The Notion viewer in headless Chromium plays the voicemail's
 * recording and shows the picture.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_ROSTER_SIZE } from "../../emulators/shared/roster.ts";
import { CHROMIUM, launchChromium } from "../chromium.ts";
import { type DumpedPage, E2E_OPENPHONE_KEY, type E2ESandbox, notionPages, plainText, sandboxPeople, startE2ESandbox, waitFor } from "./harness.ts";

interface NotionStats {
  requests: { byOperation: Record<string, number>; byStatus: Record<string, number> };
}

let sandbox: E2ESandbox;
let customer: { phone: string; name: string };
/** Someone in OpenPhone's contacts who is not a Canvas customer. */
let contactOnly: { phone: string; name: string; company: string };

beforeAll(async () => {
  // OpenPhone's products are ready when the call ends, so one flush sees everything.
  sandbox = await startE2ESandbox({ openphoneConfig: { timeFactor: 1000 } });
  const people = await sandboxPeople(sandbox);
  const person = people.customers[0]!;
  customer = { phone: person.phone, name: `${person.firstName} ${person.lastName}` };
  const outsider = people.contactsOnly[0]!;
  contactOnly = { phone: outsider.phone, name: `${outsider.firstName} ${outsider.lastName}`, company: outsider.company };
}, 240_000);

afterAll(async () => {
  await sandbox?.close();
});

const stats = () => sandbox.json<NotionStats>(`${sandbox.notionUrl}/_emulator/stats`);
const resetStats = () => sandbox.json(`${sandbox.notionUrl}/_emulator/stats`, { method: "DELETE" });
const control = <T>(path: string, body: unknown) => sandbox.json<T>(`${sandbox.openphoneUrl}/_emulator/${path}`, { method: "POST", body: JSON.stringify(body) });
const openphone = <T>(path: string) => sandbox.json<T>(`${sandbox.openphoneUrl}${path}`, { headers: { Authorization: E2E_OPENPHONE_KEY } });
const textOf = (block: DumpedPage["content"][number]) => plainText(block[block.type] as Record<string, unknown>);

async function pageOf(database: "calls" | "messages", id: string, ready: (p: DumpedPage) => boolean): Promise<DumpedPage> {
  return waitFor(`the ${database} page of ${id}`, 300_000, async () => {
    const pages = (await notionPages(sandbox, sandbox.sync.notion[database].dataSourceId)).filter((p) => plainText(p.properties[database === "calls" ? "Call ID" : "Message ID"]) === id);
    if (pages.length > 1) throw new Error(`${pages.length} pages for ${id}`);
    if (!pages[0]) {
      const logs = sandbox.workerLogs().filter((l) => l.includes(id)).slice(-3);
      throw new Error(`no page yet${logs.length ? `; Worker: ${logs.join(" | ").slice(0, 600)}` : ""}`);
    }
    if (!ready(pages[0])) throw new Error(`page not complete yet: ${pages[0].content.length} blocks, ${JSON.stringify(pages[0].properties["Transcript Status"] ?? null)}`);
    return pages[0];
  });
}

/** The Notion requests spent since the last reset, once the Worker is idle (nothing more is written for 5 s). */
async function settledCounts(): Promise<Record<string, number>> {
  let last = "";
  for (;;) {
    await new Promise((r) => setTimeout(r, 5000));
    const now = JSON.stringify((await stats()).requests);
    if (now === last) break;
    last = now;
  }
  const s = await stats();
  const refused = Object.entries(s.requests.byStatus).filter(([status]) => Number(status) >= 400);
  expect(refused, "no Notion request is refused").toEqual([]);
  return s.requests.byOperation;
}

describe("pages a user sees", () => {
  async function longCall(durationSeconds: number, transcript: { turns: number } | { chars: number }, label: string) {
    await resetStats();
    const { callId } = await control<{ callId: string }>("calls", { participant: customer.phone, direction: "incoming", status: "answered", durationSeconds, recording: { segments: 0 }, transcript, summary: false });
    // The truth to compare with: OpenPhone's transcript, once it has one (it is ready a little after the call ends).
    const data = await waitFor(`OpenPhone's transcript of ${callId}`, 120_000, async () => {
      const answer = await openphone<{ data: { dialogue: { start: number; content: string }[] | null } }>(`/v1/call-transcripts/${callId}`);
      return answer.data.dialogue ? { dialogue: answer.data.dialogue } : undefined;
    });
    const turns = data.dialogue.length;
    const lineCount = (p: DumpedPage) => p.content.slice(1).map(textOf).join("\n").split("\n").length;
    await pageOf("calls", callId, (p) => (p.properties["Transcript Status"]?.select as { name?: string } | undefined)?.name === "completed" && lineCount(p) >= turns);
    const counts = await settledCounts();
    const page = await pageOf("calls", callId, () => true);
    expect(page.properties["Duration"]).toMatchObject({ number: durationSeconds });
    expect(page.content[0]).toMatchObject({ type: "heading_2" });
    expect(textOf(page.content[0]!)).toBe("Transcript");
    const lines = page.content.slice(1).map(textOf).join("\n").split("\n");
    expect(lines).toHaveLength(turns);
    lines.forEach((line, i) => expect(line.endsWith(`: ${data.dialogue[i]!.content.trim()}`), `turn ${i + 1}`).toBe(true));
    const appendsForced = Math.ceil(page.content.length / 100) - 1;
    console.log(`${label}: ${turns} turns in ${page.content.length} blocks; Notion requests ${JSON.stringify(counts)}`);
    expect(counts["pages.create"]).toBe(1);
    expect(counts["blocks.children.append"] ?? 0).toBe(appendsForced);
    expect(counts["pages.update"] ?? 0).toBe(0);
    return { page, appendsForced };
  }

  it("writes a 4-hour call with 2,000 turns on one page, the whole transcript in order, in 1 create and the appends 100 blocks force", async () => {
    const { page } = await longCall(14_400, { turns: 2000 }, "4-hour call");
    expect(plainText(page.properties["Name"])).toBe(`Incoming call from ${customer.name} · 4h 0m`);
  }, 600_000);

  it("spreads a transcript too long for one request over the create and appends of 100 blocks, in order", async () => {
    const { appendsForced } = await longCall(21_600, { chars: 400_000 }, "6-hour call, 400,000 characters");
    expect(appendsForced).toBeGreaterThanOrEqual(1);
  }, 600_000);

  it("writes a voicemail with its transcript from OpenPhone's voicemail endpoint, under its player", async () => {
    await resetStats();
    const { callId } = await control<{ callId: string }>("calls", { participant: customer.phone, direction: "incoming", status: "voicemail" });
    const { data: voicemail } = await openphone<{ data: { transcript: string; duration: number } }>(`/v1/call-voicemails/${callId}`);
    expect(voicemail.transcript).toBeTruthy();
    await pageOf("calls", callId, (p) => p.content.length >= 4);
    const counts = await settledCounts();
    const page = await pageOf("calls", callId, () => true);
    expect(plainText(page.properties["Name"])).toBe(`Voicemail from ${customer.name}`);
    expect(plainText(page.properties["Voicemail Transcript"])).toBe(voicemail.transcript);
    expect(String(page.properties["Voicemail"]?.url)).toMatch(/\/media\/voicemails\//);
    expect(page.content.map((b) => b.type)).toEqual(["heading_2", "audio", "heading_2", "paragraph"]);
    expect(page.content.map(textOf)).toEqual(["Voicemail", "", "Voicemail transcript", voicemail.transcript]);
    console.log(`voicemail: Notion requests ${JSON.stringify(counts)}`);
    expect(counts["pages.create"]).toBe(1);
    expect((counts["pages.update"] ?? 0) + (counts["blocks.children.append"] ?? 0)).toBe(0);

    // The viewer's player plays the recording through the Worker's signed link.
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is required at ${CHROMIUM}: apt-get install -y chromium`);
    await waitFor("the voicemail stored in R2", 180_000, async () => {
      const { items } = await sandbox.admin<{ items: { status: string }[] }>(`/admin/media/items/${callId}`);
      return items.length === 1 && items[0]!.status === "stored";
    });
    const browser = await launchChromium("pages-e2e");
    try {
      const tab = await browser.context.newPage();
      await tab.goto(`${sandbox.notionUrl}/pages/${page.id}`);
      const audio = tab.locator("audio").first();
      await audio.evaluate((el: HTMLAudioElement) => {
        el.muted = true;
        el.preload = "auto";
        el.load();
      });
      const played = await waitFor("the audio player to play", 60_000, async () => {
        const state = await audio.evaluate(async (el: HTMLAudioElement) => {
          if (el.readyState >= 1 && el.paused && !el.error) await el.play().catch(() => undefined);
          return { duration: el.duration, error: el.error?.code ?? null, time: el.currentTime, ready: el.readyState };
        });
        if (state.error !== null) throw new Error(`media error ${state.error}`);
        return state.duration > 0 && state.time > 0 ? state : undefined;
      });
      console.log(`viewer audio: duration ${played.duration.toFixed(1)} s (voicemail ${voicemail.duration} s), played to ${played.time.toFixed(2)} s`);
      expect(Math.abs(played.duration - voicemail.duration)).toBeLessThanOrEqual(1);
    } finally {
      await browser.close();
    }
  }, 600_000);

  it("writes a text with a picture: title with who and which way, the picture as an image block", async () => {
    await resetStats();
    const { messageId } = await control<{ messageId: string }>("messages", { participant: customer.phone, direction: "incoming", text: "Can we move the delivery to Thursday? Here is a photo of the gate.", media: 1 });
    await pageOf("messages", messageId, (p) => p.content.length >= 1);
    const counts = await settledCounts();
    const page = await pageOf("messages", messageId, () => true);
    expect(plainText(page.properties["Name"])).toBe(`Text from ${customer.name}: Can we move the delivery to Thursday? Here is a photo of th…`);
    expect(page.content.map((b) => b.type)).toEqual(["image"]);
    const link = (page.content[0]!.image as { external: { url: string } }).external.url;
    expect(link).toMatch(/\/media\/media\//);
    const response = await fetch(link);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    // Read whole, so no response is left open on the Worker while the browser asks for the same picture.
    expect([...new Uint8Array(await response.arrayBuffer()).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    console.log(`text with a picture: Notion requests ${JSON.stringify(counts)}`);
    expect(counts["pages.create"]).toBe(1);
    expect((counts["pages.update"] ?? 0) + (counts["blocks.children.append"] ?? 0)).toBe(0);

    // The viewer shows the picture, decoded by the browser, through the Worker's signed link.
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is required at ${CHROMIUM}: apt-get install -y chromium`);
    const browser = await launchChromium("pages-e2e");
    try {
      const tab = await browser.context.newPage();
      // The page's own HTML is enough: the wait below, not the load event, is what bounds the picture.
      await tab.goto(`${sandbox.notionUrl}/pages/${page.id}`, { waitUntil: "domcontentloaded" });
      const image = tab.locator("img").first();
      const shown = await waitFor("the picture to be decoded", 60_000, async () => {
        const state = await image.evaluate((el: HTMLImageElement) => ({ complete: el.complete, width: el.naturalWidth, height: el.naturalHeight, src: el.currentSrc }));
        return state.complete && state.width > 0 ? state : undefined;
      });
      console.log(`viewer image: ${shown.width} × ${shown.height} px`);
      expect(shown).toMatchObject({ width: 96, height: 64, src: link });
    } finally {
      await browser.close();
    }
  }, 600_000);

  it("names a caller known only to OpenPhone by their contact, with no Canvas link", async () => {
    const refreshed = await sandbox.admin<{ refreshed: { listed: number } | null }>("/admin/contacts/refresh", { method: "POST" });
    expect(refreshed.refreshed?.listed).toBe(SANDBOX_ROSTER_SIZE);
    await resetStats();
    const { callId } = await control<{ callId: string }>("calls", { participant: contactOnly.phone, direction: "incoming", status: "answered", durationSeconds: 56, recording: { segments: 0 }, transcript: false, summary: false });
    await pageOf("calls", callId, () => true);
    const counts = await settledCounts();
    const page = await pageOf("calls", callId, () => true);
    expect(plainText(page.properties["Name"])).toBe(`Incoming call from ${contactOnly.name} · 56s`);
    expect(plainText(page.properties["Contact"])).toBe(`${contactOnly.name} (${contactOnly.company})`);
    expect(page.properties["Canvas"]?.relation ?? []).toEqual([]);
    console.log(`call from an OpenPhone-only contact: Notion requests ${JSON.stringify(counts)}`);
    expect(counts["pages.create"]).toBe(1);
    expect((counts["pages.update"] ?? 0) + (counts["blocks.children.append"] ?? 0)).toBe(0);
  }, 600_000);
});
