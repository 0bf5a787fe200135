/**
 * `GET|HEAD /media/<key>?sig=…[&exp=…]`: recordings, voicemails and MMS media from R2, for the links in Notion.
 *
 * The signature is checked before anything else, so an unsigned request learns nothing about what exists. Objects
 * never change once written, so a response may be cached for a long time, but only privately (the link is a secret)
 * and not beyond the link's expiry. `Range` lets players seek without downloading the whole file.
 */
import { Hono } from "hono";
import { getConfig } from "../config";
import { verifyMediaSignature } from "../media/links";
import { parseRange } from "../media/range";

const YEAR_SECONDS = 365 * 86_400;

export const mediaApp = new Hono<{ Bindings: Env }>().get("/*", async (c) => {
  const key = keyFromPath(new URL(c.req.url).pathname);
  const sig = c.req.query("sig") ?? null;
  const exp = c.req.query("exp") ?? null;
  const now = Date.now();
  if (!key || !(await verifyMediaSignature(getConfig(c.env).config, key, sig, exp, now))) {
    return c.json({ error: "forbidden", message: "This media link is invalid, was revoked or has expired" }, 403, { "Cache-Control": "no-store" });
  }

  const head = await c.env.MEDIA.head(key);
  if (!head) return c.json({ error: "not_found", message: "No media is stored under this link yet" }, 404, { "Cache-Control": "no-store" });

  const headers = new Headers({
    "Accept-Ranges": "bytes",
    "Content-Type": head.httpMetadata?.contentType ?? "application/octet-stream",
    ETag: head.httpEtag,
    "Last-Modified": head.uploaded.toUTCString(),
    "Cache-Control": `private, max-age=${maxAge(exp, now)}, immutable`,
    "Content-Disposition": `inline; filename="${key.split("/").pop()}"`,
  });

  if (matchesEtag(c.req.header("If-None-Match"), head.httpEtag)) return new Response(null, { status: 304, headers });

  const ifRange = c.req.header("If-Range");
  const range = ifRange && ifRange !== head.httpEtag ? ({ kind: "none" } as const) : parseRange(c.req.header("Range"), head.size);
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${head.size}`);
    headers.delete("Content-Type");
    return new Response(null, { status: 416, headers });
  }

  const status = range.kind === "range" ? 206 : 200;
  const length = range.kind === "range" ? range.length : head.size;
  headers.set("Content-Length", String(length));
  if (range.kind === "range") headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`);
  if (c.req.method === "HEAD") return new Response(null, { status, headers });

  const object = await c.env.MEDIA.get(key, range.kind === "range" ? { range: { offset: range.offset, length: range.length } } : {});
  // Deleted between head and get.
  if (!object) return c.json({ error: "not_found", message: "No media is stored under this link" }, 404, { "Cache-Control": "no-store" });
  return new Response(object.body, { status, headers });
});

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

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((candidate) => {
    const value = candidate.trim();
    return value === "*" || value === etag || value === `W/${etag}`;
  });
}
