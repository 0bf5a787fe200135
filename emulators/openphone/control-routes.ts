/**
 * The control API under `/_emulator/`: JSON in and out, no auth, loopback callers only, not rate limited and not
 * counted as API requests. Bodies are checked with zod; mistakes get the error envelope with each field at fault.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { configUpdateSchema } from "./config.ts";
import type { OpenPhoneEmulator } from "./emulator.ts";
import { ApiError, errorEnvelope } from "./error-envelope.ts";
import { jsonBody, limitBody } from "./json-body.ts";
import { fromLoopback, json, type NodeBindings } from "../shared/hono.ts";

const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, "must be an E.164 number");
const CALL_STATUSES = ["answered", "voicemail", "missed", "no-answer", "busy", "failed", "canceled", "forwarded", "completed", "queued", "initiated", "ringing", "in-progress", "abandoned"] as const;

const seedSchema = z.object({
  seed: z.number().int().optional(),
  lines: z.number().int().min(1).max(50).optional(),
  contacts: z.number().int().min(0).max(10_000).optional(),
  days: z.number().int().min(0).max(3650).optional(),
  callsPerDay: z.number().int().min(0).max(10_000).optional(),
  messagesPerDay: z.number().int().min(0).max(10_000).optional(),
  now: z.iso.datetime().optional(),
  /** Recorded audio per second of call (default 4000, about 32 kbit/s): smaller files for a sped-up backfill. */
  audioBytesPerSecond: z.number().int().min(1).max(1_000_000).optional(),
}).strict();

const resetSchema = z.object({
  /** A fresh workspace from this seed (other line and call ids) instead of the start-up one. */
  seed: z.number().int().optional(),
  lines: z.number().int().min(1).max(100).optional(),
}).strict();

/** A past call or text (`at`, when it ended or was sent): history, everything ready, no webhooks. */
const at = z.iso.datetime().optional();

const callSchema = z.object({
  phoneNumberId: z.string().regex(/^PN/).optional(),
  participant: e164.optional(),
  direction: z.enum(["incoming", "outgoing"]).optional(),
  status: z.enum(CALL_STATUSES).optional(),
  durationSeconds: z.number().int().min(1).max(86_400).optional(),
  recording: z.object({ segments: z.number().int().min(0).max(20), bytes: z.number().int().min(0).max(2 ** 40).optional() }).strict().optional(),
  /** A transcript of about `chars` characters, or of exactly `turns` speaker turns; `false` for none. */
  transcript: z.union([z.object({ chars: z.number().int().min(1).max(2_000_000) }).strict(), z.object({ turns: z.number().int().min(2).max(20_000) }).strict(), z.literal(false)]).optional(),
  summary: z.boolean().optional(),
  voicemail: z.boolean().optional(),
  ringing: z.boolean().optional(),
  at,
}).strict();

const messageSchema = z.object({
  phoneNumberId: z.string().regex(/^PN/).optional(),
  participant: e164.optional(),
  alsoTo: z.array(e164).max(9).optional(),
  direction: z.enum(["incoming", "outgoing"]).optional(),
  text: z.string().max(1600).optional(),
  media: z.number().int().min(0).max(10).optional(),
  /** An outgoing text's status; `undelivered` is what the 2026-03-30 system announces as `message.failed`. */
  status: z.enum(["queued", "sent", "delivered", "undelivered"]).optional(),
  at,
}).strict();

const trafficSchema = z.object({
  callsPerMinute: z.number().min(0).max(6000),
  messagesPerMinute: z.number().min(0).max(6000),
  durationSeconds: z.number().min(0).max(86_400 * 7).optional(),
}).strict();

const mediaFaultSchema = z.object({
  status: z.union([z.literal(403), z.literal(404), z.literal(500), z.literal(503), z.null()]),
  times: z.number().int().min(1).optional(),
}).strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({ path: ["body", ...issue.path.map(String)].join("."), message: issue.message, schema: { type: issue.code } }));
  throw new ApiError(400, errors.map((e) => `${e.path}: ${e.message}`).join("; "), errors);
}

type ControlEnv = NodeBindings & { Variables: { body: unknown } };

/** `METHOD /path` of a request (without trailing slashes), for the 404 of a route the control API does not have. */
const routeOf = (c: Context) => `${c.req.method} ${new URL(c.req.url).pathname.replace(/\/+$/, "")}`;

