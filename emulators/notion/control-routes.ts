/**
 * `/_emulator/...`: the control API for tests and the sandbox. Loopback callers only, no token, never rate limited,
 * never counted in the stats.
 *
 *   POST /_emulator/reset       a fresh workspace (and demo data when started with it), counters at zero
 *   GET  /_emulator/config      the current configuration
 *   PUT  /_emulator/config      a partial update: {rateLimit, latencyMs, faults, queryLagMs}; `faults.script` lists
 *                               faults for the next matching requests ({operation, status, afterWrite, hangMs,
 *                               bodyContains}), each used once
 *   GET  /_emulator/stats       request counts by operation and status, 429s, injected faults
 *   DELETE /_emulator/stats     counters back to zero (the data stays), the request journal emptied
 *   GET  /_emulator/requests    the latest API requests (at most 2000), oldest first: operation, method, path, status
 *                               and a write's JSON body
 *   GET  /_emulator/workspace   root page, demo Canvas and Mail database and data source ids
 *   GET  /_emulator/dump        every database, data source (with schema) and page (properties and content)
 */
import { Hono } from "hono";
import { dumpWorkspace } from "./dump.ts";
import type { EmulatorState } from "./server.ts";
import { Stats } from "./traffic.ts";
import { fromLoopback, json, type NodeBindings } from "../shared/hono.ts";

/** Every path under `/_emulator/` (not `/_emulator` itself, which is the viewer's). */
const CONTROL = "/_emulator/:path{.*}";

export function workspaceSummary(state: EmulatorState): Record<string, unknown> {
  return { rootPageId: state.ws.rootPageId, botUserId: state.ws.bot.id, ...(state.demo ?? {}) };
}

/** `METHOD /path` of a request, for the 404 of a route the control API does not have. */
const routeOf = (method: string, url: string) => `${method} ${new URL(url).pathname.replace(/\/$/, "")}`;

export function controlRoutes(state: EmulatorState): Hono<NodeBindings> {
  const control = new Hono<NodeBindings>();
  control.use(CONTROL, async (c, next) => {
    if (!fromLoopback(c)) return json(c, 403, { error: "the control API answers loopback callers only" });
    // Hono would answer a HEAD with the GET route; the control API has no HEAD routes.
    if (c.req.method === "HEAD") return json(c, 404, { error: `no control route ${routeOf(c.req.method, c.req.url)}` });
    await next();
  });
  control.post("/_emulator/reset", (c) => {
    state.reset();
    return json(c, 200, { ok: true, ...workspaceSummary(state) });
  });
  control.get("/_emulator/config", (c) => json(c, 200, state.config));
  control.on(["PUT", "PATCH"], "/_emulator/config", async (c) => {
    try {
      const update: unknown = JSON.parse((await c.req.text()) || "{}");
      return json(c, 200, state.configure(update));
    } catch (error) {
      return json(c, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  });
  control.get("/_emulator/stats", (c) => json(c, 200, state.stats.toJSON()));
  control.delete("/_emulator/stats", (c) => {
    state.stats = new Stats();
    state.journal = [];
    return json(c, 200, state.stats.toJSON());
  });
  control.get("/_emulator/requests", (c) => json(c, 200, { requests: state.journal }));
  control.get("/_emulator/workspace", (c) => json(c, 200, workspaceSummary(state)));
  control.get("/_emulator/dump", (c) => json(c, 200, { ...workspaceSummary(state), ...dumpWorkspace(state.ws) }));
  control.all(CONTROL, (c) => json(c, 404, { error: `no control route ${routeOf(c.req.method, c.req.url)}` }));
  return control;
}
