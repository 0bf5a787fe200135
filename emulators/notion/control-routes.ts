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
import type http from "node:http";
import { dumpWorkspace } from "./dump.ts";
import { sendJson } from "./json-response.ts";
import type { EmulatorState } from "./server.ts";
import { Stats } from "./traffic.ts";

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

export function workspaceSummary(state: EmulatorState): Record<string, unknown> {
  return { rootPageId: state.ws.rootPageId, botUserId: state.ws.bot.id, ...(state.demo ?? {}) };
}

export function handleControl(state: EmulatorState, req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer): void {
  if (!LOOPBACK.has(req.socket.remoteAddress ?? "")) {
    sendJson(res, 403, { error: "the control API answers loopback callers only" });
    return;
  }
  const key = `${req.method} ${url.pathname.replace(/\/$/, "")}`;
  switch (key) {
    case "POST /_emulator/reset":
      state.reset();
      return sendJson(res, 200, { ok: true, ...workspaceSummary(state) });
    case "GET /_emulator/config":
      return sendJson(res, 200, state.config);
    case "PUT /_emulator/config":
    case "PATCH /_emulator/config": {
      let update: unknown;
      try {
        update = JSON.parse(body.toString("utf8") || "{}");
        return sendJson(res, 200, state.configure(update));
      } catch (error) {
        return sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
      }
    }
    case "GET /_emulator/stats":
      return sendJson(res, 200, state.stats.toJSON());
    case "DELETE /_emulator/stats":
      state.stats = new Stats();
      state.journal = [];
      return sendJson(res, 200, state.stats.toJSON());
    case "GET /_emulator/requests":
      return sendJson(res, 200, { requests: state.journal });
    case "GET /_emulator/workspace":
      return sendJson(res, 200, workspaceSummary(state));
    case "GET /_emulator/dump":
      return sendJson(res, 200, { ...workspaceSummary(state), ...dumpWorkspace(state.ws) });
    default:
      return sendJson(res, 404, { error: `no control route ${key}` });
  }
}
