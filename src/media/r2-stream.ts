/**
 * Writing a stream into R2 without holding it in memory. R2 `put` needs to know a stream's length up front, so:
 * - a known length (the source sent Content-Length) goes straight to `put` through a `FixedLengthStream`, which also
 *   fails the write if the source sends fewer or more bytes than it announced;
 * - an unknown length (chunked transfer) goes through a multipart upload, holding one part in memory at a time.
 *
 * Either way the object appears whole or not at all: `put` and `complete` are atomic, and a failed multipart upload
 * is aborted. So an object that exists under a key is always a complete copy.
 */

/**
 * Size of every multipart part but the last. R2 needs at least 5 MiB and equal sizes; the minimum keeps the one part
 * held in memory small (a Worker has 128 MB), and 10,000 parts of it still allow 50 GB.
 */
export const MULTIPART_PART_BYTES = 5 * 1024 * 1024;

export interface StoredStream {
  size: number;
  /** How the bytes were written, for logs and tests. */
  via: "put" | "multipart" | "buffered";
  parts: number;
}

export async function putStream(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  length: number | null,
  options: R2PutOptions,
  partBytes = MULTIPART_PART_BYTES,
  stall?: StallGuard,
): Promise<StoredStream> {
  if (length !== null) {
    const object = await bucket.put(key, body.pipeThrough(new FixedLengthStream(length)), options);
    if (!object) throw new Error(`R2 refused to write ${key}`);
    return { size: object.size, via: "put", parts: 1 };
  }
  return putChunked(bucket, key, body, options, partBytes, stall);
}

/**
 * The rollback to streaming (`MEDIA_STREAMING_ENABLED` off): the whole body is read into memory, then written with
 * one put. A body shorter or longer than its Content-Length fails, as the streamed put does.
 */
export async function putBuffered(bucket: R2Bucket, key: string, response: Response, length: number | null, options: R2PutOptions): Promise<StoredStream> {
  const bytes = await response.arrayBuffer();
  if (length !== null && bytes.byteLength !== length) throw new Error(`the download sent ${bytes.byteLength} bytes, not the ${length} it announced`);
  const object = await bucket.put(key, bytes, options);
  if (!object) throw new Error(`R2 refused to write ${key}`);
  return { size: object.size, via: "buffered", parts: 1 };
}

async function putChunked(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  options: R2PutOptions,
  partBytes: number,
  stall?: StallGuard,
): Promise<StoredStream> {
  const source = new PartReader(body, stall);
  let upload: R2MultipartUpload | undefined;
  const uploaded: R2UploadedPart[] = [];
  let part = new Uint8Array(partBytes);
  try {
    for (;;) {
      const { bytes, done } = await source.fill(part);
      part = new Uint8Array(bytes.buffer as ArrayBuffer);
      if (!upload && done) {
        // Shorter than one part: a plain put of what was read (multipart needs at least one full part).
        const object = await bucket.put(key, bytes, options);
        if (!object) throw new Error(`R2 refused to write ${key}`);
        return { size: object.size, via: "put", parts: 1 };
      }
      upload ??= await bucket.createMultipartUpload(key, options);
      // The part buffer is reused for the next part only after R2 has taken this one.
      if (bytes.byteLength > 0) uploaded.push(await upload.uploadPart(uploaded.length + 1, bytes));
      if (done) break;
    }
    const object = await upload.complete(uploaded);
    return { size: object.size, via: "multipart", parts: uploaded.length };
  } catch (error) {
    await source.cancel();
    if (upload) await upload.abort().catch(() => undefined);
    throw error;
  } finally {
    source.release();
  }
}

/**
 * Fills a part buffer from a stream. A byte stream (a fetch body) is read with a BYOB reader straight into the part,
 * so no chunk is allocated per read and a long copy leaves no garbage behind; other streams are copied chunk by chunk.
 */
/**
 * Gives up a chunked body that moves no bytes for `ms` (the source stopped sending): `onStall` is told (to abort the
 * download) and the read fails. Checked at each read, which the chunked path makes in JavaScript anyway; a body of
 * known length is piped natively and bounded by the caller's deadline instead.
 */
export interface StallGuard {
  ms: number;
  onStall(reason: Error): void;
}

class PartReader {
  private readonly byob?: ReadableStreamBYOBReader;
  private readonly chunks?: ReadableStreamDefaultReader<Uint8Array>;
  private leftover?: Uint8Array;

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly stall?: StallGuard,
  ) {
    try {
      this.byob = body.getReader({ mode: "byob" });
    } catch {
      this.chunks = body.getReader();
    }
  }

  /** Reads until `part` is full or the stream ends. `bytes` views the filled prefix (its buffer may be a new one). */
  async fill(part: Uint8Array): Promise<{ bytes: Uint8Array; done: boolean }> {
    let buffer = part.buffer as ArrayBuffer;
    const size = part.byteLength;
    let filled = 0;
    while (filled < size) {
      if (this.byob) {
        const { done, value } = await this.guarded(this.byob.read(new Uint8Array(buffer, filled, size - filled)));
        // The read transfers the buffer; keep using the one it hands back.
        if (value) {
          buffer = value.buffer as ArrayBuffer;
          filled += value.byteLength;
        }
        if (done) return { bytes: new Uint8Array(buffer, 0, filled), done: true };
      } else {
        const chunk = this.leftover ?? (await this.guarded(this.chunks!.read())).value;
        this.leftover = undefined;
        if (!chunk) return { bytes: new Uint8Array(buffer, 0, filled), done: true };
        const take = Math.min(size - filled, chunk.byteLength);
        new Uint8Array(buffer).set(chunk.subarray(0, take), filled);
        filled += take;
        if (take < chunk.byteLength) this.leftover = chunk.subarray(take);
      }
    }
    return { bytes: new Uint8Array(buffer, 0, filled), done: false };
  }

  private async guarded<T>(read: Promise<T>): Promise<T> {
    const stall = this.stall;
    if (!stall) return read;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const reason = new Error(`the download moved no bytes for ${Math.round(stall.ms / 1000)} s`);
        stall.onStall(reason);
        reject(reason);
      }, stall.ms);
    });
    try {
      return await Promise.race([read, stalled]);
    } finally {
      clearTimeout(timer);
    }
  }

  async cancel(): Promise<void> {
    await (this.byob ?? this.chunks)?.cancel().catch(() => undefined);
  }

  release(): void {
    (this.byob ?? this.chunks)?.releaseLock();
  }
}
