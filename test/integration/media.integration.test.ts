import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { mediaItemsOf } from "../../src/db/media-items";
import { copyMediaItems, type MediaCopyResult } from "../../src/media/copy";
import { linkMediaItems, planCallMedia, type MediaItem } from "../../src/media/plan";
import { MULTIPART_PART_BYTES, putStream } from "../../src/media/r2-stream";
import { retryPendingMedia } from "../../src/media/retry";
import worker from "../../src/index";
import { firstMismatch, mediaBytes } from "../fixtures/media-bytes";

const source = env.MEDIA_SOURCE_BASE;

/** Length of a body and where it first departs from the test source's bytes for `name` from `offset` (-1: nowhere). */
async function sliceOf(body: { arrayBuffer(): Promise<ArrayBuffer> }, name: string, offset: number) {
  const bytes = new Uint8Array(await body.arrayBuffer());
  return { length: bytes.length, mismatch: firstMismatch(name, offset, bytes) };
}
const settings = {
  OPENPHONE_API_KEY: "op-test-key-media",
  OPENPHONE_API_BASE: source,
  NOTION_TOKEN: "secret_media_test_token",
  ADMIN_TOKEN: "admin-token-media-tests",
  MEDIA_SIGNING_KEYS: "media-signing-key-current-0001",
  MEDIA_CONCURRENCY: "3",
  MEDIA_RETRY_LIMIT: "3",
};
const config = loadConfig({ ...env, ...settings }).config;
const BASE = "https://sync.example.com";

function fileUrl(name: string, size: number, extra = ""): string {
  return `${source}/files/${name}?size=${size}${extra}`;
}

