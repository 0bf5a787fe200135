/**
 * Serving stored media for the links in Notion: `GET|HEAD /media/<key>?sig=…[&exp=…]` answers with the recording,
 * voicemail or MMS file from R2.
 *
 * The signature is checked before anything else, so an unsigned request learns nothing about what exists. Objects
 * never change once written, so a response may be cached for a long time, but only privately (the link is a secret)
 * and not beyond the link's expiry. `Range` lets players seek without downloading the whole file.
 */
import type { Config } from "../config";
import { verifyMediaSignature } from "./links";

const YEAR_SECONDS = 365 * 86_400;

/** The answer to a request for `/media/<key>`. */
export async function serveMedia(bucket: R2Bucket, config: Config, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const key = keyFromPath(url.pathname);
  const sig = url.searchParams.get("sig");
  const exp = url.searchParams.get("exp");
  const now = Date.now();
  if (!key || !(await verifyMediaSignature(config, key, sig, exp, now))) return refusal(403, "forbidden", "This media link is invalid, was revoked or has expired");

  const read = await readObject(bucket, key, request.headers);
  if (read.kind === "missing") return refusal(404, "not_found", "No media is stored under this link yet");
  const { object } = read;
  const headers = new Headers({
    "Accept-Ranges": "bytes",
    "Content-Type": object.httpMetadata?.contentType ?? "application/octet-stream",
    ETag: object.httpEtag,
    "Last-Modified": object.uploaded.toUTCString(),
    "Cache-Control": `private, max-age=${maxAge(exp, now)}, immutable`,
    "Content-Disposition": `inline; filename="${key.split("/").pop()}"`,
  });
  if (read.kind === "current") return new Response(null, { status: 304, headers });

  if (read.kind === "unsatisfiable") return notSatisfiable(headers, object.size);
  const slice = sliceOf(read.object, read.range);
  if (slice === "unsatisfiable") {
    await read.object.body.cancel();
    return notSatisfiable(headers, object.size);
  }
  const { body } = read.object;
  headers.set("Content-Length", String(slice ? slice.length : object.size));
  if (slice) headers.set("Content-Range", `bytes ${slice.offset}-${slice.offset + slice.length - 1}/${object.size}`);
  const status = slice ? 206 : 200;
  if (request.method === "HEAD") {
    await body.cancel();
    return new Response(null, { status, headers });
  }
  return new Response(body, { status, headers });
}

type Read =
  | { kind: "missing" }
  /** A revalidation header held: the client's copy is current (a 304). */
  | { kind: "current"; object: R2Object }
  | { kind: "unsatisfiable"; object: R2Object }
  /** `range`: the Range header R2 resolved, or null when the whole file was read. */
  | { kind: "body"; object: R2ObjectBody; range: string | null };

/**
 * One R2 read for the request's Range and revalidation headers, which R2 resolves and checks itself. Two cases take
 * a second call:
 * - R2 does not read If-Range. One that names another version (rare: objects never change) gets the whole file, as
 *   the RFC asks.
 * - Deployed R2 throws for a range that starts past the end (10039), where the local one answers with the whole
 *   object; the 416 must name the size, so a `head` follows.
 */
async function readObject(bucket: R2Bucket, key: string, headers: Headers): Promise<Read> {
  let object: R2Object | R2ObjectBody | null;
  try {
    object = await bucket.get(key, { range: headers, onlyIf: revalidation(headers) });
  } catch (error) {
    if (!(error instanceof Error && error.message.includes("(10039)"))) throw error;
    const head = await bucket.head(key);
    return head ? { kind: "unsatisfiable", object: head } : { kind: "missing" };
  }
  if (!object) return { kind: "missing" };
  // A condition that did not hold leaves the object without a body.
  if (!("body" in object)) return { kind: "current", object };
  const range = headers.get("Range");
  const ifRange = headers.get("If-Range");
  if (range === null || ifRange === null || ifRange === object.httpEtag) return { kind: "body", object, range };
  await object.body.cancel();
  const whole = await bucket.get(key);
  return whole ? { kind: "body", object: whole, range: null } : { kind: "missing" };
}

/**
 * The conditions R2 checks: If-None-Match and If-Modified-Since, whose failure is a 304. If-Match and
 * If-Unmodified-Since are left out (their failure would be a 412, which the bodiless object R2 answers with cannot
 * be told apart from a 304), and so is an If-None-Match that is not a list of quoted ETags, which the binding throws
 * on: it is ignored instead.
 */
function revalidation(headers: Headers): Headers {
  const conditions = new Headers();
  const etags = headers.get("If-None-Match");
  if (etags !== null && ETAG_LIST.test(etags)) conditions.set("If-None-Match", etags);
  const since = headers.get("If-Modified-Since");
  if (since !== null) conditions.set("If-Modified-Since", since);
  return conditions;
}

const ETAG_LIST = /^\s*(\*|(W\/)?"[^"]*"(\s*,\s*(W\/)?"[^"]*")*)\s*$/;

/**
 * The part of the file to send (null: all of it, as a 200). R2 resolves a single range (`bytes=N-M`, `bytes=N-`,
 * `bytes=-N`) to an offset and length, but answers every other Range with the whole object, and reports a range even
 * when none was asked for. A whole object for a Range is therefore told apart here: a single range that covers the
 * whole file is still a 206; one that starts past the end (or asks for the last 0 bytes) is unsatisfiable; anything
 * else (several ranges, a reversed or malformed one) is ignored, as the RFC allows.
 */
function sliceOf(object: R2Object, rangeHeader: string | null): { offset: number; length: number } | "unsatisfiable" | null {
  if (rangeHeader === null) return null;
  const size = object.size;
  // The binding's range object carries all three fields, those not in play undefined.
  const range = object.range as { offset?: number; length?: number; suffix?: number } | undefined;
  const offset = range?.suffix !== undefined ? size - range.suffix : (range?.offset ?? 0);
  const length = range?.suffix !== undefined ? range.suffix : (range?.length ?? size - offset);
  if (offset > 0 || length < size) return { offset, length };
  const single = rangeHeader.trim().match(/^bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i);
  if (!single || (single[1] === "" && single[2] === "")) return null;
  const [, first, last] = single;
  if (first === "") return Number(last) === 0 || size === 0 ? "unsatisfiable" : { offset: 0, length: size };
  if (Number(first) >= size) return "unsatisfiable";
  return last !== "" && Number(last) < Number(first) ? null : { offset: 0, length: size };
}

function notSatisfiable(headers: Headers, size: number): Response {
  headers.set("Content-Range", `bytes */${size}`);
  headers.delete("Content-Type");
  return new Response(null, { status: 416, headers });
}

function refusal(status: 403 | 404, error: string, message: string): Response {
  return Response.json({ error, message }, { status, headers: { "Cache-Control": "no-store" } });
}

/** `/media/recordings/2026/01/02/AC…/CR….mp3` → `recordings/2026/01/02/AC…/CR….mp3`; null for a malformed path. */
function keyFromPath(pathname: string): string | null {
  const rest = pathname.replace(/^\/media\/?/, "");
  if (!rest) return null;
  try {
    const segments = rest.split("/").map(decodeURIComponent);
    if (segments.some((s) => s === "" || s === "." || s === "..")) return null;
    return segments.join("/");
  } catch {
    return null;
  }
}

function maxAge(exp: string | null, now: number): number {
  if (exp === null) return YEAR_SECONDS;
  return Math.max(0, Math.min(YEAR_SECONDS, Number(exp) - Math.floor(now / 1000)));
}
