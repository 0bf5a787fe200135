/**
 * A tiny, deterministic stand-in for OpenPhone's media hosting and the three API calls the media pipeline makes, for
 * tests. It listens on 127.0.0.1 on a free port.
 *
 * - `GET|HEAD /files/<name>?size=N[&type=audio/mpeg][&chunked=1][&delay=ms][&cut=M]`: N bytes of
 *   `mediaBytes(name, …)`, with Content-Length, or chunked (no length) when `chunked=1`; answering after `delay` ms;
 *   dropping the connection after M bytes when `cut` is given; sending M bytes and then nothing more (the connection
 *   held open until the client leaves) when `stall=M` is given.
 * - `GET /control/inflight`: `{ "max": n }`, the most file downloads served at once since the last call (which resets it).
 * - `POST /control/fail` `{ "path": "/files/a.mp3[?query]", "status": 404 | null }`: answer that status for the path
 *   (with or without its query) until cleared with `null`.
 * - `GET /control/counts?path=/files/a.mp3`: `{ "count": n }`, requests seen for that path.
 * - `POST /control/calls/<callId>` `{ call, recordings, voicemail }`: what `GET /v1/calls/<id>`,
 *   `/v1/call-recordings/<id>` and `/v1/call-voicemails/<id>` answer (voicemail null → 404).
 *
 * It is also an alert receiver (a Slack-style incoming webhook), for the alert tests:
 * - `POST /alerts/<name>`: records the JSON body and answers 200 `ok` (or 500 while failures are scripted).
 * - `GET /control/alerts/<name>`: `{ "received": [body, …] }`, every POST to that receiver, oldest first.
 * - `POST /control/alerts/<name>` `{ "failNext": n }`: the next n deliveries to that receiver answer 500.
 * Each test uses a receiver name of its own, so tests running at once never see each other's alerts.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mediaBytes } from "./fixtures/media-bytes.ts";

export interface MediaSourceServer {
  url: string;
  close(): Promise<void>;
}

interface CallFixture {
  call: unknown;
  recordings: unknown[];
  voicemail: unknown | null;
}

const CHUNK = 64 * 1024;

export async function startMediaSourceServer(): Promise<MediaSourceServer> {
  const failures = new Map<string, number>();
  const counts = new Map<string, number>();
  const calls = new Map<string, CallFixture>();
  const inflight = { now: 0, max: 0 };
  const alerts = new Map<string, { received: unknown[]; failNext: number }>();
  const receiver = (name: string) => alerts.get(name) ?? alerts.set(name, { received: [], failNext: 0 }).get(name)!;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
    };
    try {
      if (url.pathname.startsWith("/control/")) {
        const body = req.method === "POST" ? JSON.parse((await readBody(req)) || "{}") : {};
        if (url.pathname === "/control/fail") {
          if (body.status === null) failures.delete(body.path);
          else failures.set(body.path, body.status);
          return json(200, { ok: true });
        }
        if (url.pathname === "/control/inflight") {
          const max = inflight.max;
          inflight.max = inflight.now;
          return json(200, { max });
        }
        const alert = url.pathname.match(/^\/control\/alerts\/([^/]+)$/)?.[1];
        if (alert && req.method === "GET") return json(200, { received: receiver(alert).received });
        if (alert && req.method === "POST") {
          if (!Number.isInteger(body.failNext) || body.failNext < 0) return json(400, { message: "expected { failNext: n }" });
          receiver(alert).failNext = body.failNext;
          return json(200, { ok: true });
        }
        if (url.pathname === "/control/counts") return json(200, { count: counts.get(url.searchParams.get("path") ?? "") ?? 0 });
        const callId = url.pathname.match(/^\/control\/calls\/([^/]+)$/)?.[1];
        if (callId) {
          calls.set(callId, body as CallFixture);
          return json(200, { ok: true });
        }
        return json(404, { message: "unknown control route" });
      }

      const alert = url.pathname.match(/^\/alerts\/([^/]+)$/)?.[1];
      if (alert && req.method === "POST") {
        const target = receiver(alert);
        target.received.push(JSON.parse((await readBody(req)) || "null"));
        if (target.failNext > 0) {
          target.failNext--;
          return res.writeHead(500, { "Content-Type": "text/plain" }).end("receiver unavailable");
        }
        return res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
      }

      counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
      const failure = failures.get(url.pathname + url.search) ?? failures.get(url.pathname);
      if (failure !== undefined) return json(failure, { message: `test source answers ${failure}` });

      const api = url.pathname.match(/^\/v1\/(calls|call-recordings|call-voicemails)\/([^/]+)$/);
      if (api) {
        const fixture = calls.get(api[2]!);
        if (!fixture) return json(404, { message: "Not Found", code: "0300404" });
        if (api[1] === "calls") return json(200, { data: fixture.call });
        if (api[1] === "call-recordings") return json(200, { data: fixture.recordings });
        return fixture.voicemail ? json(200, { data: fixture.voicemail }) : json(404, { message: "Not Found", code: "1200404" });
      }

      const name = url.pathname.match(/^\/files\/(.+)$/)?.[1];
      if (name) {
        inflight.now++;
        inflight.max = Math.max(inflight.max, inflight.now);
        try {
          return await serveFile(req, res, decodeURIComponent(name), url.searchParams);
        } finally {
          inflight.now--;
        }
      }
      json(404, { message: "Not Found" });
    } catch (error) {
      if (!res.headersSent) json(500, { message: String(error) });
      else res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serveFile(req: http.IncomingMessage, res: http.ServerResponse, name: string, params: URLSearchParams): Promise<void> {
  const size = Number(params.get("size") ?? "1024");
  const chunked = params.get("chunked") === "1";
  const cut = params.has("cut") ? Number(params.get("cut")) : size;
  const delay = Number(params.get("delay") ?? "0");
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  const headers: Record<string, string> = { "Content-Type": params.get("type") ?? "audio/mpeg" };
  if (!chunked) headers["Content-Length"] = String(size);
  res.writeHead(200, headers);
  if (req.method === "HEAD") return void res.end();
  const stall = params.has("stall") ? Number(params.get("stall")) : null;
  const end = Math.min(size, cut, stall ?? size);
  for (let offset = 0; offset < end; offset += CHUNK) {
    if (res.destroyed) return;
    const ok = res.write(mediaBytes(name, offset, Math.min(CHUNK, end - offset)));
    if (!ok) await drainedOrClosed(res);
  }
  if (stall !== null && end < size) return;
  if (end < size) res.destroy();
  else res.end();
}

function drainedOrClosed(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (data += chunk));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}
