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
import { Hono, type Context } from "hono";
import type { OpenPhoneEmulator } from "../emulator.ts";
import { ApiError } from "../error-envelope.ts";
import { jsonBody, limitBody } from "../json-body.ts";
import { json, type NodeBindings } from "../../shared/hono.ts";
import { quoEnvelope } from "../webhooks/events.ts";
import { callItem, messageItem, QUO_API_VERSION } from "./payloads.ts";
import { MAX_QUO_WEBHOOKS, QUO_EVENT_TYPES, webhookView, type QuoDelivery, type QuoEventType, type QuoWebhook } from "./registry.ts";
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

const RESOURCES = ["webhooks", "users", "phone-numbers", "calls", "messages", "contacts", "conversations"];

const QUO_PATH = new RegExp(`^/(${RESOURCES.join("|")})(/|$)`);

/** Whether a path belongs to the 2026-03-30 surface. */
export function isQuoPath(pathname: string): boolean {
  return QUO_PATH.test(pathname);
}

const EVENT_SET = new Set<string>(QUO_EVENT_TYPES);
const WEBHOOK_ID = /^[0-9]+$/;

type QuoEnv = NodeBindings & { Variables: { body: unknown; webhook: QuoWebhook; delivery: QuoDelivery } };
type QuoContext = Context<QuoEnv>;

/** The path's segments (the server drops empty ones on this surface: `/webhooks/` is `/webhooks`). */
const partsOf = (c: Context) => c.req.path.split("/").filter(Boolean);
const queryOf = (c: Context) => new URL(c.req.url).searchParams;
const noRoute = (c: Context) => new QuoError(404, `No route for ${c.req.method} ${new URL(c.req.url).pathname}`);

/** The webhook `/webhooks/{id}/...` names: 400 when the id is not numeric (or missing), 404 when there is none. */
function webhookOf(emulator: OpenPhoneEmulator, c: Context): QuoWebhook {
  const id = partsOf(c)[1];
  if (id === undefined || !WEBHOOK_ID.test(id)) throw new QuoError(400, "webhookId must be numeric", [{ path: "/webhookId", message: "must match pattern", value: id, schema: { type: "string", pattern: "^[0-9]+$" } }]);
  const webhook = emulator.quoWebhooks.webhooks.get(id);
  if (!webhook) throw new QuoError(404, `Webhook ${id} not found`);
  return webhook;
}

/** The delivery `/webhooks/{id}/events/{deliveryId}/...` names, 404 when that webhook has no such delivery. */
function deliveryOf(emulator: OpenPhoneEmulator, c: Context, webhook: QuoWebhook): QuoDelivery {
  const deliveryId = partsOf(c)[3];
  const delivery = deliveryId ? emulator.quoWebhooks.deliveries.get(deliveryId) : undefined;
  if (!delivery || delivery.webhookId !== webhook.id) throw new QuoError(404, `Delivery ${deliveryId} not found for webhook ${webhook.id}`);
  return delivery;
}

/**
 * The 2026-03-30 routes. In the gateway's order on every path of this surface: the key (401), the rate limit (429),
 * the version header (400), the JSON body of a POST or PATCH (413, 400); then, under `/webhooks/{id}`, the webhook
 * (400, 404) and under `/webhooks/{id}/events/...` the delivery (404), whatever the method; then the route, or 404.
 * Every answer is counted, ids in the path shown as `{id}`.
 */
