/**
 * Media, end to end: OpenPhone emulator → webhooks → Worker (wrangler dev) → Line Durable Object → Notion page with
 * links, then the files streamed into R2. The links are read from the Notion pages and fetched like a player would:
 * the exact bytes (the emulator's bytes are a pure function of file id and offset), a Range, a tampered signature.
 * A recording whose source answers 404 leaves a complete page with a note, and a retry once the source is back
 * stores it and takes the note away. Prints bytes, time and the Notion requests media cost.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedMediaBytes } from "../../emulators/openphone/server.ts";
import { generateRoster, SANDBOX_ROSTER_SIZE, SANDBOX_SEED } from "../../emulators/shared/roster.ts";
import { type DumpedPage, type E2ESandbox, notionPages, plainText, startE2ESandbox, waitFor } from "./harness.ts";

interface MediaItemReport {
  key: string;
  kind: "recording" | "voicemail" | "mms";
  mediaId: string;
  sourceUrl: string;
  status: "stored" | "unavailable";
  reason: string | null;
  size: number | null;
  attempts: number;
}

const SEGMENT_BYTES = 400_001;

let sandbox: E2ESandbox;
let customers: { phone: string }[];

beforeAll(async () => {
  // One automatic retry, so the test sees a note whose retries are used up.
  sandbox = await startE2ESandbox({ openphoneConfig: { timeFactor: 5 }, workerSettings: { MEDIA_RETRY_LIMIT: "1" } });
  const roster = generateRoster(SANDBOX_SEED, SANDBOX_ROSTER_SIZE);
  customers = roster.slice(0, 5);
}, 240_000);

afterAll(async () => {
  await sandbox?.close();
});

const mediaItems = async (resourceId: string) => (await sandbox.admin<{ items: MediaItemReport[] }>(`/admin/media/items/${resourceId}`)).items;
const mediaMetrics = async () => (await sandbox.admin<{ metrics24h: Record<string, number> }>("/admin/stats")).metrics24h;

function createCall(body: Record<string, unknown>) {
  return sandbox.json<{ callId: string }>(`${sandbox.openphoneUrl}/_emulator/calls`, { method: "POST", body: JSON.stringify(body) });
}

async function pageOf(database: "calls" | "messages", id: string): Promise<DumpedPage | undefined> {
  const pages = await notionPages(sandbox, sandbox.sync.notion[database].dataSourceId);
  return pages.find((p) => plainText(p.properties[database === "calls" ? "Call ID" : "Message ID"]) === id);
}

/** Every R2 item of a resource stored (`count` of them), with the sizes the admin API reports. */
function allStored(resourceId: string, count: number) {
  return waitFor(`${count} stored media files of ${resourceId}`, 180_000, async () => {
    const items = await mediaItems(resourceId);
    return items.length === count && items.every((i) => i.status === "stored") ? items : undefined;
  });
}

