/**
 * The OpenPhone emulator as an HTTP server: the v1 API under `/v1/`, the 2026-03-30 API beside it without the prefix
 * (`/webhooks`, `/calls`, …), media under `/media/`, the control API under `/_emulator/`. `startOpenPhoneEmulator` is what `main.ts`, the sandbox and other test suites use; with `port: 0`
 * it takes a free port and reports its URL.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { handleApiRequest } from "./api-route.ts";
import { handleControlRequest } from "./control-routes.ts";
import { OpenPhoneEmulator, type EmulatorOptions } from "./emulator.ts";
import { errorEnvelope } from "./error-envelope.ts";
import { sendJson } from "./http-io.ts";
import { serveMedia } from "./media.ts";
import { handleQuoRequest, isQuoPath } from "./quo/routes.ts";
import { loadOpenPhoneSpec } from "./spec.ts";
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
  const server = http.createServer((req, res) => {
    if (persisted && req.method !== "GET" && req.method !== "HEAD") res.once("finish", () => emulator.onChange());
    const url = new URL(req.url ?? "/", "http://emulator.local");
    let handling: Promise<void>;
    if (url.pathname === "/_emulator" || url.pathname.startsWith("/_emulator/")) {
      handling = handleControlRequest(emulator, req, res, url);
    } else if (isQuoPath(url.pathname)) {
      handling = handleQuoRequest(emulator, req, res, url);
    } else if (url.pathname.startsWith("/media/")) {
      if (req.method !== "GET" && req.method !== "HEAD") {
        sendJson(res, 405, errorEnvelope(undefined, 405, "Media answers GET and HEAD only"), { allow: "GET, HEAD" });
        return;
      }
      const id = url.pathname.slice("/media/".length).replace(/\.[a-z0-9]+$/i, "");
      handling = serveMedia(req, res, emulator.store.media.get(id), emulator.mediaFaults, emulator.config.media, emulator.stats);
    } else {
      handling = handleApiRequest(emulator, spec, req, res, url);
    }
    handling.catch((error: unknown) => {
      console.error("openphone emulator: request failed", error);
      if (!res.headersSent) sendJson(res, 500, errorEnvelope(undefined, 500, "Internal error in the emulator"));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  emulator.baseUrl = `http://${host}:${address.port}`;
  return {
    url: emulator.baseUrl,
    port: address.port,
    emulator,
    close: async () => {
      emulator.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      persisted?.flush();
    },
  };
}