export function quoRoutes(emulator: OpenPhoneEmulator): Hono<QuoEnv> {
  const quo = new Hono<QuoEnv>();
  const registry = emulator.quoWebhooks;
  const store = emulator.store;
  const onEvery = (handle: (c: QuoContext, next: () => Promise<void>) => Promise<Response | void>, methods?: string[]) => {
    for (const resource of RESOURCES) {
      if (methods) quo.on(methods, `/${resource}/*`, handle);
      else quo.use(`/${resource}/*`, handle);
    }
  };
  const fail = (c: Context, status: number, message: string, errors?: QuoFieldError[], headers?: Record<string, string>) => json(c, status, quoErrorEnvelope(status, message, errors), headers);

  onEvery(async (c, next) => {
    const answer = async (): Promise<Response> => {
      const key = c.req.header("authorization")?.trim();
      if (!key || key !== emulator.key) return fail(c, 401, "Missing or invalid API key in the Authorization header");
      const retryAfter = emulator.rateLimiter.take(key, emulator.config.rateLimitPerSecond);
      if (retryAfter !== undefined) return fail(c, 429, "API rate limit exceeded", undefined, { "retry-after": String(retryAfter) });
      const version = c.req.header("quo-api-version");
      if (version !== QUO_API_VERSION) {
        const message = version === undefined ? "The Quo-Api-Version header is required" : `Unsupported Quo-Api-Version ${JSON.stringify(version)}`;
        return fail(c, 400, message, [{ path: "/header/Quo-Api-Version", message: "must be equal to one of the allowed values", value: version ?? null, schema: { type: "string", pattern: `^${QUO_API_VERSION}$` } }]);
      }
      await next();
      return c.res;
    };
    const res = await answer();
    emulator.stats.countRequest(`quo:${c.req.method} ${new URL(c.req.url).pathname.replace(/\/[^/]*[0-9][^/]*(?=\/|$)/g, "/{id}")}`, res.status);
    return res;
  });
  onEvery(limitBody, ["POST", "PATCH"]);
  onEvery(async (c, next) => {
    c.set("body", await jsonBody(c));
    await next();
  }, ["POST", "PATCH"]);
  // Hono would answer a HEAD with the GET route; this surface has none, so a HEAD finds only the webhook checks.
  onEvery(async (c, next) => {
    if (c.req.method !== "HEAD") return next();
    const parts = partsOf(c);
    if (parts[0] === "webhooks") {
      const webhook = webhookOf(emulator, c);
      if (parts[2] === "events") deliveryOf(emulator, c, webhook);
    }
    throw noRoute(c);
  });

  quo.get("/webhooks", (c) => json(c, 200, { data: [...registry.webhooks.values()].map(webhookView) }));
  quo.post("/webhooks", (c) => {
    const input = webhookInput(c.get("body"), true);
    if (registry.webhooks.size >= MAX_QUO_WEBHOOKS) throw new QuoError(422, `A workspace can have at most ${MAX_QUO_WEBHOOKS} webhooks`);
    const webhook = registry.create({ url: input.url!, events: input.events!, label: input.label, resourceIds: input.resourceIds, status: input.status }, new Date());
    emulator.onChange();
    return json(c, 201, { data: { ...webhookView(webhook), key: webhook.key } });
  });
  // Any other path under /webhooks names a webhook (a PUT /webhooks included: its id is missing).
  quo.use("/webhooks/*", async (c, next) => {
    c.set("webhook", webhookOf(emulator, c));
    await next();
  });
  quo.get("/webhooks/:id", (c) => json(c, 200, { data: webhookView(c.get("webhook")) }));
  quo.delete("/webhooks/:id", (c) => {
    registry.webhooks.delete(c.get("webhook").id);
    emulator.onChange();
    return json(c, 204, undefined);
  });
  quo.patch("/webhooks/:id", (c) => {
    const webhook = c.get("webhook");
    const input = webhookInput(c.get("body"), false);
    if (input.url !== undefined) webhook.url = input.url;
    if (input.events !== undefined) webhook.events = [...new Set(input.events)];
    if (input.resourceIds !== undefined) webhook.resourceIds = input.resourceIds;
    if (input.status !== undefined) webhook.status = input.status;
    if (input.label !== undefined) webhook.label = input.label;
    webhook.updatedAt = new Date().toISOString();
    emulator.onChange();
    return json(c, 200, { data: webhookView(webhook) });
  });
  quo.post("/webhooks/:id/rotate", (c) => {
    const webhook = c.get("webhook");
    webhook.key = newWebhookSecret();
    webhook.updatedAt = new Date().toISOString();
    emulator.onChange();
    return json(c, 200, { data: { key: webhook.key } });
  });
  quo.post("/webhooks/:id/events/test", (c) => {
    const eventType = (c.get("body") as { eventType?: unknown } | undefined)?.eventType;
    if (typeof eventType !== "string" || !EVENT_SET.has(eventType)) {
      throw new QuoError(400, "eventType must be one of the webhook event types", [{ path: "/body/eventType", message: "must be equal to one of the allowed values", value: eventType ?? null, schema: { type: "string" } }]);
    }
    const envelope = { ...quoEnvelope(eventType, sampleOf(eventType)), id: "EV00000000000000000000test" };
    const delivery = emulator.dispatcher.deliverQuoTest(c.get("webhook"), envelope);
    return json(c, 200, { data: { deliveryId: delivery?.id ?? null, payload: envelope } });
  });
  quo.get("/webhooks/:id/events", (c) => json(c, 200, deliveryPage(registry.deliveries, c.get("webhook").id, queryOf(c))));
  // Any other path under /events names a delivery.
  quo.use("/webhooks/:id/events/*", async (c, next) => {
    c.set("delivery", deliveryOf(emulator, c, c.get("webhook")));
    await next();
  });
  quo.get("/webhooks/:id/events/:deliveryId", (c) => json(c, 200, { data: deliveryDetail(c.get("delivery")) }));
  quo.post("/webhooks/:id/events/:deliveryId/retry", (c) => {
    emulator.dispatcher.retryQuo(c.get("delivery"));
    return json(c, 202, {});
  });

  const users = () => store.workspace.users.map((u) => ({ id: u.id, email: u.email, firstName: u.firstName, lastName: u.lastName, pictureUrl: u.pictureUrl ?? null, role: u.role, createdAt: u.createdAt, updatedAt: u.updatedAt }));
  const one = (c: Context, item: unknown, what: string) => {
    if (!item) throw new QuoError(404, `${what} ${c.req.param("id")} not found`);
    return json(c, 200, { data: item });
  };
  const answer = (c: Context, result: Result) => json(c, result.status, result.body);
  quo.get("/users", (c) => answer(c, page(users(), queryOf(c))));
  quo.get("/users/:id/phone-numbers", (c) => {
    const id = c.req.param("id");
    if (!users().some((u) => u.id === id)) throw new QuoError(404, `User ${id} not found`);
    return answer(c, page(store.workspace.phoneNumbers.filter((p) => p.users.some((u) => u.id === id)).map(phoneNumberItem), queryOf(c)));
  });
  quo.get("/users/:id", (c) => one(c, users().find((u) => u.id === c.req.param("id")), "User"));
  quo.get("/phone-numbers", (c) => {
    const numbers = store.workspace.phoneNumbers.map(phoneNumberItem);
    const number = queryOf(c).get("phoneNumber");
    return answer(c, page(number ? numbers.filter((n) => n.number === number) : numbers, queryOf(c), ["phoneNumber"]));
  });
  quo.get("/phone-numbers/:id", (c) => one(c, store.workspace.phoneNumbers.map(phoneNumberItem).find((n) => n.id === c.req.param("id")), "Phone number"));
  quo.get("/calls", (c) => {
    const line = queryOf(c).get("phoneNumberId");
    const calls = [...store.calls.values()].filter((r) => !line || r.call.phoneNumberId === line).sort((a, b) => b.call.createdAt.localeCompare(a.call.createdAt));
    return answer(c, page(calls.map((r) => callItem(r, Date.now())), queryOf(c), ["phoneNumberId"]));
  });
  quo.get("/messages/:id", (c) => {
    const record = store.messages.get(c.req.param("id"));
    return one(c, record && messageItem(emulator.baseUrl, record), "Message");
  });
  quo.get("/messages", (c) => {
    const q = queryOf(c);
    const messages = [...store.messages.values()]
      .filter((r) => (!q.get("phoneNumberId") || r.message.phoneNumberId === q.get("phoneNumberId")) && (!q.get("direction") || r.message.direction === q.get("direction")) && (!q.get("status") || r.message.status === q.get("status")) && (!q.get("from") || r.message.from === q.get("from")) && (!q.get("userId") || r.message.userId === q.get("userId")))
      .sort((a, b) => b.message.createdAt.localeCompare(a.message.createdAt));
    return answer(c, page(messages.map((r) => messageItem(emulator.baseUrl, r)), q, ["phoneNumberId", "direction", "status", "from", "userId"]));
  });
  const contacts = () =>
    store.workspace.contacts.map((c) => ({
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
  quo.get("/contacts", (c) => answer(c, page(contacts(), queryOf(c))));
  quo.get("/contacts/:id", (c) => one(c, contacts().find((contact) => contact.id === c.req.param("id")), "Contact"));
  onEvery(async (c) => {
    throw noRoute(c);
  });

  quo.onError((error, c) => {
    if (error instanceof QuoError) return fail(c, error.status, error.message, error.errors);
    if (error instanceof ApiError) return fail(c, error.status, error.message);
    console.error(`openphone emulator: ${c.req.method} ${new URL(c.req.url).pathname} failed`, error);
    return fail(c, 500, "Internal error in the emulator");
  });
  return quo;
}

type Result = { status: number; body?: unknown };

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