const audioLinks = (page: DumpedPage) => page.content.filter((b) => b.type === "audio").map((b) => (b.audio as { external: { url: string } }).external.url);
const callouts = (page: DumpedPage) => page.content.filter((b) => b.type === "callout").map((b) => plainText(b.callout as Record<string, unknown>));
/** The R2 key a `/media/<key>?sig=…` link names. */
const keyOf = (link: string) => decodeURIComponent(new URL(link).pathname.replace(/^\/media\//, ""));
/** The emulator's file id, from the source URL (`…/media/<id>.<ext>`). */
const fileIdOf = (sourceUrl: string) => /\/media\/([0-9a-f]+)\.\w+$/.exec(new URL(sourceUrl).pathname)![1]!;

/** GETs a link and checks every byte against the emulator's file; returns the bytes read. */
async function expectPlays(link: string, item: MediaItemReport, contentType: string): Promise<number> {
  const response = await fetch(link);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe(contentType);
  const body = Buffer.from(await response.arrayBuffer());
  expect(body.length).toBe(item.size);
  expect(body.equals(expectedMediaBytes(fileIdOf(item.sourceUrl), 0, item.size!, contentType, item.size!))).toBe(true);
  return body.length;
}

describe("media into R2, linked from Notion", () => {
  it("stores a call's 3 recording segments and a missed call's voicemail: 4 objects whose Notion links play, seek and refuse a forged signature", async () => {
    const started = Date.now();
    const [answered, missed] = await Promise.all([
      createCall({ participant: customers[0]!.phone, direction: "incoming", status: "answered", durationSeconds: 90, recording: { segments: 3, bytes: SEGMENT_BYTES }, transcript: false, summary: false }),
      createCall({ participant: customers[1]!.phone, voicemail: true }),
    ]);
    const [recordings, voicemails] = await Promise.all([allStored(answered.callId, 3), allStored(missed.callId, 1)]);
    const seconds = (Date.now() - started) / 1000;

    const datePath = String.raw`\d{4}/\d{2}/\d{2}`;
    for (const item of recordings) expect(item.key).toMatch(new RegExp(`^recordings/${datePath}/${answered.callId}/${item.mediaId}\\.mp3$`));
    expect(recordings.map((i) => i.mediaId).every((id) => id.startsWith("CR"))).toBe(true);
    expect(voicemails[0]!.key).toMatch(new RegExp(`^voicemails/${datePath}/${missed.callId}\\.mp3$`));

    const callPage = await waitFor("the answered call's page with 3 audio blocks", 60_000, async () => {
      const page = await pageOf("calls", answered.callId);
      return page && audioLinks(page).length === 3 ? page : undefined;
    });
    const missedPage = (await waitFor("the missed call's page with its voicemail", 60_000, async () => {
      const page = await pageOf("calls", missed.callId);
      return page?.properties["Voicemail"]?.url ? page : undefined;
    }))!;
    const links = [...audioLinks(callPage), missedPage.properties["Voicemail"]!.url as string];
    expect(callPage.properties["Recording"]?.url).toBe(audioLinks(callPage)[0]);
    expect(audioLinks(missedPage)).toContain(missedPage.properties["Voicemail"]!.url);
    expect(new Set(links.map(keyOf))).toEqual(new Set([...recordings, ...voicemails].map((i) => i.key)));
    expect(callouts(callPage)).toEqual([]);

    let bytes = 0;
    for (const link of links) {
      const item = [...recordings, ...voicemails].find((i) => i.key === keyOf(link))!;
      bytes += await expectPlays(link, item, "audio/mpeg");
    }
    expect(recordings.every((i) => i.size === SEGMENT_BYTES)).toBe(true);

    const item = recordings.find((i) => i.key === keyOf(links[1]!))!;
    const range = await fetch(links[1]!, { headers: { Range: "bytes=100000-165535" } });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-range")).toBe(`bytes 100000-165535/${SEGMENT_BYTES}`);
    expect(Buffer.from(await range.arrayBuffer()).equals(expectedMediaBytes(fileIdOf(item.sourceUrl), 100_000, 65_536, "audio/mpeg", item.size!))).toBe(true);

    const tampered = new URL(links[0]!);
    const sig = tampered.searchParams.get("sig")!;
    tampered.searchParams.set("sig", `${sig.slice(0, -1)}${sig.endsWith("A") ? "B" : "A"}`);
    expect((await fetch(tampered)).status).toBe(403);

    const metrics = await mediaMetrics();
    console.log(
      `media: 4 files, ${(bytes / 1e6).toFixed(2)} MB stored and read back byte for byte; webhook → all 4 in R2 in ${seconds.toFixed(1)} s; ` +
        `Notion requests spent on media: ${metrics["media.notion_requests"] ?? 0}`,
    );
    expect(metrics["media.notion_requests"] ?? 0).toBe(0);
  }, 300_000);

  it("stores an MMS's 2 attachments under media/YYYY/MM/DD/<messageId>/<n>.<ext>, linked from the message page", async () => {
    const started = Date.now();
    const { messageId } = await sandbox.json<{ messageId: string }>(`${sandbox.openphoneUrl}/_emulator/messages`, {
      method: "POST",
      body: JSON.stringify({ participant: customers[2]!.phone, direction: "incoming", text: "Photos of the site", media: 2 }),
    });
    const items = await allStored(messageId, 2);
    const seconds = (Date.now() - started) / 1000;
    expect(items.map((i) => i.key)).toEqual([0, 1].map((n) => expect.stringMatching(new RegExp(`^media/\\d{4}/\\d{2}/\\d{2}/${messageId}/${n}\\.png$`))));
    const page = (await pageOf("messages", messageId))!;
    const links = ((page.properties["Media"]?.rich_text ?? []) as { href?: string | null; text?: { link?: { url: string } | null } }[])
      .map((r) => r.href ?? r.text?.link?.url)
      .filter((l): l is string => Boolean(l));
    expect(links.map(keyOf)).toEqual(items.map((i) => i.key));
    let bytes = 0;
    for (const [n, link] of links.entries()) bytes += await expectPlays(link, items[n]!, "image/png");
    console.log(`media: MMS with 2 attachments, ${(bytes / 1e3).toFixed(0)} kB in R2 ${seconds.toFixed(1)} s after the text`);
  }, 240_000);

  it("leaves a complete call page that says the recording is unavailable and why when its source 404s, says when the retries are used up, and an operator's retry once it is back stores it and clears the note", async () => {
    const metricsBefore = await mediaMetrics();
    const { callId } = await createCall({ participant: customers[3]!.phone, direction: "outgoing", status: "answered", durationSeconds: 60, recording: { segments: 2, bytes: 120_000 }, transcript: false, summary: false });
    // The files exist from the start; the first segment's source answers 404 until restored (listing it again too).
    const sources = sandbox.openphoneEmulator.store.calls.get(callId)!.recordings.map((r) => r.url!);
    const missing = fileIdOf(sources[0]!);
    await sandbox.json(`${sandbox.openphoneUrl}/_emulator/media/${missing}`, { method: "PUT", body: JSON.stringify({ status: 404 }) });

    const items = await waitFor("one segment stored, one unavailable", 180_000, async () => {
      const found = await mediaItems(callId);
      return found.length === 2 && found.some((i) => i.status === "unavailable") && found.some((i) => i.status === "stored") ? found : undefined;
    });
    const gone = items.find((i) => i.status === "unavailable")!;
    expect(fileIdOf(gone.sourceUrl)).toBe(missing);
    expect(gone.reason).toContain("404");

    const page = await waitFor("the page's note", 60_000, async () => {
      const p = await pageOf("calls", callId);
      return p && callouts(p).length > 0 ? p : undefined;
    });
    const p = page.properties;
    expect(plainText(p["Name"])).toContain("Outgoing call to");
    expect(plainText(p["Call ID"])).toBe(callId);
    expect(p["Direction"]?.select).toMatchObject({ name: "Outgoing" });
    expect(p["Status"]?.select).toMatchObject({ name: "completed" });
    expect(p["Participant"]?.phone_number).toBe(customers[3]!.phone);
    expect(p["Duration"]?.number).toBe(60);
    expect(typeof p["Started"]?.date).toBe("object");
    expect(typeof p["Recording"]?.url).toBe("string");
    expect(audioLinks(page)).toHaveLength(2);
    const [note] = callouts(page);
    expect(note).toMatch(/^Recording 1 is unavailable: .*404/);
    expect(note).toContain("tries again automatically");

    // The one automatic retry fails too: the note says the sync stopped retrying, and how to try again.
    const exhausted = await sandbox.admin<{ results: { key: string; status: string }[] }>("/admin/media/retry", { method: "POST", body: JSON.stringify({ all: true }) });
    expect(exhausted.results).toEqual([expect.objectContaining({ key: gone.key, status: "unavailable" })]);
    const [givenUp] = await waitFor("the note to say the retries are used up", 60_000, async () => {
      const again = await pageOf("calls", callId);
      const notes = again ? callouts(again) : [];
      return notes[0]?.includes("stopped retrying") ? notes : undefined;
    });
    expect(givenUp).toMatch(/^Recording 1 is unavailable: .*404.*The sync has stopped retrying it\.\nAn operator can try again with POST \/admin\/media\/retry/);

    await sandbox.json(`${sandbox.openphoneUrl}/_emulator/media/${missing}`, { method: "PUT", body: JSON.stringify({ status: null }) });
    const retried = await sandbox.admin<{ results: { key: string; status: string }[] }>("/admin/media/retry", { method: "POST", body: JSON.stringify({ all: true }) });
    expect(retried.results).toEqual([expect.objectContaining({ key: gone.key, status: "stored" })]);

    const cleared = await waitFor("the note to go", 60_000, async () => {
      const again = await pageOf("calls", callId);
      return again && callouts(again).length === 0 ? again : undefined;
    });
    const link = audioLinks(cleared).find((l) => keyOf(l) === gone.key)!;
    expect(link).toBe(audioLinks(page).find((l) => keyOf(l) === gone.key));
    const stored = (await mediaItems(callId)).find((i) => i.key === gone.key)!;
    expect(stored).toMatchObject({ status: "stored", size: 120_000 });
    await expectPlays(link, stored, "audio/mpeg");

    const metricsAfter = await mediaMetrics();
    const spent = (metricsAfter["media.notion_requests"] ?? 0) - (metricsBefore["media.notion_requests"] ?? 0);
    console.log(`media: a 404ing recording cost ${spent} Notion requests (the note, its rewrite when the retries ran out, its removal); reason recorded: ${gone.reason}`);
    expect(spent).toBe(3);
  }, 300_000);
  it("puts no note on the page when a source fails in a way that passes (503) and the retry stores it", async () => {
    const metricsBefore = await mediaMetrics();
    const { callId } = await createCall({ participant: customers[4]!.phone, direction: "incoming", status: "answered", durationSeconds: 40, recording: { segments: 1, bytes: 80_000 }, transcript: false, summary: false });
    const source = sandbox.openphoneEmulator.store.calls.get(callId)!.recordings[0]!.url!;
    await sandbox.json(`${sandbox.openphoneUrl}/_emulator/media/${fileIdOf(source)}`, { method: "PUT", body: JSON.stringify({ status: 503 }) });

    const [failed] = await waitFor("the copy to fail with 503", 180_000, async () => {
      const found = await mediaItems(callId);
      return found.length === 1 && found[0]!.status === "unavailable" ? found : undefined;
    });
    expect(failed!.reason).toContain("503");
    // The page was written with its link; an alarm later it still shows no note (a 404 gets one at once).
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const page = (await pageOf("calls", callId))!;
    expect(audioLinks(page)).toHaveLength(1);
    expect(callouts(page)).toEqual([]);

    await sandbox.json(`${sandbox.openphoneUrl}/_emulator/media/${fileIdOf(source)}`, { method: "PUT", body: JSON.stringify({ status: null }) });
    const retried = await sandbox.admin<{ results: { key: string; status: string }[] }>("/admin/media/retry", { method: "POST", body: JSON.stringify({ all: true }) });
    expect(retried.results).toEqual([expect.objectContaining({ key: failed!.key, status: "stored" })]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(callouts((await pageOf("calls", callId))!)).toEqual([]);
    const spent = ((await mediaMetrics())["media.notion_requests"] ?? 0) - (metricsBefore["media.notion_requests"] ?? 0);
    console.log(`media: a recording whose source answered 503 once cost ${spent} Notion requests`);
    expect(spent).toBe(0);
  }, 300_000);
});
