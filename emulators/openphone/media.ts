/**
 * Recording, voicemail and MMS files, served the way object storage serves them: `Content-Type`, `Content-Length`,
 * `Accept-Ranges`, `HEAD`, single `Range` requests (206, or 416 when unsatisfiable). The bytes are a pure function of
 * the file id, its type, its size and the offset (a recording is a playable MP3, an image a valid PNG), so any copy can
 * be checked byte for byte with `expectedMediaBytes`. Audio is generated chunk by chunk while streaming (never held in
 * memory), so a 200 MB recording costs the emulator a few chunks of memory; an image (MMS sizes, under 1 MB) is built
 * whole.
 *
 * Switches: `chunked` omits Content-Length; `expired` answers 403 (or 404) as an expired storage URL does; a
 * per-file fault answers a given status for the next N requests, then serves the file again.
 */
import type { Context } from "hono";
import zlib from "node:zlib";
import type { EmulatorConfig, EmulatorStats } from "./config.ts";
import type { MediaFile } from "./model.ts";

const CHUNK_BYTES = 64 * 1024;

export interface MediaFault {
  status: 403 | 404 | 500 | 503;
  /** Requests still to fail; `null` = until cleared. */
  remaining: number | null;
}

function seedOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Pseudo-random bytes of file `id` from `offset`: the part of each file that tells one file from another. */
function noiseBytes(id: string, offset: number, length: number): Buffer {
  const seed = seedOf(id);
  const firstWord = Math.floor(offset / 4);
  const lastWord = Math.ceil((offset + length) / 4);
  const words = new Uint32Array(lastWord - firstWord);
  for (let w = 0; w < words.length; w++) {
    let x = Math.imul((firstWord + w) ^ seed, 0x9e3779b1);
    x ^= x >>> 15;
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    words[w] = x >>> 0;
  }
  return Buffer.from(words.buffer, offset - firstWord * 4, length);
}

/**
 * An MP3 as a player reads it: back-to-back MPEG-1 Layer III frames, 32 kbit/s, 32 kHz, mono, no CRC, so each frame
 * is 144 bytes and 36 ms long and a file of N bytes plays for N / 4000 seconds (the emulator's stated durations use
 * 4000 bytes per second). Each frame's side information is zero (silent granules that use no main data), and the
 * rest of the frame is ancillary data, which decoders skip: the file's own noise goes there.
 */
export const MP3_FRAME_BYTES = 144;
const MP3_HEADER = [0xff, 0xfb, 0x18, 0xc0];
const MP3_SIDE_INFO_END = 4 + 17;

/**
 * A PNG as a browser reads it: a 96 × 64 RGB picture (a gradient whose colours come from the file id), then a private
 * ancillary chunk (`emNs`: lower-case first letter = ancillary, so decoders skip it) holding the file's noise, sized so
 * the whole file is exactly `size` bytes.
 */
const PNG_WIDTH = 96;
const PNG_HEIGHT = 64;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_CHUNK_OVERHEAD = 12;
const MAX_IMAGE_BYTES = 16 * 1024 * 1024;

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(PNG_CHUNK_OVERHEAD + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, "latin1");
  data.copy(chunk, 8);
  chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

