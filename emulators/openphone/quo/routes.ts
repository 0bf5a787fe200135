/**
 * The `2026-03-30` API beside v1 on the same port, without the `/v1` prefix (reference quo-2026-03-30.md §3–4).
 *
 * In the gateway's order: the key in `Authorization` (401), the shared per-key rate limit (429), then the version
 * header: every request must carry `Quo-Api-Version: 2026-03-30`, without it (or with another value) the answer is
 * 400. Errors use this version's envelope `{title, message, docs, trace, errors?}`, which has no `code` or `status`.
 *
 * Webhook management (create, list, get, update, delete, rotate, test event, delivery list and detail, manual retry)
 * and the REST reads (users, phone numbers, calls, messages, contacts) with `limit` (1–50, default 10), `after`
 * (the previous `nextCursor`) and `nextCursor` (null on the last page).
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { OpenPhoneEmulator } from "../emulator.ts";
import { ApiError } from "../error-envelope.ts";
import { readJsonBody, sendJson } from "../http-io.ts";
import { quoEnvelope } from "../webhooks/events.ts";
import { callItem, messageItem, QUO_API_VERSION } from "./payloads.ts";
import { MAX_QUO_WEBHOOKS, QUO_EVENT_TYPES, webhookView, type QuoDelivery, type QuoEventType } from "./registry.ts";
import { newWebhookSecret } from "./signature.ts";

const TITLES: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 413: "Payload Too Large", 422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error" };

export interface QuoFieldError {
  path: string;
  message: string;
  value?: unknown;
  schema: { type: string; pattern?: string };
}

class QuoError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: QuoFieldError[],
  ) {
    super(message);
  }
}

export function quoErrorEnvelope(status: number, message: string, errors?: QuoFieldError[]) {
  return { title: TITLES[status] ?? "Error", message, docs: "https://quo.com/docs", trace: randomBytes(8).toString("hex"), ...(errors?.length ? { errors } : {}) };
}

/** Whether a path belongs to the 2026-03-30 surface. */
export function isQuoPath(pathname: string): boolean {
  return /^\/(webhooks|users|phone-numbers|calls|messages|contacts|conversations)(\/|$)/.test(pathname);
}

const EVENT_SET = new Set<string>(QUO_EVENT_TYPES);
const WEBHOOK_ID = /^[0-9]+$/;

export async function handleQuoRequest(emulator: OpenPhoneEmulator, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? "GET";
  const route = `${method} ${url.pathname}`;
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    emulator.stats.countRequest(`quo:${method} ${url.pathname.replace(/\/[^/]*[0-9][^/]*(?=\/|$)/g, "/{id}")}`, status);
    sendJson(res, status, body, headers);
  };
  const fail = (status: number, message: string, errors?: QuoFieldError[], headers?: Record<string, string>) => answer(status, quoErrorEnvelope(status, message, errors), headers);

  const key = req.headers.authorization?.trim();
  if (!key || key !== emulator.key) return fail(401, "Missing or invalid API key in the Authorization header");
  const retryAfter = emulator.rateLimiter.take(key, emulator.config.rateLimitPerSecond);
  if (retryAfter !== undefined) return fail(429, "API rate limit exceeded", undefined, { "retry-after": String(retryAfter) });
  const version = req.headers["quo-api-version"];
  if (version !== QUO_API_VERSION) {
    const message = version === undefined ? "The Quo-Api-Version header is required" : `Unsupported Quo-Api-Version ${JSON.stringify(version)}`;
    return fail(400, message, [{ path: "/header/Quo-Api-Version", message: "must be equal to one of the allowed values", value: version ?? null, schema: { type: "string", pattern: `^${QUO_API_VERSION}$` } }]);
  }
  try {
    const body = method === "POST" || method === "PATCH" ? await readJsonBody(req) : undefined;
    const result = route_(emulator, method, url, body);
    answer(result.status, result.body);
  } catch (error) {
    if (error instanceof QuoError) return fail(error.status, error.message, error.errors);
    if (error instanceof ApiError) return fail(error.status, error.message);
    console.error(`openphone emulator: ${route} failed`, error);
    return fail(500, "Internal error in the emulator");
  }
}

type Result = { status: number; body?: unknown };

