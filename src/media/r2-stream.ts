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
 * Size of every multipart part but the last. R2 needs at least 5 MiB and equal sizes; 8 MiB keeps the part count of a
 * long recording low while staying small next to the Worker's 128 MB.
 */
export const MULTIPART_PART_BYTES = 8 * 1024 * 1024;

export interface StoredStream {
  size: number;
  /** How the bytes were written, for logs and tests. */
  via: "put" | "multipart";
  parts: number;
}

export async function putStream(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  length: number | null,
  options: R2PutOptions,
  partBytes = MULTIPART_PART_BYTES,
): Promise<StoredStream> {
  if (length !== null) {
    const object = await bucket.put(key, body.pipeThrough(new FixedLengthStream(length)), options);
    if (!object) throw new Error(`R2 refused to write ${key}`);
    return { size: object.size, via: "put", parts: 1 };
  }
  return putChunked(bucket, key, body, options, partBytes);
}

async function putChunked(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  options: R2PutOptions,
  partBytes: number,
): Promise<StoredStream> {
  const reader = body.getReader();
  const part = new Uint8Array(partBytes);
  let filled = 0;
  let upload: R2MultipartUpload | undefined;
  const uploaded: R2UploadedPart[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let offset = 0;
      while (offset < value.byteLength) {
        const take = Math.min(partBytes - filled, value.byteLength - offset);
        part.set(value.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === partBytes) {
          upload ??= await bucket.createMultipartUpload(key, options);
          // The part buffer is reused for the next part only after R2 has taken this one.
          uploaded.push(await upload.uploadPart(uploaded.length + 1, part));
          filled = 0;
        }
      }
    }
    if (!upload) {
      // Shorter than one part: a plain put of what was read (multipart needs at least one full part).
      const object = await bucket.put(key, part.subarray(0, filled), options);
      if (!object) throw new Error(`R2 refused to write ${key}`);
      return { size: object.size, via: "put", parts: 1 };
    }
    if (filled > 0) uploaded.push(await upload.uploadPart(uploaded.length + 1, part.subarray(0, filled)));
    const object = await upload.complete(uploaded);
    return { size: object.size, via: "multipart", parts: uploaded.length };
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (upload) await upload.abort().catch(() => undefined);
    throw error;
  } finally {
    reader.releaseLock();
  }
}