function pngPicture(id: string): Buffer[] {
  const seed = seedOf(id);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(PNG_WIDTH, 0);
  header.writeUInt32BE(PNG_HEIGHT, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB (colour type 2), deflate, filter method 0, not interlaced
  const rows = Buffer.alloc(PNG_HEIGHT * (1 + PNG_WIDTH * 3));
  const [r0, g0, b0] = [seed & 0xff, (seed >>> 8) & 0xff, (seed >>> 16) & 0xff];
  for (let y = 0; y < PNG_HEIGHT; y++) {
    const row = y * (1 + PNG_WIDTH * 3); // each row starts with filter type 0 (none)
    for (let x = 0; x < PNG_WIDTH; x++) {
      rows[row + 1 + x * 3] = (r0 + x * 2) & 0xff;
      rows[row + 2 + x * 3] = (g0 + y * 3) & 0xff;
      rows[row + 3 + x * 3] = (b0 + x + y) & 0xff;
    }
  }
  return [PNG_SIGNATURE, pngChunk("IHDR", header), pngChunk("IDAT", zlib.deflateSync(rows, { level: 9 }))];
}

/** The whole PNG of image `id`, `size` bytes long. */
function pngFile(id: string, size: number): Buffer {
  const picture = pngPicture(id);
  const end = pngChunk("IEND", Buffer.alloc(0));
  const fixed = picture.reduce((sum, part) => sum + part.length, 0) + PNG_CHUNK_OVERHEAD + end.length;
  if (size < fixed || size > MAX_IMAGE_BYTES) throw new RangeError(`an emulated image is ${fixed} to ${MAX_IMAGE_BYTES} bytes, not ${size}`);
  return Buffer.concat([...picture, pngChunk("emNs", noiseBytes(id, 0, size - fixed)), end]);
}

/**
 * The bytes of file `id` (`size` bytes in all) from `offset`, `length` long. An `audio/mpeg` file is a valid MP3 and
 * an `image/png` a valid PNG (see above); any other type is the file's noise alone.
 */
export function expectedMediaBytes(id: string, offset: number, length: number, contentType: string, size: number): Buffer {
  if (contentType === "image/png") return pngFile(id, size).subarray(offset, offset + length);
  const bytes = noiseBytes(id, offset, length);
  if (contentType !== "audio/mpeg") return bytes;
  for (let frame = Math.floor(offset / MP3_FRAME_BYTES) * MP3_FRAME_BYTES; frame < offset + length; frame += MP3_FRAME_BYTES) {
    for (let i = 0; i < MP3_SIDE_INFO_END; i++) {
      const at = frame + i - offset;
      if (at >= 0 && at < length) bytes[at] = i < 4 ? MP3_HEADER[i]! : 0;
    }
  }
  return bytes;
}

function storageError(c: Context, status: 403 | 404 | 500 | 503, code: string, message: string): Response {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  return c.body(body, status, { "content-type": "application/xml", "content-length": String(Buffer.byteLength(body)) });
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}

/**
 * The answer to a GET or HEAD of `file`. The body is a stream pulled chunk by chunk as the connection takes it (the
 * server reads the next chunk once the socket has drained), slowed to `bytesPerSecond` when set; the bytes sent are
 * counted when it ends or the client goes away.
 */
export function serveMedia(c: Context, file: MediaFile | undefined, faults: Map<string, MediaFault>, config: EmulatorConfig["media"], stats: EmulatorStats): Response {
  if (!file) {
    stats.countMedia(404, 0);
    return storageError(c, 404, "NoSuchKey", "The specified key does not exist.");
  }
  const fault = faults.get(file.id);
  if (fault) {
    if (fault.remaining !== null && --fault.remaining <= 0) faults.delete(file.id);
    stats.countMedia(fault.status, 0);
    return storageError(c, fault.status, fault.status === 404 ? "NoSuchKey" : fault.status === 403 ? "AccessDenied" : "InternalError", "Injected fault.");
  }
  if (config.expired) {
    stats.countMedia(config.expiredStatus, 0);
    return config.expiredStatus === 404 ? storageError(c, 404, "NoSuchKey", "The specified key does not exist.") : storageError(c, 403, "AccessDenied", "Request has expired");
  }
  const range = parseRange(c.req.header("range"), file.bytes);
  if (range === "unsatisfiable") {
    stats.countMedia(416, 0);
    return c.body(null, 416, { "content-range": `bytes */${file.bytes}`, "content-length": "0" });
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? file.bytes - 1;
  const length = Math.max(0, end - start + 1);
  const headers: Record<string, string> = {
    "content-type": file.contentType,
    "accept-ranges": "bytes",
    etag: `"${file.id}-${file.bytes}"`,
    "cache-control": "private, max-age=0",
  };
  if (!config.chunked) headers["content-length"] = String(length);
  if (range) headers["content-range"] = `bytes ${start}-${end}/${file.bytes}`;
  const status = range ? 206 : 200;
  if (c.req.method === "HEAD") {
    stats.countMedia(status, 0);
    return c.body(null, status, headers);
  }
  // Without a length the body goes out chunked, however small (the server would otherwise measure a short one).
  if (config.chunked) headers["transfer-encoding"] = "chunked";
  const whole = file.contentType === "image/png" ? pngFile(file.id, file.bytes) : undefined;
  let position = start;
  let sent = 0;
  let counted = false;
  const count = () => {
    if (counted) return;
    counted = true;
    stats.countMedia(status, sent);
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (position > end) {
          count();
          controller.close();
          return;
        }
        const size = Math.min(CHUNK_BYTES, end + 1 - position);
        controller.enqueue(whole ? whole.subarray(position, position + size) : expectedMediaBytes(file.id, position, size, file.contentType, file.bytes));
        position += size;
        sent += size;
        if (config.bytesPerSecond > 0) await new Promise((resolve) => setTimeout(resolve, (size / config.bytesPerSecond) * 1000));
      },
      cancel: count,
    },
    { highWaterMark: 0 },
  );
  return c.body(body, status, headers);
}
