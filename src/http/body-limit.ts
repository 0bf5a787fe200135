/**
 * Reads a request body as raw bytes, up to a limit. A declared Content-Length over the limit is refused without
 * reading anything; a body sent without one (chunked) is refused as soon as it passes the limit, so an oversized
 * request never sits whole in memory.
 */

export type LimitedBody = { ok: true; bytes: Uint8Array } | { ok: false; reason: "too_large"; limit: number };

export async function readBodyWithLimit(request: Request, limit: number): Promise<LimitedBody> {
  const declared = Number(request.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > limit) {
    await request.body?.cancel().catch(() => undefined);
    return { ok: false, reason: "too_large", limit };
  }
  if (!request.body) return { ok: true, bytes: new Uint8Array(0) };

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return { ok: false, reason: "too_large", limit };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}
