/**
 * The Notion API emulator as an HTTP server: `/v1/...` for the API (auth, version, rate limit, latency and faults in
 * front of the routes), `/_emulator/...` for tests and the sandbox (loopback only, never limited), and `/` for the
 * viewer. `startNotionEmulator` is what tests and `main.ts` call.
 */
import { randomUUID } from "node:crypto";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getPath } from "hono/utils/url";
import { apiRoutes, runRoute, type Route } from "./api-routes.ts";
import { controlRoutes } from "./control-routes.ts";
import { buildDemoData, type DemoWorkspace } from "./demo-data.ts";
import { errorBody, NotionApiError, validationError } from "./errors.ts";
import { isRecord } from "./rich-text.ts";
import { Chaos, DEFAULT_CONFIG, type EmulatorConfig, mergeConfig, RateLimiter, Stats, takeScriptedFault } from "./traffic.ts";
import { viewerRoutes } from "./viewer/routes.ts";
import { discardBody, json, listen, type NodeBindings } from "../shared/hono.ts";
import type { JournalEntry } from "./journal.ts";
import { StateFile } from "../shared/state-file.ts";
import { Workspace, type WorkspaceSnapshot } from "./workspace.ts";

export const KNOWN_VERSIONS = ["2021-05-13", "2021-08-16", "2022-02-22", "2022-06-28", "2025-09-03", "2026-03-11"];
export const MAX_PAYLOAD_BYTES = 500_000;
/** Bodies beyond this are not read at all (the edge refuses them before the API sees them). */
const MAX_READ_BYTES = 5_000_000;

export interface NotionEmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  token?: string;
  seed?: number;
  demoData?: boolean;
  /** Partial configuration applied over the defaults (3 req/s, burst 10, no latency, no faults, no lag). */
  config?: unknown;
  /**
   * The workspace clock (page times, query lag), `Date.now` by default. A test of waits measured in minutes (query
   * lag, the product's wait for a page to show) moves it forward instead of sleeping.
   */
  now?: () => number;
  /**
   * Keep the workspace (databases, pages, blocks, id generator, demo ids) in this JSON file: loaded at start when it
   * exists, saved shortly after every change and on `close()`. The configuration and counters are not kept.
   */
  stateFile?: string;
}

/** What `stateFile` holds. */
export interface SavedNotionState {
  workspace: WorkspaceSnapshot;
  demo: DemoWorkspace | null;
}

/** Everything a running emulator holds; `reset()` rebuilds the workspace and zeroes the counters. */
export class EmulatorState {
  ws!: Workspace;
  demo: DemoWorkspace | null = null;
  config: EmulatorConfig = DEFAULT_CONFIG;
  readonly limiter = new RateLimiter();
  readonly chaos: Chaos;
  stats = new Stats();
  /** The latest API requests (`GET /_emulator/requests`), oldest first, at most `JOURNAL_SIZE`. */
  journal: JournalEntry[] = [];

  constructor(
    readonly token: string,
    readonly seed: number,
    readonly demoData: boolean,
    readonly now: () => number = Date.now,
  ) {
    this.chaos = new Chaos(seed);
    this.reset();
  }

  reset(): void {
    this.ws = new Workspace({ seed: this.seed, now: this.now });
    this.demo = this.demoData ? buildDemoData(this.ws, this.seed) : null;
    // After the demo data, so the workspace a user starts with is visible to queries at once.
    this.ws.queryLagMs = this.config.queryLagMs;
    this.stats = new Stats();
    this.journal = [];
    this.limiter.reset();
    this.chaos.reset();
  }

  /** Continues from a saved workspace (the counters and limiter start fresh, as after a restart). */
  restore(saved: SavedNotionState): void {
    this.ws = new Workspace({ seed: this.seed, restore: saved.workspace });
    this.demo = saved.demo;
    this.ws.queryLagMs = this.config.queryLagMs;
  }

  saved(): SavedNotionState {
    return { workspace: this.ws.snapshot(), demo: this.demo };
  }