function route_(emulator: OpenPhoneEmulator, method: string, url: URL, body: unknown): Result {
  const parts = url.pathname.split("/").filter(Boolean);
  const registry = emulator.quoWebhooks;
  const now = new Date();
  if (parts[0] === "webhooks") {
    if (parts.length === 1 && method === "GET") return { status: 200, body: { data: [...registry.webhooks.values()].map(webhookView) } };
    if (parts.length === 1 && method === "POST") {
      const input = webhookInput(body, true);
      if (registry.webhooks.size >= MAX_QUO_WEBHOOKS) throw new QuoError(422, `A workspace can have at most ${MAX_QUO_WEBHOOKS} webhooks`);
      const webhook = registry.create({ url: input.url!, events: input.events!, label: input.label, resourceIds: input.resourceIds, status: input.status }, now);
      emulator.onChange();
      return { status: 201, body: { data: { ...webhookView(webhook), key: webhook.key } } };
    }
    const id = parts[1]!;
    if (!WEBHOOK_ID.test(id)) throw new QuoError(400, "webhookId must be numeric", [{ path: "/webhookId", message: "must match pattern", value: id, schema: { type: "string", pattern: "^[0-9]+$" } }]);
    const webhook = registry.webhooks.get(id);
    if (!webhook) throw new QuoError(404, `Webhook ${id} not found`);
    if (parts.length === 2) {
      if (method === "GET") return { status: 200, body: { data: webhookView(webhook) } };
      if (method === "DELETE") {
        registry.webhooks.delete(id);
        emulator.onChange();
        return { status: 204 };
      }
      if (method === "PATCH") {
        const input = webhookInput(body, false);
        if (input.url !== undefined) webhook.url = input.url;
        if (input.events !== undefined) webhook.events = [...new Set(input.events)];
        if (input.resourceIds !== undefined) webhook.resourceIds = input.resourceIds;
        if (input.status !== undefined) webhook.status = input.status;
        if (input.label !== undefined) webhook.label = input.label;
        webhook.updatedAt = now.toISOString();
        emulator.onChange();
        return { status: 200, body: { data: webhookView(webhook) } };
      }
    }
    if (parts.length === 3 && parts[2] === "rotate" && method === "POST") {
      webhook.key = newWebhookSecret();
      webhook.updatedAt = now.toISOString();
      emulator.onChange();
      return { status: 200, body: { data: { key: webhook.key } } };
    }
    if (parts[2] === "events") {
      if (parts.length === 4 && parts[3] === "test" && method === "POST") {
        const eventType = (body as { eventType?: unknown } | undefined)?.eventType;
        if (typeof eventType !== "string" || !EVENT_SET.has(eventType)) {
          throw new QuoError(400, "eventType must be one of the webhook event types", [{ path: "/body/eventType", message: "must be equal to one of the allowed values", value: eventType ?? null, schema: { type: "string" } }]);
        }
        const envelope = { ...quoEnvelope(eventType, sampleOf(eventType)), id: "EV00000000000000000000test" };
        const delivery = emulator.dispatcher.deliverQuoTest(webhook, envelope);
        return { status: 200, body: { data: { deliveryId: delivery?.id ?? null, payload: envelope } } };
      }
      if (parts.length === 3 && method === "GET") return { status: 200, body: deliveryPage(registry.deliveries, id, url.searchParams) };
      const delivery = parts[3] ? registry.deliveries.get(parts[3]) : undefined;
      if (!delivery || delivery.webhookId !== id) throw new QuoError(404, `Delivery ${parts[3]} not found for webhook ${id}`);
      if (parts.length === 4 && method === "GET") return { status: 200, body: { data: deliveryDetail(delivery) } };
      if (parts.length === 5 && parts[4] === "retry" && method === "POST") {
        emulator.dispatcher.retryQuo(delivery);
        return { status: 202, body: {} };
      }
    }
    throw new QuoError(404, `No route for ${method} ${url.pathname}`);
  }
  if (method !== "GET") throw new QuoError(404, `No route for ${method} ${url.pathname}`);
  const store = emulator.store;
  const baseUrl = emulator.baseUrl;
  const one = (item: unknown, what: string) => {
    if (!item) throw new QuoError(404, `${what} ${parts[1]} not found`);
    return { status: 200, body: { data: item } };
  };
  if (parts[0] === "users") {
    const users = store.workspace.users.map((u) => ({ id: u.id, email: u.email, firstName: u.firstName, lastName: u.lastName, pictureUrl: u.pictureUrl ?? null, role: u.role, createdAt: u.createdAt, updatedAt: u.updatedAt }));
    if (parts.length === 1) return page(users, url.searchParams);
    if (parts.length === 3 && parts[2] === "phone-numbers") {
      if (!users.some((u) => u.id === parts[1])) throw new QuoError(404, `User ${parts[1]} not found`);
      return page(store.workspace.phoneNumbers.filter((p) => p.users.some((u) => u.id === parts[1])).map(phoneNumberItem), url.searchParams);
    }
    if (parts.length === 2) return one(users.find((u) => u.id === parts[1]), "User");
  }
  if (parts[0] === "phone-numbers") {
    const numbers = store.workspace.phoneNumbers.map(phoneNumberItem);
    if (parts.length === 1) {
      const number = url.searchParams.get("phoneNumber");
      return page(number ? numbers.filter((n) => n.number === number) : numbers, url.searchParams, ["phoneNumber"]);
    }
    if (parts.length === 2) return one(numbers.find((n) => n.id === parts[1]), "Phone number");
  }
  if (parts[0] === "calls" && parts.length === 1) {
    const line = url.searchParams.get("phoneNumberId");
    const calls = [...store.calls.values()].filter((r) => !line || r.call.phoneNumberId === line).sort((a, b) => b.call.createdAt.localeCompare(a.call.createdAt));
    return page(calls.map((r) => callItem(r, Date.now())), url.searchParams, ["phoneNumberId"]);
  }
  if (parts[0] === "messages") {
    if (parts.length === 2) return one(store.messages.get(parts[1]!) && messageItem(baseUrl, store.messages.get(parts[1]!)!), "Message");
    if (parts.length === 1) {
      const q = url.searchParams;
      const messages = [...store.messages.values()]
        .filter((r) => (!q.get("phoneNumberId") || r.message.phoneNumberId === q.get("phoneNumberId")) && (!q.get("direction") || r.message.direction === q.get("direction")) && (!q.get("status") || r.message.status === q.get("status")) && (!q.get("from") || r.message.from === q.get("from")) && (!q.get("userId") || r.message.userId === q.get("userId")))
        .sort((a, b) => b.message.createdAt.localeCompare(a.message.createdAt));
      return page(messages.map((r) => messageItem(baseUrl, r)), q, ["phoneNumberId", "direction", "status", "from", "userId"]);
    }
  }
  if (parts[0] === "contacts") {
    const contacts = store.workspace.contacts.map((c) => ({
      id: c.id,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
      actorId: c.createdByUserId,
      externalId: c.externalId,
      source: c.source,
      sourceUrl: c.sourceUrl ?? null,
      firstName: c.defaultFields.firstName,
      lastName: c.defaultFields.lastName,
      company: c.defaultFields.company,
      role: c.defaultFields.role,
    }));
    if (parts.length === 1) return page(contacts, url.searchParams);
    if (parts.length === 2) return one(contacts.find((c) => c.id === parts[1]), "Contact");
  }
  throw new QuoError(404, `No route for ${method} ${url.pathname}`);
}