async function control(path: string, body?: unknown): Promise<{ count?: number; max?: number }> {
  const response = await fetch(`${source}${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  return response.json();
}

const requestsFor = async (name: string) => (await control(`/control/counts?path=/files/${name}`)).count ?? 0;

function recording(id: string, name: string, size: number, duration: number) {
  return { id, url: fileUrl(name, size), type: "audio/mpeg", status: "completed" as const, duration, startTime: "2026-03-04T10:00:00Z" };
}

/** The Worker's own fetch with the settings a deployment would have. */
function request(path: string, init: RequestInit = {}, overrides: Record<string, string> = {}) {
  return worker.fetch(new Request(`http://worker${path}`, init), { ...env, ...settings, ...overrides }, createExecutionContext());
}

const threeSegments = {
  call: { id: "ACthreeseg01", createdAt: "2026-03-04T10:00:00Z" },
  recordings: [recording("CRseg1", "seg1.mp3", 300_000, 20), recording("CRseg2", "seg2.mp3", 1_200_000, 75), recording("CRseg3", "seg3.mp3", 50_000, 3)],
};

describe("copying a call's media into R2", () => {
  it("stores 3 recording segments and a missed call's voicemail under their keys, with metadata", async () => {
    const items = planCallMedia(threeSegments.call, threeSegments.recordings, null);
    const results = await copyMediaItems(env, config, items);
    expect(results.map((r) => r.status)).toEqual(["stored", "stored", "stored"]);

    // The missed call goes through the admin API, which lists the call, its recordings and its voicemail.
    await control("/control/calls/ACmissedvm01", {
      call: { id: "ACmissedvm01", createdAt: "2026-03-05T23:59:00Z" },
      recordings: [],
      voicemail: { id: "VMmissed01", status: "completed", duration: 12, transcript: "Call me back", recordingUrl: fileUrl("vm1.mp3", 80_000) },
    });
    const response = await request("/admin/media/calls/ACmissedvm01", { method: "POST", headers: { Authorization: `Bearer ${settings.ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
    const body = await response.json<{ links: { key: string; url: string }[]; results: { status: string }[] }>();
    expect(body.results.map((r) => r.status)).toEqual(["stored"]);
    expect(body.links[0]!.url).toMatch(/^http:\/\/worker\/media\/voicemails\/2026\/03\/05\/ACmissedvm01\.mp3\?sig=[\w-]+$/);

    const listed = await env.MEDIA.list({ include: ["httpMetadata", "customMetadata"] });
    const ours = listed.objects.filter((o) => /ACthreeseg01|ACmissedvm01/.test(o.key));
    expect(ours.map((o) => [o.key, o.size]).sort()).toEqual([
      ["recordings/2026/03/04/ACthreeseg01/CRseg1.mp3", 300_000],
      ["recordings/2026/03/04/ACthreeseg01/CRseg2.mp3", 1_200_000],
      ["recordings/2026/03/04/ACthreeseg01/CRseg3.mp3", 50_000],
      ["voicemails/2026/03/05/ACmissedvm01.mp3", 80_000],
    ]);
    const seg2 = ours.find((o) => o.key.endsWith("CRseg2.mp3"))!;
    expect(seg2.httpMetadata?.contentType).toBe("audio/mpeg");
    expect(seg2.customMetadata).toEqual({ kind: "recording", callId: "ACthreeseg01", recordingId: "CRseg2", durationSeconds: "75", source: `${source}/files/seg2.mp3` });
    const voicemail = ours.find((o) => o.key.startsWith("voicemails/"))!;
    expect(voicemail.customMetadata).toEqual({ kind: "voicemail", callId: "ACmissedvm01", voicemailId: "VMmissed01", durationSeconds: "12", source: `${source}/files/vm1.mp3` });

    const stored = await env.MEDIA.get("recordings/2026/03/04/ACthreeseg01/CRseg2.mp3");
    expect(await sliceOf(stored!, "seg2.mp3", 0)).toEqual({ length: 1_200_000, mismatch: -1 });
    expect((await mediaItemsOf(env.DB, "ACthreeseg01")).map((r) => [r.status, r.size, r.attempts])).toEqual([
      ["stored", 300_000, 0],
      ["stored", 1_200_000, 0],
      ["stored", 50_000, 0],
    ]);
  });

  it("does not download again what is already in R2", async () => {
    const items = planCallMedia({ id: "ACidem01", createdAt: "2026-03-06T08:00:00Z" }, [recording("CRidem", "idem.mp3", 200_000, 9)], null);
    expect((await copyMediaItems(env, config, items))[0]!.status).toBe("stored");
    const before = await requestsFor("idem.mp3");
    const again = await copyMediaItems(env, config, items);
    expect(again[0]).toMatchObject({ status: "already_stored", size: 200_000 });
    expect(await requestsFor("idem.mp3")).toBe(before);
    expect(before).toBe(1);
  });

  it("streams a 30 MB source with no Content-Length through a multipart upload, whole", async () => {
    const size = 30 * 1024 * 1024;
    const item: MediaItem = {
      kind: "recording",
      key: "recordings/2026/03/07/ACchunked01/CRchunked.mp3",
      sourceUrl: fileUrl("chunked.mp3", size, "&chunked=1"),
      contentType: "audio/mpeg",
      resourceId: "ACchunked01",
      mediaId: "CRchunked",
      durationSeconds: 1800,
    };
    const [result] = await copyMediaItems(env, config, [item]);
    expect(result).toMatchObject({ status: "stored", size, via: "multipart" });
    const object = await env.MEDIA.get(item.key);
    expect(object?.size).toBe(size);
    expect(await sliceOf(object!, "chunked.mp3", 0)).toEqual({ length: size, mismatch: -1 });
  }, 60_000);

  it("with MEDIA_STREAMING_ENABLED off reads each file whole, then stores it with one put: the same bytes", async () => {
    const rollback = { ...env, MEDIA_STREAMING_ENABLED: "false" } as Env;
    const items: MediaItem[] = [
      { kind: "recording", key: "recordings/2026/03/08/ACbuffered01/CRbuf1.mp3", sourceUrl: fileUrl("buf1.mp3", 6 * 1024 * 1024), contentType: "audio/mpeg", resourceId: "ACbuffered01", mediaId: "CRbuf1", durationSeconds: 300 },
      { kind: "recording", key: "recordings/2026/03/08/ACbuffered01/CRbuf2.mp3", sourceUrl: fileUrl("buf2.mp3", 6 * 1024 * 1024, "&chunked=1"), contentType: "audio/mpeg", resourceId: "ACbuffered01", mediaId: "CRbuf2", durationSeconds: 300 },
    ];
    const results = await copyMediaItems(rollback, config, items);
    expect(results.map((r) => [r.status, "via" in r ? r.via : undefined])).toEqual([["stored", "buffered"], ["stored", "buffered"]]);
    for (const [item, name] of [[items[0]!, "buf1.mp3"], [items[1]!, "buf2.mp3"]] as const) {
      const object = await env.MEDIA.get(item.key);
      expect(await sliceOf(object!, name, 0)).toEqual({ length: 6 * 1024 * 1024, mismatch: -1 });
    }
    // On (the default), the chunked one goes through a multipart upload.
    await env.MEDIA.delete(items[1]!.key);
    expect((await copyMediaItems(env, config, [items[1]!]))[0]).toMatchObject({ status: "stored", via: "multipart" });
  }, 60_000);

  it("gives up a download that stops sending in the middle, stores nothing, and says why", async () => {
    const size = 3 * 1024 * 1024;
    const stalled = (name: string, extra: string): MediaItem => ({
      kind: "recording",
      key: `recordings/2026/03/07/ACstalled01/${name}.mp3`,
      sourceUrl: fileUrl(`${name}.mp3`, size, `&stall=${256 * 1024}${extra}`),
      contentType: "audio/mpeg",
      resourceId: "ACstalled01",
      mediaId: name,
      durationSeconds: 180,
    });
    // Chunked: no bytes for the stall time. Known length: past the deadline its size sets at the slowest pace.
    const chunked = stalled("CRstalledChunked", "&chunked=1");
    const known = stalled("CRstalledKnown", "");
    const [a, b] = await copyMediaItems(env, config, [chunked, known], { stallMs: 1500, minBytesPerSecond: 10 * 1024 * 1024 });
    expect(a).toMatchObject({ status: "unavailable", transient: true, reason: expect.stringMatching(/moved no bytes for 2 s/) });
    expect(b).toMatchObject({ status: "unavailable", transient: true, reason: expect.stringMatching(/did not finish within 2 s/) });
    expect(await env.MEDIA.head(chunked.key)).toBeNull();
    expect(await env.MEDIA.head(known.key)).toBeNull();
    // Their retries would stall again: out of the way of the retry tests below.
    await env.DB.prepare("DELETE FROM media_items WHERE resource_id = 'ACstalled01'").run();
  }, 60_000);

  it("copies a plain (non-byte) stream of uneven chunks through multipart, whole", async () => {
    const size = 11 * 1024 * 1024 + 12_345;
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= size) return controller.close();
        const length = Math.min(size - offset, 70_001);
        controller.enqueue(mediaBytes("plain.bin", offset, length));
        offset += length;
      },
    });
    const stored = await putStream(env.MEDIA, "media/2026/03/07/ACplain01/0.bin", stream, null, {}, MULTIPART_PART_BYTES);
    expect(stored).toEqual({ size, via: "multipart", parts: 3 });
    expect(await sliceOf((await env.MEDIA.get("media/2026/03/07/ACplain01/0.bin"))!, "plain.bin", 0)).toEqual({ length: size, mismatch: -1 });
  }, 60_000);

  it("stores nothing when a source breaks off before its Content-Length", async () => {
    const items = planCallMedia({ id: "ACcut01", createdAt: "2026-03-07T09:00:00Z" }, [recording("CRcut", "cut.mp3", 500_000, 5)], null);
    items[0]!.sourceUrl += "&cut=200000";
    const [result] = await copyMediaItems(env, config, items);
    expect(result).toMatchObject({ status: "unavailable" });
    expect(result?.status === "unavailable" && result.reason).toMatch(/^copy failed: /);
    expect(await env.MEDIA.head(items[0]!.key)).toBeNull();
  });

  it("copies at most MEDIA_CONCURRENCY files at once", async () => {
    const two = loadConfig({ ...env, ...settings, MEDIA_CONCURRENCY: "2" }).config;
    const call = { id: "ACconc01", createdAt: "2026-03-07T10:00:00Z" };
    const items = planCallMedia(call, [1, 2, 3, 4, 5, 6].map((n) => recording(`CRconc${n}`, `conc${n}.mp3`, 10_000, 1)), null);
    for (const item of items) item.sourceUrl += "&delay=150";
    await control("/control/inflight");
    const results = await copyMediaItems(env, two, items);
    expect(results.map((r) => r.status)).toEqual(Array(6).fill("stored"));
    expect(await control("/control/inflight")).toEqual({ max: 2 });
  });

  it("lists the recordings again when a download URL has expired, and uses the fresh one", async () => {
    const stale = recording("CRstale", "stale.mp3", 40_000, 4);
    stale.url = fileUrl("stale.mp3", 40_000, "&token=old");
    await control("/control/fail", { path: "/files/stale.mp3?size=40000&token=old", status: 403 });
    await control("/control/calls/ACstale01", {
      call: { id: "ACstale01", createdAt: "2026-03-08T08:00:00Z" },
      recordings: [{ ...stale, url: fileUrl("stale.mp3", 40_000, "&token=new") }],
      voicemail: null,
    });
    const items = planCallMedia({ id: "ACstale01", createdAt: "2026-03-08T08:00:00Z" }, [stale], null);
    const [result] = await copyMediaItems(env, config, items);
    expect(result).toMatchObject({ status: "stored", size: 40_000 });
    expect(result!.item.sourceUrl).toContain("token=new");
    expect((await control("/control/counts?path=/v1/call-recordings/ACstale01")).count).toBe(1);
  });

  it("records a source that 404s as unavailable with the reason, and the retry stores it once the source serves again", async () => {
    const call = { id: "ACgone01", createdAt: "2026-03-09T08:00:00Z" };
    await control("/control/fail", { path: "/files/gone.mp3", status: 404 });
    await control("/control/calls/ACgone01", { call, recordings: [recording("CRgone", "gone.mp3", 60_000, 6)], voicemail: null });
    const items = planCallMedia(call, [recording("CRgone", "gone.mp3", 60_000, 6)], null);
    const [result] = await copyMediaItems(env, config, items);
    expect(result).toMatchObject({ status: "unavailable", reason: "source answered 404 Not Found, also at the fresh URL OpenPhone listed" });
    const [row] = await mediaItemsOf(env.DB, "ACgone01");
    expect(row).toMatchObject({ status: "unavailable", attempts: 1, reason: "source answered 404 Not Found, also at the fresh URL OpenPhone listed" });
    expect(row!.nextAttemptAt).toBeGreaterThan(Date.now());
    expect(await env.MEDIA.head(items[0]!.key)).toBeNull();

    // Not due yet: nothing happens.
    const ofGone = (results: MediaCopyResult[]) => results.filter((r) => r.item.resourceId === "ACgone01");
    expect(ofGone(await retryPendingMedia(env, config))).toEqual([]);
    // Due, source still missing: a second attempt, still unavailable.
    const later = () => Date.now() + 6 * 60_000;
    expect(ofGone(await retryPendingMedia(env, config, { now: later }))).toMatchObject([{ status: "unavailable" }]);
    expect((await mediaItemsOf(env.DB, "ACgone01"))[0]).toMatchObject({ attempts: 2 });

    await control("/control/fail", { path: "/files/gone.mp3", status: null });
    const retried = ofGone(await retryPendingMedia(env, config, { now: () => Date.now() + 3_600_000 }));
    expect(retried.map((r) => [r.item.key, r.status])).toEqual([[items[0]!.key, "stored"]]);
    expect((await env.MEDIA.head(items[0]!.key))?.size).toBe(60_000);
    expect((await mediaItemsOf(env.DB, "ACgone01"))[0]).toMatchObject({ status: "stored", reason: null, nextAttemptAt: null, size: 60_000 });
  });

  it("stops retrying after MEDIA_RETRY_LIMIT retries", async () => {
    const strict = loadConfig({ ...env, ...settings, MEDIA_RETRY_LIMIT: "1" }).config;
    await control("/control/fail", { path: "/files/never.mp3", status: 404 });
    const items = planCallMedia({ id: "ACnever01", createdAt: "2026-03-10T08:00:00Z" }, [recording("CRnever", "never.mp3", 1000, 1)], null);
    await copyMediaItems(env, strict, items, { client: undefined });
    expect((await mediaItemsOf(env.DB, "ACnever01"))[0]!.nextAttemptAt).not.toBeNull();
    await retryPendingMedia(env, strict, { now: () => Date.now() + 3_600_000 });
    expect((await mediaItemsOf(env.DB, "ACnever01"))[0]).toMatchObject({ status: "unavailable", attempts: 2, nextAttemptAt: null });
    const later = await retryPendingMedia(env, strict, { now: () => Date.now() + 100 * 3_600_000 });
    expect(later.filter((r) => r.item.resourceId === "ACnever01")).toEqual([]);
    // An operator's retry of everything (`POST /admin/media/retry {"all": true}`) still takes it, and stores it once
    // the source serves again; the automatic retries stay used up.
    const asked = { dueBy: Number.MAX_SAFE_INTEGER, includeExhausted: true };
    expect((await retryPendingMedia(env, strict, asked)).filter((r) => r.item.resourceId === "ACnever01")).toMatchObject([{ status: "unavailable" }]);
    expect((await mediaItemsOf(env.DB, "ACnever01"))[0]).toMatchObject({ status: "unavailable", attempts: 3, nextAttemptAt: null });
    await control("/control/fail", { path: "/files/never.mp3", status: null });
    expect((await retryPendingMedia(env, strict, asked)).filter((r) => r.item.resourceId === "ACnever01")).toMatchObject([{ status: "stored" }]);
  });
});

describe("GET /media/<key>", () => {
  const key = "recordings/2026/03/11/ACplay01/CRplay.mp3";
  const size = 100_000;

  async function storedLink(overrides: Record<string, string> = {}): Promise<string> {
    const linkConfig = loadConfig({ ...env, ...settings, ...overrides }).config;
    if (!(await env.MEDIA.head(key))) {
      const items = planCallMedia({ id: "ACplay01", createdAt: "2026-03-11T08:00:00Z" }, [recording("CRplay", "play.mp3", size, 10)], null);
      await copyMediaItems(env, config, items);
    }
    const [linked] = await linkMediaItems(linkConfig, BASE, [{ ...planCallMedia({ id: "ACplay01", createdAt: "2026-03-11T08:00:00Z" }, [recording("CRplay", "play.mp3", size, 10)], null)[0]! }]);
    return linked!.url.slice(BASE.length);
  }

  it("returns the bytes with type, length, ETag and private long-lived caching, and 304 to a client whose copy is current", async () => {
    const path = await storedLink();
    const response = await request(path);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("audio/mpeg");
    expect(response.headers.get("Content-Length")).toBe(String(size));
    expect(response.headers.get("Accept-Ranges")).toBe("bytes");
    expect(response.headers.get("ETag")).toMatch(/^".+"$/);
    expect(response.headers.get("Cache-Control")).toBe("private, max-age=31536000, immutable");
    expect(await sliceOf(response, "play.mp3", 0)).toEqual({ length: size, mismatch: -1 });

    const head = await request(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Length")).toBe(String(size));
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const again = await request(path, { headers: { "If-None-Match": response.headers.get("ETag")! } });
    expect(again.status).toBe(304);
    expect(again.headers.get("ETag")).toBe(response.headers.get("ETag"));
    expect((await request(path, { headers: { "If-None-Match": `W/${response.headers.get("ETag")!}` } })).status).toBe(304);
    expect((await request(path, { headers: { "If-None-Match": '"another-version"' } })).status).toBe(200);
    // Not a list of quoted ETags: ignored, not an error.
    expect((await request(path, { headers: { "If-None-Match": "unquoted" } })).status).toBe(200);
    expect((await request(path, { headers: { "If-Modified-Since": response.headers.get("Last-Modified")! } })).status).toBe(304);
    expect((await request(path, { headers: { "If-Modified-Since": new Date(Date.parse(response.headers.get("Last-Modified")!) - 60_000).toUTCString() } })).status).toBe(200);
  });

  it("answers a Range with 206 and exactly that slice, 416 beyond the end, and the whole file for what it cannot honour", async () => {
    const path = await storedLink();
    const ranged = await request(path, { headers: { Range: "bytes=1000-1999" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("Content-Range")).toBe(`bytes 1000-1999/${size}`);
    expect(ranged.headers.get("Content-Length")).toBe("1000");
    expect(await sliceOf(ranged, "play.mp3", 1000)).toEqual({ length: 1000, mismatch: -1 });

    const tail = await request(path, { headers: { Range: "bytes=-500" } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("Content-Range")).toBe(`bytes ${size - 500}-${size - 1}/${size}`);
    expect(await sliceOf(tail, "play.mp3", size - 500)).toEqual({ length: 500, mismatch: -1 });

    const open = await request(path, { headers: { Range: `bytes=${size - 10}-` } });
    expect(open.status).toBe(206);
    expect((await open.arrayBuffer()).byteLength).toBe(10);

    const beyond = await request(path, { headers: { Range: `bytes=${size}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("Content-Range")).toBe(`bytes */${size}`);
    expect(beyond.headers.get("Content-Type")).toBeNull();
    const none = await request(path, { headers: { Range: "bytes=-0" } });
    expect([none.status, none.headers.get("Content-Range")]).toEqual([416, `bytes */${size}`]);

    // A range that covers the whole file is still a 206; several ranges or a reversed one get the whole file.
    for (const whole of ["bytes=0-", `bytes=-${size * 2}`, `bytes=0-${size + 5}`]) {
      const answer = await request(path, { headers: { Range: whole } });
      expect([whole, answer.status, answer.headers.get("Content-Range")]).toEqual([whole, 206, `bytes 0-${size - 1}/${size}`]);
      expect((await answer.arrayBuffer()).byteLength).toBe(size);
    }
    for (const ignored of ["bytes=0-9,20-29", "bytes=50-10", "items=0-9"]) {
      const answer = await request(path, { headers: { Range: ignored } });
      expect([ignored, answer.status, answer.headers.get("Content-Range")]).toEqual([ignored, 200, null]);
      expect(await sliceOf(answer, "play.mp3", 0)).toEqual({ length: size, mismatch: -1 });
    }

    const headRange = await request(path, { method: "HEAD", headers: { Range: "bytes=100-199" } });
    expect([headRange.status, headRange.headers.get("Content-Length"), headRange.headers.get("Content-Range")]).toEqual([206, "100", `bytes 100-199/${size}`]);
    expect((await headRange.arrayBuffer()).byteLength).toBe(0);

    // If-Range: the slice for the stored version, the whole file for another.
    const etag = ranged.headers.get("ETag")!;
    const sameVersion = await request(path, { headers: { Range: "bytes=10-19", "If-Range": etag } });
    expect([sameVersion.status, sameVersion.headers.get("Content-Range")]).toEqual([206, `bytes 10-19/${size}`]);
    await sameVersion.arrayBuffer();
    const otherVersion = await request(path, { headers: { Range: "bytes=10-19", "If-Range": '"another-version"' } });
    expect(otherVersion.status).toBe(200);
    expect(await sliceOf(otherVersion, "play.mp3", 0)).toEqual({ length: size, mismatch: -1 });
  });

  it("refuses a tampered signature, a signature for another key and an expired link with 403", async () => {
    const path = await storedLink();
    const sig = new URL(path, BASE).searchParams.get("sig")!;
    const flipped = sig.slice(0, -1) + (sig.endsWith("A") ? "B" : "A");
    expect((await request(path.replace(sig, flipped))).status).toBe(403);
    expect((await request(path.replace("CRplay.mp3", "CRother.mp3"))).status).toBe(403);
    expect((await request(path.split("?")[0]!)).status).toBe(403);

    const expiring = await storedLink({ MEDIA_LINK_TTL_SECONDS: "60" });
    expect(expiring).toMatch(/&exp=\d+$/);
    const ok = await request(expiring);
    expect(ok.status).toBe(200);
    expect(Number(ok.headers.get("Cache-Control")?.match(/max-age=(\d+)/)?.[1])).toBeLessThanOrEqual(60);
    const exp = Number(new URL(expiring, BASE).searchParams.get("exp"));
    const past = expiring.replace(`exp=${exp}`, `exp=${exp - 3600}`);
    expect((await request(past)).status).toBe(403);
    // A genuinely expired link: signed for an expiry that has passed.
    const { mediaUrl } = await import("../../src/media/links");
    const realNow = Date.now;
    Date.now = () => realNow() - 7200_000;
    let expired: string;
    try {
      expired = (await mediaUrl(loadConfig({ ...env, ...settings, MEDIA_LINK_TTL_SECONDS: "60" }).config, key, BASE)).slice(BASE.length);
    } finally {
      Date.now = realNow;
    }
    expect((await request(expired)).status).toBe(403);
  });

  it("keeps links working after a new key is added first, and revokes them when their key is removed", async () => {
    const path = await storedLink();
    const rotated = { MEDIA_SIGNING_KEYS: `media-signing-key-next-0002,${settings.MEDIA_SIGNING_KEYS}` };
    expect((await request(path, {}, rotated)).status).toBe(200);
    const newLink = await storedLink(rotated);
    expect(newLink).not.toBe(path);
    expect((await request(newLink, {}, rotated)).status).toBe(200);
    const removed = { MEDIA_SIGNING_KEYS: "media-signing-key-next-0002" };
    expect((await request(path, {}, removed)).status).toBe(403);
    expect((await request(newLink, {}, removed)).status).toBe(200);
  });

  it("answers 404 for a signed link whose object is not stored (yet)", async () => {
    const [linked] = await linkMediaItems(config, BASE, planCallMedia({ id: "ACnotyet01", createdAt: "2026-03-12T08:00:00Z" }, [recording("CRnotyet", "notyet.mp3", 10, 1)], null));
    const response = await request(linked!.url.slice(BASE.length));
    expect(response.status).toBe(404);
  });
});

describe("admin media API", () => {
  it("refuses requests without the admin token", async () => {
    expect((await request("/admin/media/retry", { method: "POST" })).status).toBe(401);
    expect((await request("/admin/media/retry", { method: "POST", headers: { Authorization: "Bearer wrong-token" } })).status).toBe(401);
    const ok = await request("/admin/media/retry", { method: "POST", headers: { Authorization: `Bearer ${settings.ADMIN_TOKEN}` } });
    expect(ok.status).toBe(200);
  });
});