  configure(update: unknown): EmulatorConfig {
    const previous = this.config;
    this.config = mergeConfig(this.config, update);
    // A new limit starts with full buckets, so a test or benchmark that sets it is not charged for earlier traffic.
    if (JSON.stringify(previous.rateLimit) !== JSON.stringify(this.config.rateLimit)) this.limiter.reset();
    this.ws.queryLagMs = this.config.queryLagMs;
    return this.config;
  }
}


const JOURNAL_SIZE = 2000;

export interface NotionEmulator {
  url: string;
  rootPageId: string;
  demo: DemoWorkspace | null;
  state: EmulatorState;
  close(): Promise<void>;
}

export async function startNotionEmulator(options: NotionEmulatorOptions = {}): Promise<NotionEmulator> {
  const state = new EmulatorState(options.token ?? "sandbox-notion-token", options.seed ?? 42, options.demoData ?? false, options.now);
  if (options.config !== undefined) state.configure(options.config);
  let persisted: StateFile<SavedNotionState> | undefined;
  if (options.stateFile) {
    const saved = StateFile.read<SavedNotionState>(options.stateFile);
    if (saved) state.restore(saved);
    persisted = new StateFile(options.stateFile, () => state.saved());
    persisted.changed();
  }
  const listening = await listen(notionApp(state, persisted && (() => persisted.changed())), options.port ?? 0, options.host ?? "127.0.0.1");
  return {
    url: listening.url,
    get rootPageId() {
      return state.ws.rootPageId;
    },
    get demo() {
      return state.demo;
    },
    state,
    close: () => listening.close().finally(() => persisted?.flush()),
  };
}

/**
 * The whole emulator as one Hono app: `/_emulator/...` (the control API), `/v1/...` (the API) and the viewer for
 * everything else. Every body is read (up to MAX_READ_BYTES) before any route runs, so a body too large is refused
 * before the token is checked. `changed` runs once each answer to a request that is not a GET has gone out.
 */
export function notionApp(state: EmulatorState, changed?: () => void): Hono<NodeBindings> {
  // The control API takes its paths with or without one trailing slash (`/_emulator/reset/` is the reset).
  const app = new Hono<NodeBindings>({ getPath: (request) => getPath(request).replace(/^(\/_emulator\/.+?)\/$/, "$1") });
  if (changed) {
    app.use(async (c, next) => {
      // Every change to the workspace arrives as a request that is not a GET (API writes, control reset).
      if (c.req.method !== "GET" && c.req.method !== "HEAD") c.env.outgoing.once("finish", changed);
      await next();
    });
  }
  app.use(
    bodyLimit({
      maxSize: MAX_READ_BYTES,
      onError: async (c) => {
        await discardBody(c);
        return json(c, 413, { object: "error", status: 413, code: "validation_error", message: `Request body too large: the limit is ${MAX_READ_BYTES} bytes.` });
      },
    }),
  );
  app.route("/", controlRoutes(state));
  app.route("/", apiRoutes((c, route) => handleApi(state, c, route)));
  app.route("/", viewerRoutes(state));
  app.onError((error, c) => {
    console.error("notion emulator: unexpected error", error);
    return json(c, 500, { object: "error", status: 500, code: "internal_server_error", message: "Unexpected error occurred." });
  });
  return app;
}

const FAULTS: Record<number, { code: NotionApiError["code"]; message: string }> = {
  409: { code: "conflict_error", message: "Conflict occurred while saving. Please try again." },
  500: { code: "internal_server_error", message: "Unexpected error occurred." },
  503: { code: "service_unavailable", message: "Public API service is temporarily unavailable, please try again later." },
  504: { code: "gateway_timeout", message: "Gateway timed out." },
  529: { code: "service_overload", message: "Notion is temporarily overloaded. Please try again later." },
  429: { code: "rate_limited", message: "You have been rate limited. Please try again in a few minutes." },
};

/**
 * One `/v1/...` request, in the API's order: latency, token (401), version (400), rate limit (429), an injected fault,
 * then the route (`undefined`: a URL the API does not have, 400 `invalid_request_url`) and its answer.
 */
