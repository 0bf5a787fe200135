/**
 * Small stand-ins for the Notion and OpenPhone APIs at the network edge, served on loopback by the workers test
 * project's global setup, for the Line Durable Object tests inside workerd (the full emulators run in the
 * end-to-end tests). They record every request, so a test counts what the product spent and reads the pages it
 * wrote. `/_fake/state` (GET) shows it all, `/_fake/reset` (POST) starts over, `/_fake/config` (POST) sets
 * `knownProperties` (a renamed property gets Notion's 400), `createFaults` (answers for the next page creates) and
 * `recordingsPending` (calls whose recordings list is still empty, as while OpenPhone processes the recording).
 * `alertFaults` (how many of the next alert deliveries answer 500). `/alerts/...` is an alert receiver (a Slack-style
 * incoming webhook): each POST is recorded with its JSON body.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

export interface FakePage {
  id: string;
  parent: unknown;
  properties: Record<string, unknown>;
  children: Record<string, unknown>[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

/** `hangMs`: the answer (the fault, nothing written) comes only after this long: a Notion that stopped answering. */
export type Fault = { status: number; code: string; message: string; afterWrite?: boolean; hangMs?: number };

export class FakeApiState {
  readonly pages = new Map<string, FakePage>();
  readonly requests: RecordedRequest[] = [];
  /** Property names the Calls and Messages data sources accept; a test renames one to provoke a 400. */
  knownProperties: Set<string> | null = null;
  /** Faults for the next Notion writes (`POST /v1/pages`), first in first out. */
  readonly createFaults: Fault[] = [];
  /** Calls whose recordings OpenPhone has not finished: their list is empty. */
  recordingsPending = new Set<string>();
  /** How many of the next alert deliveries fail with a 500. */
  alertFaults = 0;
  transcripts = new Map<string, unknown>();
  summaries = new Map<string, unknown>();
  private nextId = 1;

  /** Answers one request for the fake API at `/notion/...` or `/openphone/...`. */
  async answer(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const body = request.method === "GET" ? undefined : await request.json().catch(() => undefined);
    const [, api, ...rest] = url.pathname.split("/");
    const path = `/${rest.join("/")}`;
    if (api === "notion") {
      this.requests.push({ method: request.method, path: `notion:${path}`, body });
      const hang = request.method === "POST" && path === "/v1/pages" && this.createFaults[0]?.hangMs ? this.createFaults.shift()! : undefined;
      if (hang) {
        await new Promise((resolve) => setTimeout(resolve, hang.hangMs));
        return this.error(hang.status, hang.code, hang.message);
      }
      return this.notion(request.method, path, body as Record<string, unknown>);
    }
    if (api === "alerts") {
      this.requests.push({ method: request.method, path: `alerts:${path}`, body });
      if (this.alertFaults > 0) {
        this.alertFaults--;
        return new Response("receiver unavailable", { status: 500 });
      }
      return new Response("ok", { status: 200, headers: { "Content-Type": "text/plain" } });
    }
    if (api === "openphone") {
      this.requests.push({ method: request.method, path: `openphone:${path}`, body });
      return this.openphone(path, url.origin);
    }
    return new Response("no such fake API", { status: 404 });
  }

  private json(status: number, body: unknown): Response {
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  }

  private error(status: number, code: string, message: string): Response {
    return this.json(status, { object: "error", status, code, message });
  }

  private unknownProperty(properties: Record<string, unknown>): string | undefined {
    if (!this.knownProperties) return undefined;
    return Object.keys(properties).find((name) => !this.knownProperties!.has(name));
  }

  private notion(method: string, path: string, body: Record<string, unknown>): Response {
    let m: RegExpMatchArray | null;
    if (method === "GET" && (m = path.match(/^\/v1\/databases\/([^/]+)$/))) {
      return this.json(200, { object: "database", id: m[1], data_sources: [{ id: `ds-${m[1]}`, name: "Default" }] });
    }
    if (method === "POST" && path === "/v1/pages") {
      const properties = body.properties as Record<string, unknown>;
      const bad = this.unknownProperty(properties);
      if (bad) return this.error(400, "validation_error", `${bad} is not a property that exists.`);
      const fault = this.createFaults.shift();
      if (fault && !fault.afterWrite) return this.error(fault.status, fault.code, fault.message);
      const id = `page-${this.nextId++}`;
      this.pages.set(id, { id, parent: body.parent, properties, children: (body.children as Record<string, unknown>[]) ?? [] });
      if (fault) return this.error(fault.status, fault.code, fault.message);
      return this.json(200, { object: "page", id, properties });
    }
    if (method === "PATCH" && (m = path.match(/^\/v1\/pages\/([^/]+)$/))) {
      const page = this.pages.get(m[1]!);
      if (!page) return this.error(404, "object_not_found", "Could not find page");
      const properties = body.properties as Record<string, unknown>;
      const bad = this.unknownProperty(properties);
      if (bad) return this.error(400, "validation_error", `${bad} is not a property that exists.`);
      Object.assign(page.properties, properties);
      return this.json(200, { object: "page", id: page.id });
    }
    if (method === "PATCH" && (m = path.match(/^\/v1\/blocks\/([^/]+)\/children$/))) {
      const page = this.pages.get(m[1]!);
      if (!page) return this.error(404, "object_not_found", "Could not find block");
      page.children.push(...(body.children as Record<string, unknown>[]));
      return this.json(200, { object: "list", results: [] });
    }
    if (method === "POST" && (m = path.match(/^\/v1\/data_sources\/([^/]+)\/query$/))) {
      const filter = body.filter as { property: string; rich_text: { equals: string } };
      const results = [...this.pages.values()].filter((p) => {
        const value = p.properties[filter.property] as { rich_text?: { text: { content: string } }[] } | undefined;
        return value?.rich_text?.map((r) => r.text.content).join("") === filter.rich_text.equals;
      });
      return this.json(200, { object: "list", results: results.map((p) => ({ object: "page", id: p.id })), has_more: false, next_cursor: null });
    }
    return this.error(400, "invalid_request_url", `no route ${method} ${path}`);
  }

