/**
 * `/admin/flags`: the runtime flags (src/flags/registry.ts).
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /admin/flags` | 200 `{flags: [{name, value, source, default, var, kv, kind, about, problem}], changes: [...]}`: every flag and the latest changes |
 * | `PUT /admin/flags` | body `{"COALESCE_MS": "0", "SKIP_LINES": null}` (null removes the override). 200 `{changes, flags}`; 400 naming each malformed value, nothing applied |
 *
 * A change is recorded in D1 (`flag_changes`) with when and what, and who by the `X-Changed-By` header
 * (`dashboard`, else `admin-api`). Other isolates see it within a minute.
 */
import { Hono } from "hono";
import { readFlagChanges } from "../db/flag-changes";
import { reportFlags, updateFlags } from "../flags/flags";
import { readBodyWithLimit } from "./body-limit";

const MAX_FLAGS_BODY_BYTES = 64 * 1024;

export const flagsAdmin = new Hono<{ Bindings: Env }>()
  .get("/", async (c) => {
    const [flags, changes] = await Promise.all([reportFlags(c.env), readFlagChanges(c.env.DB)]);
    return c.json({ flags, changes }, 200, { "Cache-Control": "no-store" });
  })
  .put("/", async (c) => {
    const body = await readBodyWithLimit(c.req.raw, MAX_FLAGS_BODY_BYTES);
    if (!body.ok) return c.json({ error: "payload_too_large", message: "The body is larger than 64 KiB" }, 413);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body.bytes));
    } catch (error) {
      return c.json({ error: "bad_request", message: `The body is not JSON: ${error instanceof Error ? error.message : String(error)}` }, 400);
    }
    const changedBy = c.req.header("X-Changed-By") === "dashboard" ? "dashboard" : "admin-api";
    const result = await updateFlags(c.env, parsed, changedBy);
    if (!result.ok) {
      const message = `Nothing was changed: ${result.errors.map((e) => (e.name ? `${e.name}: ${e.error}` : e.error)).join("; ")}`;
      return c.json({ error: "invalid_flags", message, errors: result.errors }, 400);
    }
    return c.json({ changes: result.changes, flags: result.flags }, 200);
  });