async function handleApi(state: EmulatorState, c: Context<NodeBindings>, route: Route | undefined): Promise<Response> {
  const method = c.req.method;
  const requestId = randomUUID();
  const operation = route?.operation ?? "unknown";
  const path = new URL(c.req.url).pathname;
  // Read once: the journal keeps a write's JSON, a scripted fault may match on it, the route parses it.
  const raw = Buffer.from(await c.req.arrayBuffer());
  const journal = (status: number) => {
    let body: unknown = null;
    if (method !== "GET" && raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        body = raw.toString("utf8");
      }
    }
    state.journal.push({ operation, method, path, status, body });
    if (state.journal.length > JOURNAL_SIZE) state.journal.splice(0, state.journal.length - JOURNAL_SIZE);
  };
  const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
    state.stats.record(operation, status);
    journal(status);
    return json(c, status, payload, { "x-notion-request-id": requestId, ...headers });
  };
  const fail = (error: NotionApiError, headers: Record<string, string> = {}) => send(error.status, errorBody(error, requestId), headers);

  const delay = state.chaos.latency(state.config.latencyMs);
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

  const token = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
  if (token !== state.token) return fail(new NotionApiError(401, "unauthorized", "API token is invalid."));
  const version = c.req.header("notion-version");
  if (version === undefined || version === "") {
    return fail(new NotionApiError(400, "missing_version", "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`."));
  }
  if (!KNOWN_VERSIONS.includes(version)) {
    return fail(validationError(`Notion-Version header failed validation: Notion-Version header should be one of ${KNOWN_VERSIONS.map((v) => `"${v}"`).join(", ")}, instead was \`"${version}"\`.`));
  }
  const wait = state.limiter.take(token, state.config.rateLimit);
  if (wait > 0) return fail(new NotionApiError(429, "rate_limited", "You have been rate limited. Please try again in a few minutes."), { "retry-after": String(wait) });

  const fault = takeScriptedFault(state.config.faults, operation, raw.toString("utf8")) ?? state.chaos.fault(state.config.faults, method !== "GET");
  const sendFault = (status: number) => {
    state.stats.faultsInjected++;
    if (status === 502) {
      state.stats.record(operation, 502);
      journal(502);
      const html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";
      return c.body(html, 502, { "content-type": "text/html", "cf-ray": `${requestId.slice(0, 16).replace(/-/g, "")}-SJC` });
    }
    const known = FAULTS[status]!;
    return fail(new NotionApiError(status, known.code, known.message), status === 529 || status === 429 ? { "retry-after": "1" } : {});
  };
  if (fault?.hangMs) await new Promise((resolve) => setTimeout(resolve, fault.hangMs));
  if (fault && !fault.afterWrite) return sendFault(fault.status);

  if (!route) return fail(new NotionApiError(400, "invalid_request_url", "Invalid request URL."));
  let result: unknown;
  try {
    if (raw.length > MAX_PAYLOAD_BYTES) throw validationError(`body failed validation: body.length should be ≤ \`${MAX_PAYLOAD_BYTES}\` bytes, instead was \`${raw.length}\`.`);
    let body: Record<string, unknown> = {};
    if (raw.length > 0 && method !== "GET") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString("utf8"));
      } catch {
        throw new NotionApiError(400, "invalid_json", "Error parsing JSON body.");
      }
      if (!isRecord(parsed)) throw new NotionApiError(400, "invalid_json", "Error parsing JSON body: the body must be a JSON object.");
      body = parsed;
    }
    result = runRoute(route, route.paramNames.map((name) => c.req.param(name) ?? ""), { ws: state.ws, version, body, query: new URL(c.req.url).searchParams });
  } catch (error) {
    if (error instanceof NotionApiError) return fail(error);
    console.error(`notion emulator: ${operation} failed unexpectedly`, error);
    return fail(new NotionApiError(500, "internal_server_error", "Unexpected error occurred."));
  }
  if (fault?.afterWrite) {
    state.stats.faultsAfterWrite++;
    return sendFault(fault.status);
  }
  return send(200, result);
}