function phoneNumberItem(p: OpenPhoneEmulator["store"]["workspace"]["phoneNumbers"][number]) {
  return { id: p.id, number: p.number, formattedNumber: p.formattedNumber, name: p.name, users: p.users.map((u) => ({ id: u.id })), createdAt: p.createdAt, updatedAt: p.updatedAt };
}

/** One page of `items`: `limit` 1–50 (default 10); `after` is an opaque cursor this emulator handed out. */
function page<T>(items: T[], query: URLSearchParams, filters: string[] = []): Result {
  const known = new Set(["limit", "after", ...filters]);
  for (const name of query.keys()) if (!known.has(name)) throw new QuoError(400, `Unknown query parameter ${name}`, [{ path: `/query/${name}`, message: "is not allowed", value: query.get(name), schema: { type: "string" } }]);
  const rawLimit = query.get("limit");
  const limit = rawLimit === null ? 10 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 50) throw new QuoError(400, "limit must be an integer from 1 to 50", [{ path: "/query/limit", message: "must be <= 50 and >= 1", value: rawLimit, schema: { type: "integer" } }]);
  const after = query.get("after");
  let start = 0;
  if (after !== null) {
    const decoded = /^c([0-9]+)$/.exec(Buffer.from(after, "base64url").toString("utf8"));
    if (!decoded) throw new QuoError(400, "after is not a cursor this API returned", [{ path: "/query/after", message: "invalid cursor", value: after, schema: { type: "string" } }]);
    start = Number(decoded[1]);
  }
  const data = items.slice(start, start + limit);
  const next = start + limit < items.length ? Buffer.from(`c${start + limit}`).toString("base64url") : null;
  return { status: 200, body: { data, nextCursor: next } };
}

function deliveryPage(deliveries: Map<string, QuoDelivery>, webhookId: string, query: URLSearchParams): unknown {
  const resourceId = query.get("resourceId");
  const status = query.get("status");
  const eventType = query.get("eventType");
  const items = [...deliveries.values()]
    .filter((d) => d.webhookId === webhookId && (!resourceId || d.resourceId === resourceId) && (!status || d.status === status) && (!eventType || d.eventType === eventType))
    .reverse()
    .map((d) => ({ id: d.id, eventId: d.eventId, resourceId: d.resourceId, eventType: d.eventType, status: d.status, nextAttemptAt: d.nextAttemptAt, createdAt: d.createdAt }));
  return page(items, query, ["resourceId", "status", "eventType"]).body;
}

