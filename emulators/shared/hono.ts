/**
 * What both emulators' Hono apps share: the Node bindings `@hono/node-server` passes (the socket, for the control
 * APIs' loopback check), a JSON answer with the exact headers the real APIs send, and the server around an app.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer, type HttpBindings } from "@hono/node-server";
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";

export type NodeBindings = { Bindings: HttpBindings };

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** Whether the request came from this machine (the control APIs answer no one else). */
export function fromLoopback(c: { env: HttpBindings }): boolean {
  return LOOPBACK.has(c.env.incoming.socket.remoteAddress ?? "");
}

/**
 * `body` as `application/json; charset=utf-8` with its Content-Length; no body at all for a 204 or an `undefined`
 * body.
 */
export function json(c: Context, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  if (status === 204 || body === undefined) return c.body(null, status as StatusCode, headers);
  const text = JSON.stringify(body);
  return c.body(text, status as ContentfulStatusCode, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)), ...headers });
}

/**
 * Reads the rest of a request body refused as too large, keeping none of it, so that a client still sending gets
 * the answer rather than a connection closed under it.
 */
export async function discardBody(c: Context): Promise<void> {
  const body = c.req.raw.body;
  // A body without a length is being read by the limit itself, which stops where the limit is passed.
  if (!body || body.locked) return;
  const reader = body.getReader();
  while (!(await reader.read()).done);
}

export interface ListeningApp {
  server: http.Server;
  /** `http://127.0.0.1:PORT` (IPv6 hosts in brackets). */
  url: string;
  port: number;
  /** Stops listening and closes every connection at once, idle keep-alive ones included. */
  close(): Promise<void>;
}

/** Serves `app` on `host:port` (0 = a free port). */
export async function listen<E extends NodeBindings>(app: Hono<E>, port: number, host: string): Promise<ListeningApp> {
  const server = createAdaptorServer({ fetch: app.fetch }) as http.Server;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
