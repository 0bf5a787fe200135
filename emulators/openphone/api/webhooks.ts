/** Webhook registrations. The returned `key` (base64 of 32 random bytes) signs every delivery to the webhook. */
import { randomBytes } from "node:crypto";
import { ApiError } from "../error-envelope.ts";
import { randomId } from "../identifiers.ts";
import type { Webhook } from "../model.ts";
import type { ApiHandler } from "./context.ts";

export const WEBHOOK_FAMILIES = {
  messages: ["message.received", "message.delivered"],
  calls: ["call.completed", "call.ringing", "call.recording.completed"],
  "call-summaries": ["call.summary.completed"],
  "call-transcripts": ["call.transcript.completed"],
} as const;

interface CreateBody {
  url: string;
  events?: string[];
  resourceIds?: string[];
  label?: string;
  status?: "enabled" | "disabled";
  userId?: string;
}

function create(family: keyof typeof WEBHOOK_FAMILIES): ApiHandler {
  return ({ store, body, now }) => {
    const request = body as CreateBody;
    const userId = request.userId ?? store.owner.id;
    if (!store.workspace.users.some((u) => u.id === userId)) throw new ApiError(404, `User ${userId} not found`);
    const unknownLine = (request.resourceIds ?? []).find((id) => id !== "*" && !store.line(id));
    if (unknownLine) throw new ApiError(404, `Phone number ${unknownLine} not found`);
    const stamp = new Date(now).toISOString();
    const webhook = {
      id: randomId(store.random, "WH", 20),
      userId,
      orgId: store.workspace.orgId,
      label: request.label ?? null,
      status: request.status ?? "enabled",
      url: request.url,
      key: randomBytes(32).toString("base64"),
      createdAt: stamp,
      updatedAt: stamp,
      deletedAt: null,
      events: request.events?.length ? [...new Set(request.events)] : [...WEBHOOK_FAMILIES[family]],
      resourceIds: request.resourceIds?.length ? request.resourceIds : ["*"],
    } as Webhook;
    store.webhooks.set(webhook.id, webhook);
    return { status: 201, body: { data: webhook } };
  };
}

export const createMessageWebhook = create("messages");
export const createCallWebhook = create("calls");
export const createCallSummaryWebhook = create("call-summaries");
export const createCallTranscriptWebhook = create("call-transcripts");

export const listWebhooks: ApiHandler = ({ store, query }) => {
  const userId = (query.userId as string | undefined) ?? store.owner.id;
  return { status: 200, body: { data: [...store.webhooks.values()].filter((w) => w.userId === userId) } };
};

export const getWebhookById: ApiHandler = ({ store, path }) => {
  const webhook = store.webhooks.get(path.id!);
  if (!webhook) throw new ApiError(404, `Webhook ${path.id} not found`);
  return { status: 200, body: { data: webhook } };
};

export const deleteWebhookById: ApiHandler = ({ store, path }) => {
  if (!store.webhooks.delete(path.id!)) throw new ApiError(404, `Webhook ${path.id} not found`);
  return { status: 204 };
};
