/**
 * `/admin/flags`: the runtime flags (src/flags/registry.ts).
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /admin/flags` | 200 `{flags: [{name, value, source, default, var, kv, kind, about, problem}], changes: [...], lines: [{id, number, name, state, reason}]}`: every flag, the latest changes, and each line as the line filter treats it (`synced`, `skipped`, or `not yet seen` for a filter entry no known line matches) |
 * | `PUT /admin/flags` | body `{"COALESCE_MS": "0", "SKIP_LINES": null}` (null removes the override). 200 `{changes, flags}`; 400 naming each malformed value, nothing applied |
 *
 * A change is recorded in D1 (`flag_changes`) with when and what, and who by the `X-Changed-By` header
 * (`dashboard`, else `admin-api`). Other isolates see it within a minute.
 */
import { Hono } from "hono";
import { readFlagChanges } from "../db/flag-changes";
import { getConfig } from "../config";
import { listKnownLines } from "../db/lines";
import { getFlags, reportFlags, updateFlags } from "../flags/flags";
import { lineFilterOf, lineVerdict, skipReason, unmatchedEntries } from "../line-filter/filter";
import { readBodyWithLimit } from "./body-limit";

const MAX_FLAGS_BODY_BYTES = 64 * 1024;

export const flagsAdmin = new Hono<{ Bindings: Env }>()
  .get("/", async (c) => {
    const [flags, changes, known] = await Promise.all([reportFlags(c.env), readFlagChanges(c.env.DB), listKnownLines(c.env.DB)]);
    const filter = lineFilterOf(await getFlags(c.env), getConfig(c.env).config.DEFAULT_REGION);
    const lines = [
      ...known.map((line) => {
        const verdict = lineVerdict(filter, line);
        // Undecided: its number is not known yet, and the intake syncs such a line rather than drop its events.
        const state = verdict === "skipped" ? "skipped" : "synced";
        return { id: line.id, number: line.number, name: line.name, state, reason: verdict === "skipped" ? skipReason(filter, line) : verdict === "undecided" ? "number not known yet" : null };
      }),
      ...unmatchedEntries(filter, known).map(({ list, entry }) => ({ id: entry.id ?? null, number: entry.number ?? null, name: null, state: "not yet seen", reason: `${list} names ${entry.text}; no line of it has been seen` })),
    ];
    return c.json({ flags, changes, lines }, 200, { "Cache-Control": "no-store" });
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
