/**
 * Webhooks of the 2026-03-30 system and their delivery log. Ids are numeric strings (`^[0-9]+$`), there is no
 * `userId`, the `whsec_` key is shown in the create and rotate answers only, and `resourceIds` defaults to `["*"]`
 * (reference quo-2026-03-30.md §4.1–4.2). Each delivery keeps every attempt, for the delivery list, its detail and
 * the manual retry.
 */
import { randomBytes } from "node:crypto";
import { newWebhookSecret } from "./signature.ts";
import { QUO_API_VERSION, ORG_ID } from "./payloads.ts";

export const QUO_EVENT_TYPES = [
  "message.received",
  "message.delivered",
  "message.failed",
  "call.ringing",
  "call.answered",
  "call.completed",
  "call.forwarded",
  "call.missed",
  "call.recording.completed",
  "call.summary.completed",
  "call.transcript.completed",
  "call.voicemail.completed",
  "contact.updated",
  "contact.deleted",
] as const;
export type QuoEventType = (typeof QUO_EVENT_TYPES)[number];

/** At most this many webhooks per workspace (a third-party summary of the overview page; the strict reading). */
export const MAX_QUO_WEBHOOKS = 50;

export interface QuoWebhook {
  id: string;
  orgId: string;
  label: string | null;
  status: "enabled" | "disabled";
  url: string;
  apiVersion: typeof QUO_API_VERSION;
  events: QuoEventType[];
  resourceIds: string[];
  createdAt: string;
  updatedAt: string;
  /** Never shown except in the create and rotate answers. */
  key: string;
}

export interface DeliveryAttempt {
  id: string;
  timestamp: string;
  status: "success" | "failed";
  /** 0 when there was no response (refused, timed out). */
  responseStatusCode: number;
  responseBody: string;
  responseDurationMs: number;
  triggerType: "scheduled" | "manual";
  url: string;
}

export interface QuoDelivery {
  /** `msg_…`, also the `webhook-id` header; a retry keeps it. */
  id: string;
  webhookId: string;
  eventId: string | null;
  resourceId: string | null;
  eventType: string;
  status: "success" | "pending" | "sending" | "failed";
  nextAttemptAt: string | null;
  createdAt: string;
  requestBody: string;
  attempts: DeliveryAttempt[];
}

const DELIVERY_LOG_LIMIT = 5_000;

export class QuoWebhookRegistry {
  readonly webhooks = new Map<string, QuoWebhook>();
  readonly deliveries = new Map<string, QuoDelivery>();
  private nextId = 1;

  create(input: { url: string; events: QuoEventType[]; label?: string | null; resourceIds?: string[]; status?: "enabled" | "disabled" }, now: Date): QuoWebhook {
    const at = now.toISOString();
    const webhook: QuoWebhook = {
      id: String(this.nextId++),
      orgId: ORG_ID,
      label: input.label ?? null,
      status: input.status ?? "enabled",
      url: input.url,
      apiVersion: QUO_API_VERSION,
      events: [...new Set(input.events)],
      resourceIds: input.resourceIds ?? ["*"],
      createdAt: at,
      updatedAt: at,
      key: newWebhookSecret(),
    };
    this.webhooks.set(webhook.id, webhook);
    return webhook;
  }

  newDelivery(webhook: QuoWebhook, envelope: { id: string | null; type: string; resourceId: string | null }, body: string, now: Date): QuoDelivery {
    const delivery: QuoDelivery = {
      id: `msg_${randomBytes(16).toString("base64url").replace(/[-_]/g, "").slice(0, 22)}`,
      webhookId: webhook.id,
      eventId: envelope.id,
      resourceId: envelope.resourceId,
      eventType: envelope.type,
      status: "pending",
      nextAttemptAt: now.toISOString(),
      createdAt: now.toISOString(),
      requestBody: body,
      attempts: [],
    };
    this.deliveries.set(delivery.id, delivery);
    if (this.deliveries.size > DELIVERY_LOG_LIMIT) this.deliveries.delete(this.deliveries.keys().next().value!);
    return delivery;
  }

  /** Enabled webhooks that take `type` for `phoneNumberId` (contact events are workspace-wide). */
  subscribers(type: string, phoneNumberId: string | null): QuoWebhook[] {
    return [...this.webhooks.values()].filter(
      (w) => w.status === "enabled" && (w.events as string[]).includes(type) && (type.startsWith("contact.") || w.resourceIds.includes("*") || (phoneNumberId !== null && w.resourceIds.includes(phoneNumberId))),
    );
  }

  snapshot(): { webhooks: QuoWebhook[]; nextId: number } {
    return { webhooks: [...this.webhooks.values()], nextId: this.nextId };
  }

  restore(saved: { webhooks: QuoWebhook[]; nextId: number } | undefined): void {
    this.clear();
    if (!saved) return;
    for (const webhook of saved.webhooks) this.webhooks.set(webhook.id, webhook);
    this.nextId = saved.nextId;
  }

  clear(): void {
    this.webhooks.clear();
    this.deliveries.clear();
    this.nextId = 1;
  }
}

/** A webhook as the API shows it: everything but the key. */
export function webhookView(webhook: QuoWebhook): Omit<QuoWebhook, "key"> {
  const { key: _key, ...shown } = webhook;
  return shown;
}