  private openphone(path: string, origin: string): Response {
    let m: RegExpMatchArray | null;
    // Recording files, served where the recordings list says they are (a small fixed body per file).
    if ((m = path.match(/^\/media\/([^/]+)\.mp3$/))) return new Response(`fake recording ${m[1]}`, { headers: { "Content-Type": "audio/mpeg" } });
    if ((m = path.match(/^\/v1\/users\/([^/]+)$/))) return this.json(200, { data: { id: m[1], firstName: "Maya", lastName: "Rossi", email: "maya@example.com", role: "owner", pictureUrl: null, createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z" } });
    if ((m = path.match(/^\/v1\/calls\/([^/]+)$/))) return this.json(200, { data: { id: m[1], phoneNumberId: `PN${m[1]!.slice(2)}`, direction: "incoming", status: "completed", participants: ["+12125550101"], userId: "US1", createdAt: "2026-03-02T10:00:00.000Z", updatedAt: null, answeredAt: "2026-03-02T10:00:04.000Z", answeredBy: "US1", initiatedBy: null, completedAt: "2026-03-02T10:03:00.000Z", duration: 176, callRoute: null, forwardedFrom: null, forwardedTo: null, aiHandled: null } });
    if ((m = path.match(/^\/v1\/phone-numbers\/([^/]+)$/))) return this.json(200, { data: { id: m[1], number: "+13055550100", name: "Sales" } });
    if ((m = path.match(/^\/v1\/call-recordings\/([^/]+)$/)) && this.recordingsPending.has(m[1]!)) return this.json(200, { data: [] });
    if ((m = path.match(/^\/v1\/call-recordings\/([^/]+)$/))) return this.json(200, { data: [{ id: "CR1", url: `${origin}/openphone/media/${m[1]}.mp3`, type: "audio/mpeg", duration: 170, startTime: null, status: "completed" }] });
    if ((m = path.match(/^\/v1\/call-transcripts\/([^/]+)$/))) return this.transcripts.has(m[1]!) ? this.json(200, { data: this.transcripts.get(m[1]!) }) : this.json(404, { message: "Not found", code: "0600404" });
    if ((m = path.match(/^\/v1\/call-summaries\/([^/]+)$/))) return this.summaries.has(m[1]!) ? this.json(200, { data: this.summaries.get(m[1]!) }) : this.json(404, { message: "Not found", code: "0500404" });
    if (path.startsWith("/v1/call-voicemails/")) return this.json(404, { message: "Not found", code: "1200404" });
    return this.json(404, { message: `no route ${path}` });
  }
}


async function control(state: { current: FakeApiState }, request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/_fake/reset") state.current = new FakeApiState();
  if (url.pathname === "/_fake/config") {
    const body = (await request.json()) as { knownProperties?: string[] | null; createFaults?: Fault[]; recordingsPending?: string[]; alertFaults?: number };
    if (body.recordingsPending) state.current.recordingsPending = new Set(body.recordingsPending);
    if (body.alertFaults !== undefined) state.current.alertFaults = body.alertFaults;
    if (body.knownProperties !== undefined) state.current.knownProperties = body.knownProperties ? new Set(body.knownProperties) : null;
    if (body.createFaults) state.current.createFaults.push(...body.createFaults);
  }
  const s = state.current;
  return Response.json({ pages: [...s.pages.values()], requests: s.requests });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const state = { current: new FakeApiState() };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = new Request(`http://${req.headers.host ?? "127.0.0.1"}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body: req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks) });
    const response = req.url?.startsWith("/_fake/") ? await control(state, request) : await state.current.answer(request);
    res.writeHead(response.status, { "Content-Type": response.headers.get("Content-Type") ?? "application/json" });
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("fakeApisUrl", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

declare module "vitest" {
  export interface ProvidedContext {
    fakeApisUrl: string;
  }
}
