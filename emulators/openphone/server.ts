/**
 * The OpenPhone emulator as an HTTP server: the v1 API under `/v1/`, the 2026-03-30 API beside it without the prefix
 * (`/webhooks`, `/calls`, …), media under `/media/`, the control API under `/_emulator/`. `startOpenPhoneEmulator` is what `main.ts`, the sandbox and other test suites use; with `port: 0`
 * it takes a free port and reports its URL.
 */
import { Hono } from "hono";
import { getPath } from "hono/utils/url";
import { apiRoutes } from "./api-route.ts";
import { controlRoutes } from "./control-routes.ts";
import { OpenPhoneEmulator, type EmulatorOptions } from "./emulator.ts";
import { errorEnvelope } from "./error-envelope.ts";
import { serveMedia } from "./media.ts";
import { isQuoPath, quoRoutes } from "./quo/routes.ts";
import { loadOpenPhoneSpec, type OpenPhoneSpec } from "./spec.ts";
import { json, listen, type NodeBindings } from "../shared/hono.ts";
import { StateFile } from "../shared/state-file.ts";
import type { StoreSnapshot } from "./store.ts";

export { OpenPhoneEmulator } from "./emulator.ts";
export { expectedMediaBytes } from "./media.ts";
export { openPhoneSignature } from "./webhooks/signature.ts";
export { standardWebhookSignature } from "./quo/signature.ts";

export interface StartOptions extends EmulatorOptions {
  port?: number;
  host?: string;
  /**
   * Keep the store (workspace, calls, texts, conversations, webhooks, media, id generator) in this JSON file: loaded
   * at start when it exists, saved shortly after every change and on `close()`. Not kept: the configuration, the
   * counters, and webhook deliveries still scheduled or being retried when the process stops.
   */
  stateFile?: string;
}

export interface RunningOpenPhoneEmulator {
  /** Base URL, e.g. `http://127.0.0.1:8801` (no trailing slash). */
  url: string;
  port: number;
  /** State, switches and controls (the same operations as the control API). */
  emulator: OpenPhoneEmulator;
  close(): Promise<void>;
}

export async function startOpenPhoneEmulator(options: StartOptions): Promise<RunningOpenPhoneEmulator> {
  const spec = loadOpenPhoneSpec();
  const emulator = new OpenPhoneEmulator(options);
  let persisted: StateFile<StoreSnapshot> | undefined;
  if (options.stateFile) {
    const saved = StateFile.read<StoreSnapshot & { quoWebhooks?: ReturnType<typeof emulator.quoWebhooks.snapshot> }>(options.stateFile);
    if (saved) {
      emulator.store.restore(saved);
      emulator.quoWebhooks.restore(saved.quoWebhooks);
    }
    const file = new StateFile(options.stateFile, () => ({ ...emulator.store.snapshot(), quoWebhooks: emulator.quoWebhooks.snapshot() }));
    emulator.onChange = () => file.changed();
    file.changed();
    persisted = file;
  }
  const listening = await listen(openPhoneApp(emulator, spec, persisted !== undefined), options.port ?? 0, options.host ?? "127.0.0.1");
  emulator.baseUrl = listening.url;
  return {
    url: listening.url,
    port: listening.port,
    emulator,
    close: async () => {
      emulator.stop();
      await listening.close();
      persisted?.flush();
    },
  };
}

/**
 * Paths as the routes match them: the control API ignores trailing slashes (`/_emulator/reset/` is the reset) and the
 * 2026-03-30 API empty segments (`/webhooks/` is `/webhooks`); the v1 API and media take paths as they are.
 */
function routedPath(request: Request): string {
  const path = getPath(request);
  if (path === "/_emulator" || path.startsWith("/_emulator/")) return path.replace(/\/+$/, "");
  if (isQuoPath(path)) return `/${path.split("/").filter(Boolean).join("/")}`;
  return path;
}

/**
 * The emulator as one Hono app: the control API, the 2026-03-30 API, media, and the v1 API for every other path.
 * With `persisting`, every answer to a request that is not a GET tells the emulator something may have changed.
 */
export function openPhoneApp(emulator: OpenPhoneEmulator, spec: OpenPhoneSpec, persisting: boolean): Hono<NodeBindings> {
  const app = new Hono<NodeBindings>({ getPath: routedPath });
  if (persisting) {
    app.use(async (c, next) => {
      if (c.req.method !== "GET" && c.req.method !== "HEAD") c.env.outgoing.once("finish", () => emulator.onChange());
      await next();
    });
  }
  app.route("/", controlRoutes(emulator));
  app.route("/", quoRoutes(emulator));
  app.get("/media/:file{.*}", (c) => {
    const id = c.req.param("file").replace(/\.[a-z0-9]+$/i, "");
    return serveMedia(c, emulator.store.media.get(id), emulator.mediaFaults, emulator.config.media, emulator.stats);
  });
  app.all("/media/:file{.*}", (c) => json(c, 405, errorEnvelope(undefined, 405, "Media answers GET and HEAD only"), { allow: "GET, HEAD" }));
  app.route("/", apiRoutes(emulator, spec));
  app.onError((error, c) => {
    console.error("openphone emulator: request failed", error);
    return json(c, 500, errorEnvelope(undefined, 500, "Internal error in the emulator"));
  });
  return app;
}