/** The control routes, under `/_emulator` (paths are matched without their trailing slashes). */
export function controlRoutes(emulator: OpenPhoneEmulator): Hono<ControlEnv> {
  const control = new Hono<ControlEnv>();
  control.use("/_emulator/*", async (c, next) => {
    if (!fromLoopback(c)) throw new ApiError(403, "The control API answers loopback callers only");
    // Hono would answer a HEAD with the GET route; the control API has no HEAD routes.
    if (c.req.method === "HEAD") throw new ApiError(404, `No control route ${routeOf(c)}`);
    await next();
  });
  control.on(["POST", "PUT"], "/_emulator/*", limitBody, async (c, next) => {
    c.set("body", await jsonBody(c));
    await next();
  });
  const body = (c: Context<ControlEnv>) => c.get("body");

  control.on(["GET", "PUT"], "/_emulator/media/:id{[0-9a-f]+}", (c) => {
    const id = c.req.param("id");
    const file = emulator.store.media.get(id);
    if (!file) throw new ApiError(404, `No media file ${id}`);
    if (c.req.method === "PUT") {
      const fault = parse(mediaFaultSchema, body(c));
      emulator.setMediaFault(file.id, fault.status === null ? null : { status: fault.status, remaining: fault.times ?? null });
    }
    return json(c, 200, { ...file, url: `${emulator.baseUrl}/media/${file.id}.${file.extension}`, fault: emulator.mediaFaults.get(file.id) ?? null });
  });
  control.post("/_emulator/calls/:callId{AC[A-Za-z0-9]+}/ready", (c) => {
    const callId = c.req.param("callId");
    const finished = emulator.finishProcessing(callId);
    if (!finished) throw new ApiError(404, `No call ${callId}`);
    return json(c, 200, finished);
  });
  control.post("/_emulator/calls/:callId{AC[A-Za-z0-9]+}/webhooks", (c) => {
    const callId = c.req.param("callId");
    const replayed = emulator.replayCallWebhooks(callId);
    if (!replayed) throw new ApiError(404, `No call ${callId}`);
    return json(c, 200, replayed);
  });
  control.post("/_emulator/reset", (c) => {
    emulator.reset(parse(resetSchema, body(c)));
    return json(c, 200, { ok: true });
  });
  control.post("/_emulator/seed", (c) => json(c, 200, emulator.seed(parse(seedSchema, body(c)))));
  control.post("/_emulator/calls", (c) => json(c, 200, emulator.createCall(parse(callSchema, body(c)))));
  control.post("/_emulator/messages", (c) => {
    // A text to a named participant goes to them alone unless `alsoTo` says otherwise; only a text left wholly to
    // chance (no participant) may be a group text, as the simulated traffic's are.
    const options = parse(messageSchema, body(c));
    return json(c, 200, emulator.createMessage(options.participant !== undefined && options.alsoTo === undefined ? { ...options, alsoTo: [] } : options));
  });
  control.post("/_emulator/traffic", (c) => json(c, 200, emulator.startTraffic(parse(trafficSchema, body(c)))));
  control.get("/_emulator/traffic", (c) => json(c, 200, emulator.traffic.status()));
  control.delete("/_emulator/traffic", (c) => {
    emulator.traffic.stop();
    return json(c, 200, emulator.traffic.status());
  });
  control.get("/_emulator/config", (c) => json(c, 200, emulator.config));
  control.put("/_emulator/config", (c) => json(c, 200, emulator.updateConfig(parse(configUpdateSchema, body(c)))));
  control.get("/_emulator/stats", (c) => json(c, 200, emulator.stats.snapshot()));
  control.get("/_emulator/workspace", (c) => {
    const { workspace } = emulator.store;
    return json(c, 200, {
      orgId: workspace.orgId,
      phoneNumbers: workspace.phoneNumbers.map((p) => ({ id: p.id, number: p.number, name: p.name })),
      users: workspace.users.map((u) => ({ id: u.id, email: u.email, role: u.role })),
      contacts: workspace.contacts.length,
      calls: emulator.store.calls.size,
      messages: emulator.store.messages.size,
      webhooks: [...emulator.store.webhooks.values()].map((w) => ({ id: w.id, url: w.url, events: w.events, status: w.status })),
      quoWebhooks: [...emulator.quoWebhooks.webhooks.values()].map((w) => ({ id: w.id, url: w.url, events: w.events, status: w.status })),
    });
  });
  control.get("/_emulator/webhooks/deliveries", (c) => json(c, 200, { data: emulator.dispatcher.log.slice(-500) }));
  control.all("/_emulator/*", (c) => {
    throw new ApiError(404, `No control route ${routeOf(c)}`);
  });

  control.onError((error, c) => {
    const status = error instanceof ApiError ? error.status : 500;
    if (!(error instanceof ApiError)) console.error("openphone emulator: control request failed", error);
    return json(c, status, errorEnvelope(undefined, status, error.message, error instanceof ApiError ? error.errors : undefined));
  });
  return control;
}
