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
import { parseRange } from "./range";

const YEAR_SECONDS = 365 * 86_400;

/** The answer to a request for `/media/<key>`. */
export async function serveMedia(bucket: R2Bucket, config: Config, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const key = keyFromPath(url.pathname);
  const sig = url.searchParams.get("sig");
  const exp = url.searchParams.get("exp");
  const now = Date.now();
  if (!key || !(await verifyMediaSignature(config, key, sig, exp, now))) return refusal(403, "forbidden", "This media link is invalid, was revoked or has expired");

  const head = await bucket.head(key);
  if (!head) return refusal(404, "not_found", "No media is stored under this link yet");

  const headers = new Headers({
    "Accept-Ranges": "bytes",
    "Content-Type": head.httpMetadata?.contentType ?? "application/octet-stream",
    ETag: head.httpEtag,
    "Last-Modified": head.uploaded.toUTCString(),
    "Cache-Control": `private, max-age=${maxAge(exp, now)}, immutable`,
    "Content-Disposition": `inline; filename="${key.split("/").pop()}"`,
  });

  if (matchesEtag(request.headers.get("If-None-Match"), head.httpEtag)) return new Response(null, { status: 304, headers });

  const ifRange = request.headers.get("If-Range");
  const range = ifRange && ifRange !== head.httpEtag ? ({ kind: "none" } as const) : parseRange(request.headers.get("Range"), head.size);
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${head.size}`);
    headers.delete("Content-Type");
    return new Response(null, { status: 416, headers });
  }

  const status = range.kind === "range" ? 206 : 200;
  const length = range.kind === "range" ? range.length : head.size;
  headers.set("Content-Length", String(length));
  if (range.kind === "range") headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`);
  if (request.method === "HEAD") return new Response(null, { status, headers });

  const object = await bucket.get(key, range.kind === "range" ? { range: { offset: range.offset, length: range.length } } : {});
  // Deleted between head and get.
  if (!object) return refusal(404, "not_found", "No media is stored under this link");
  return new Response(object.body, { status, headers });
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

function matchesEtag(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((candidate) => {
    const value = candidate.trim();
    return value === "*" || value === etag || value === `W/${etag}`;
  });
}
