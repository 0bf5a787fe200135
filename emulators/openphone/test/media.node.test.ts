/**
 * Recording, voicemail and MMS URLs as a downloader sees them: sizes, HEAD, Range, the chunked and expired switches,
 * and a file that fails and then is served again. Content is checked byte for byte against `expectedMediaBytes`.
 */
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedMediaBytes } from "../media.ts";
import { startHarness, type Harness } from "./harness.ts";

describe("media URLs", () => {
  let harness: Harness;
  let recordingUrl: string;
  let recordingId: string;
  const BYTES = 300_001;

  beforeAll(async () => {
    harness = await startHarness();
    await harness.control("PUT", "/_emulator/config", { timeFactor: 1000 });
    const { callId } = await harness.control<{ callId: string }>("POST", "/_emulator/calls", { status: "answered", recording: { segments: 2, bytes: BYTES } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { data } = (await (await harness.api(`/v1/call-recordings/${callId}`)).json()) as { data: { url: string; status: string }[] };
    expect(data.map((r) => r.status)).toEqual(["paused", "completed"]);
    recordingUrl = data[1]!.url;
    recordingId = /\/media\/([0-9a-f]+)\.mp3$/.exec(recordingUrl)![1]!;
  });
  afterAll(() => harness?.running.close());

  it("serves the configured size with Content-Type and Content-Length, byte for byte", async () => {
    const response = await fetch(recordingUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("audio/mpeg");
    expect(response.headers.get("content-length")).toBe(String(BYTES));
    expect(response.headers.get("accept-ranges")).toBe("bytes");
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.length).toBe(BYTES);
    expect(body.equals(expectedMediaBytes(recordingId, 0, BYTES, "audio/mpeg", BYTES))).toBe(true);
  });

  it("answers HEAD with the headers only", async () => {
    const response = await fetch(recordingUrl, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe(String(BYTES));
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers Range with 206 and the exact slice, suffix ranges too, and 416 past the end", async () => {
    const middle = await fetch(recordingUrl, { headers: { range: "bytes=1001-2002" } });
    expect(middle.status).toBe(206);
    expect(middle.headers.get("content-range")).toBe(`bytes 1001-2002/${BYTES}`);
    expect(middle.headers.get("content-length")).toBe("1002");
    expect(Buffer.from(await middle.arrayBuffer()).equals(expectedMediaBytes(recordingId, 1001, 1002, "audio/mpeg", BYTES))).toBe(true);
    const tail = await fetch(recordingUrl, { headers: { range: "bytes=-7" } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(expectedMediaBytes(recordingId, BYTES - 7, 7, "audio/mpeg", BYTES))).toBe(true);
    const resume = await fetch(recordingUrl, { headers: { range: `bytes=${BYTES - 10}-` } });
    expect(resume.headers.get("content-range")).toBe(`bytes ${BYTES - 10}-${BYTES - 1}/${BYTES}`);
    await resume.arrayBuffer();
    const beyond = await fetch(recordingUrl, { headers: { range: `bytes=${BYTES}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${BYTES}`);
  });

  it("serves without Content-Length when chunked, with the same bytes", async () => {
    await harness.control("PUT", "/_emulator/config", { media: { chunked: true } });
    try {
      const response = await fetch(recordingUrl);
      expect(response.headers.get("content-length")).toBeNull();
      expect(response.headers.get("transfer-encoding")).toBe("chunked");
      const body = Buffer.from(await response.arrayBuffer());
      expect(createHash("sha256").update(body).digest("hex")).toBe(createHash("sha256").update(expectedMediaBytes(recordingId, 0, BYTES, "audio/mpeg", BYTES)).digest("hex"));
    } finally {
      await harness.control("PUT", "/_emulator/config", { media: { chunked: false } });
    }
  });

  it("answers 403, or 404, while URLs are expired", async () => {
    await harness.control("PUT", "/_emulator/config", { media: { expired: true } });
    expect((await fetch(recordingUrl)).status).toBe(403);
    await harness.control("PUT", "/_emulator/config", { media: { expiredStatus: 404 } });
    expect((await fetch(recordingUrl)).status).toBe(404);
    await harness.control("PUT", "/_emulator/config", { media: { expired: false } });
    expect((await fetch(recordingUrl)).status).toBe(200);
  });

  it("fails one file for the next N requests, then serves it again", async () => {
    const fault = await harness.control<{ fault: { status: number; remaining: number } }>("PUT", `/_emulator/media/${recordingId}`, { status: 404, times: 2 });
    expect(fault.fault).toEqual({ status: 404, remaining: 2 });
    expect((await fetch(recordingUrl)).status).toBe(404);
    expect((await fetch(recordingUrl)).status).toBe(404);
    const recovered = await fetch(recordingUrl);
    expect(recovered.status).toBe(200);
    expect((await recovered.arrayBuffer()).byteLength).toBe(BYTES);
    await harness.control("PUT", `/_emulator/media/${recordingId}`, { status: 503 });
    expect((await fetch(recordingUrl)).status).toBe(503);
    await harness.control("PUT", `/_emulator/media/${recordingId}`, { status: null });
    expect((await fetch(recordingUrl, { method: "HEAD" })).status).toBe(200);
  });

  it("serves voicemails and MMS images the same way, and 404 for unknown files", async () => {
    const { callId } = await harness.control<{ callId: string }>("POST", "/_emulator/calls", { voicemail: true });
    const voicemail = (await (await harness.api(`/v1/call-voicemails/${callId}`)).json()) as { data: { recordingUrl: string; status: string } };
    expect(voicemail.data.status).toBe("completed");
    const audio = await fetch(voicemail.data.recordingUrl, { method: "HEAD" });
    expect(audio.status).toBe(200);
    expect(audio.headers.get("content-type")).toBe("audio/mpeg");
    const { messageId } = await harness.control<{ messageId: string }>("POST", "/_emulator/messages", { direction: "incoming", media: 2 });
    const images = [...harness.running.emulator.store.messages.get(messageId)!.media];
    expect(images).toHaveLength(2);
    const image = await fetch(`${harness.url}/media/${images[0]!.id}.png`);
    expect(image.headers.get("content-type")).toBe("image/png");
    const png = Buffer.from(await image.arrayBuffer());
    expect(png.byteLength).toBe(images[0]!.bytes);
    expect(png.equals(expectedMediaBytes(images[0]!.id, 0, images[0]!.bytes, "image/png", images[0]!.bytes))).toBe(true);
    // A valid PNG: the signature, then chunks whose CRCs hold, IHDR first and IEND last, and an IDAT that inflates to
    // 64 rows of a filter byte and 96 RGB pixels.
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    const chunks: { type: string; data: Buffer }[] = [];
    for (let at = 8; at < png.length; ) {
      const length = png.readUInt32BE(at);
      const type = png.toString("latin1", at + 4, at + 8);
      expect(png.readUInt32BE(at + 8 + length)).toBe(zlib.crc32(png.subarray(at + 4, at + 8 + length)));
      chunks.push({ type, data: png.subarray(at + 8, at + 8 + length) });
      at += 12 + length;
    }
    expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", "emNs", "IEND"]);
    expect([chunks[0]!.data.readUInt32BE(0), chunks[0]!.data.readUInt32BE(4)]).toEqual([96, 64]);
    expect(zlib.inflateSync(chunks[1]!.data).length).toBe(64 * (1 + 96 * 3));
    const ranged = await fetch(`${harness.url}/media/${images[0]!.id}.png`, { headers: { Range: "bytes=10-19" } });
    expect(Buffer.from(await ranged.arrayBuffer()).equals(png.subarray(10, 20))).toBe(true);
    expect((await fetch(`${harness.url}/media/0123456789abcdef0123456789abcdef.mp3`)).status).toBe(404);
  });
});
