/**
 * Runtime flags through the admin API with the real KV and D1 bindings: values and sources, a change applied whole
 * or refused whole, every change recorded, and the cache that other isolates' reads go through.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { FLAGS_KV_KEY, FLAGS_REREAD_MS, forgetCachedFlags, getFlags } from "../../src/flags/flags";

const ADMIN_TOKEN = "admin-token-for-flag-tests-0123456789";
const testEnv = { ...env, ADMIN_TOKEN, COALESCE_MS: "2500", ALERTS_ENABLED: "perhaps" } as unknown as Env;

async function call(method: string, body?: unknown, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...headers } };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const response = await worker.fetch(new Request("http://worker/admin/flags", init), testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const flag = (flags: { name: string }[], name: string) => flags.find((f) => f.name === name) as Record<string, unknown>;

beforeEach(async () => {
  await env.FLAGS.delete(FLAGS_KV_KEY);
  await env.DB.exec("DELETE FROM flag_changes");
  forgetCachedFlags(testEnv);
});

describe("GET /admin/flags", () => {
  it("lists every flag with its value and whether a default, a var or KV gave it", async () => {
    await env.FLAGS.put(FLAGS_KV_KEY, JSON.stringify({ MEDIA_COPY_ENABLED: "false" }));
    const { status, body } = await call("GET");
    expect(status).toBe(200);
    expect(flag(body.flags, "COALESCE_MS")).toMatchObject({ value: "2500", source: "var", default: "10000", kv: null, problem: null });
    expect(flag(body.flags, "MEDIA_COPY_ENABLED")).toMatchObject({ value: "false", source: "kv", kind: "switch" });
    expect(flag(body.flags, "CANVAS_CREATE_UNKNOWN")).toMatchObject({ value: "false", source: "default" });
    // A malformed var is ignored and said so, never silently taken for something.
    expect(flag(body.flags, "ALERTS_ENABLED")).toMatchObject({ value: "true", source: "default", var: "perhaps" });
    expect(flag(body.flags, "ALERTS_ENABLED").problem).toMatch(/var is malformed/);
  });

  it("needs the admin token", async () => {
    const response = await worker.fetch(new Request("http://worker/admin/flags"), testEnv, createExecutionContext());
    expect(response.status).toBe(401);
  });
});

describe("PUT /admin/flags", () => {
  it("stores an override in KV, records the change in D1 and uses it at once", async () => {
    const { status, body } = await call("PUT", { COALESCE_MS: "0", SYNC_LINES: "PN1, +1 (415) 555-0100" }, { "X-Changed-By": "dashboard" });
    expect(status).toBe(200);
    expect(body.changes).toEqual([
      { name: "COALESCE_MS", from: null, to: "0" },
      { name: "SYNC_LINES", from: null, to: "PN1,+1 (415) 555-0100" },
    ]);
    expect(await env.FLAGS.get(FLAGS_KV_KEY, "json")).toEqual({ COALESCE_MS: "0", SYNC_LINES: "PN1,+1 (415) 555-0100" });
    expect((await getFlags(testEnv)).COALESCE_MS).toBe(0);
    expect((await getFlags(testEnv)).SYNC_LINES).toEqual(["PN1", "+1 (415) 555-0100"]);
    const after = await call("GET");
    expect(flag(after.body.flags, "COALESCE_MS")).toMatchObject({ value: "0", source: "kv" });
    // Newest first; one change's flags in reverse of the order they were given.
    expect(after.body.changes).toEqual([
      expect.objectContaining({ name: "SYNC_LINES", from: null, to: "PN1,+1 (415) 555-0100", changedBy: "dashboard" }),
      expect.objectContaining({ name: "COALESCE_MS", from: null, to: "0", changedBy: "dashboard" }),
    ]);
  });

  it("refuses a change with one malformed value as a whole, naming each problem", async () => {
    await call("PUT", { COALESCE_MS: "500" });
    const { status, body } = await call("PUT", { CANVAS_CREATE_UNKNOWN: "on", COALESCE_MS: "ten seconds", NO_SUCH_FLAG: "1", SKIP_LINES: "PN1,the office" });
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_flags");
    expect(body.errors.map((e: { name: string }) => e.name)).toEqual(["COALESCE_MS", "NO_SUCH_FLAG", "SKIP_LINES"]);
    expect(body.message).toMatch(/^Nothing was changed: COALESCE_MS: expected a whole number from 0 to 600000/);
    // The valid part was not applied either.
    expect(await env.FLAGS.get(FLAGS_KV_KEY, "json")).toEqual({ COALESCE_MS: "500" });
    const { results } = await env.DB.prepare("SELECT name FROM flag_changes").all();
    expect(results).toEqual([{ name: "COALESCE_MS" }]);
  });

  it("refuses a body that is not a JSON object", async () => {
    expect((await call("PUT", "{not json")).status).toBe(400);
    expect((await call("PUT", ["COALESCE_MS"])).body.message).toMatch(/JSON object of flag names/);
    expect((await call("PUT", {})).status).toBe(400);
  });

  it("removes an override with null, so the var applies again", async () => {
    await call("PUT", { COALESCE_MS: 0 });
    const { body } = await call("PUT", { COALESCE_MS: null });
    expect(body.changes).toEqual([{ name: "COALESCE_MS", from: "0", to: null }]);
    expect(flag(body.flags, "COALESCE_MS")).toMatchObject({ value: "2500", source: "var" });
    expect(await env.FLAGS.get(FLAGS_KV_KEY, "json")).toEqual({});
  });
});

describe("getFlags", () => {
  it("keeps what it read for a minute, then reads KV again", async () => {
    const other = { ...testEnv } as Env;
    const start = Date.now();
    expect((await getFlags(other, start)).COALESCE_MS).toBe(2500);
    await env.FLAGS.put(FLAGS_KV_KEY, JSON.stringify({ COALESCE_MS: "0" }));
    expect((await getFlags(other, start + 1_000)).COALESCE_MS).toBe(2500);
    expect((await getFlags(other, Date.now() + FLAGS_REREAD_MS + 1)).COALESCE_MS).toBe(0);
  });

  it("ignores a malformed override written to KV by hand, and says so", async () => {
    await env.FLAGS.put(FLAGS_KV_KEY, JSON.stringify({ COALESCE_MS: "-5", BACKFILL_ENABLED: "false" }));
    const { body } = await call("GET");
    expect(flag(body.flags, "COALESCE_MS")).toMatchObject({ value: "2500", source: "var", kv: "-5" });
    expect(flag(body.flags, "COALESCE_MS").problem).toMatch(/KV override is malformed/);
    expect(flag(body.flags, "BACKFILL_ENABLED")).toMatchObject({ value: "false", source: "kv" });
  });
});