function deliveryDetail(d: QuoDelivery) {
  return { id: d.id, eventId: d.eventId, resourceId: d.resourceId, eventType: d.eventType, status: d.status, nextAttemptAt: d.nextAttemptAt, createdAt: d.createdAt, requestBody: d.requestBody, attempts: d.attempts };
}

interface WebhookInput {
  url?: string;
  events?: QuoEventType[];
  label?: string | null;
  resourceIds?: string[];
  status?: "enabled" | "disabled";
}

/** The create/update body, checked strictly: unknown fields, event names and statuses are refused. */
function webhookInput(body: unknown, creating: boolean): WebhookInput {
  const errors: QuoFieldError[] = [];
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw new QuoError(400, "The body must be a JSON object", [{ path: "/body", message: "must be object", value: body ?? null, schema: { type: "object" } }]);
  const b = body as Record<string, unknown>;
  for (const name of Object.keys(b)) if (!["url", "events", "label", "resourceIds", "status"].includes(name)) errors.push({ path: `/body/${name}`, message: name === "apiVersion" ? "cannot be changed" : "is not allowed", value: b[name], schema: { type: "string" } });
  const input: WebhookInput = {};
  if (b.url !== undefined || creating) {
    let ok = typeof b.url === "string";
    if (ok) {
      try {
        ok = ["http:", "https:"].includes(new URL(b.url as string).protocol);
      } catch {
        ok = false;
      }
    }
    if (ok) input.url = b.url as string;
    else errors.push({ path: "/body/url", message: "must be an http(s) URL", value: b.url ?? null, schema: { type: "string" } });
  }
  if (b.events !== undefined || creating) {
    if (Array.isArray(b.events) && b.events.length > 0 && b.events.every((e) => typeof e === "string" && EVENT_SET.has(e))) input.events = b.events as QuoEventType[];
    else errors.push({ path: "/body/events", message: "must be a non-empty array of webhook event types", value: b.events ?? null, schema: { type: "array" } });
  }
  if (b.resourceIds !== undefined) {
    if (Array.isArray(b.resourceIds) && b.resourceIds.length > 0 && b.resourceIds.every((r) => r === "*" || (typeof r === "string" && /^PN/.test(r)))) input.resourceIds = b.resourceIds as string[];
    else errors.push({ path: "/body/resourceIds", message: "must be phone number ids (PN…) or [\"*\"]", value: b.resourceIds, schema: { type: "array" } });
  }
  if (b.status !== undefined) {
    if (b.status === "enabled" || b.status === "disabled") input.status = b.status;
    else errors.push({ path: "/body/status", message: "must be enabled or disabled", value: b.status, schema: { type: "string" } });
  }
  if (b.label !== undefined) {
    if (b.label === null || typeof b.label === "string") input.label = b.label as string | null;
    else errors.push({ path: "/body/label", message: "must be a string", value: b.label, schema: { type: "string" } });
  }
  if (!creating && Object.keys(input).length === 0 && errors.length === 0) errors.push({ path: "/body", message: "must name at least one of url, events, resourceIds, status, label", value: b, schema: { type: "object" } });
  if (errors.length) throw new QuoError(400, errors[0]!.message, errors);
  return input;
}

/** The fixed sample payload of a test event. */
function sampleOf(type: string): { resource: Record<string, unknown>; context: Record<string, unknown> } {
  const at = "2026-03-31T23:33:19.000Z";
  const context = { orgId: "ORsample", phoneNumberId: "PNsample", conversationId: "CNsample", userId: "USsample", contacts: { ids: [], lookupStatus: "none" } };
  if (type.startsWith("message.")) return { resource: { id: "ACsample", direction: type === "message.received" ? "incoming" : "outgoing", text: "Sample", media: [], status: type.slice(8), createdAt: at }, context: { ...context, senderIdentifier: "+15555550100", recipientIdentifiers: ["+15555550101"] } };
  if (type.startsWith("contact.")) return { resource: { id: "CTsample", firstName: "Sample", lastName: null, company: null, role: null, location: null, source: "public-api", externalId: null, emails: [], phoneNumbers: [], customFields: [], createdAt: at, updatedAt: at }, context: { orgId: "ORsample", userId: "USsample", sharedWithIds: [] } };
  const callContext = { ...context, phoneNumberType: "shared", participants: { workspace: ["+15555550100"], external: ["+15555550199"], resolution: "available" } };
  if (type === "call.summary.completed" || type === "call.transcript.completed" || type === "call.voicemail.completed") return { resource: { callId: "ACsample", processingStatus: "completed", createdAt: at }, context: callContext };
  return { resource: { id: "ACsample", direction: "incoming", createdAt: at, updatedAt: at }, context: callContext };
}
