/**
 * Sends webhook deliveries: POST of the compact JSON envelope, signed at each attempt, with `openphone-signature`
 * for legacy webhooks and the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) for
 * those of the 2026-03-30 system, whose every attempt is also written to its delivery log.
 * At-least-once: a non-2xx answer, a timeout or a refused connection (a receiver that has not started yet) is retried
 * with exponential backoff and jitter, up to `maxAttempts`. The `duplicates` switch sends extra copies of each
 * delivery with the same envelope id, as a real at-least-once sender sometimes does.
 */
import type { EmulatorConfig, EmulatorStats } from "../config.ts";
import type { Webhook } from "../model.ts";
import type { QuoEnvelope } from "../quo/payloads.ts";
import type { QuoDelivery, QuoWebhook, QuoWebhookRegistry } from "../quo/registry.ts";
import { standardWebhookSignature } from "../quo/signature.ts";
import { openPhoneSignature } from "./signature.ts";

export interface WebhookEnvelope {
  id: string;
  object: "event";
  apiVersion: "v4";
  createdAt: string;
  type: string;
  data: { object: Record<string, unknown> };
}

export interface DeliveryRecord {
  webhookId: string;
  eventId: string;
  type: string;
  attempts: number;
  lastStatus: number | "error" | null;
  outcome: "pending" | "delivered" | "failed" | "dropped";
}

interface Delivery {
  record: DeliveryRecord;
  url: string;
  body: string;
  /** The signature headers of one attempt. */
  sign: () => Record<string, string>;
  /** Whether the webhook still takes deliveries. */
  active: () => boolean;
  /** The 2026-03-30 delivery log entry this delivery writes its attempts to. */
  logged?: QuoDelivery;
  /** The next attempt is a manual retry. */
  manual?: boolean;
}

const LOG_LIMIT = 2_000;

export class WebhookDispatcher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<AbortController>();
  private idleWaiters: (() => void)[] = [];
  /** Per webhook, the first attempt of the previous delivery: first attempts go out one after another, in order. */
  private readonly chains = new Map<string, Promise<void>>();
  /** The most recent deliveries, newest last (bounded). */
  readonly log: DeliveryRecord[] = [];

  constructor(
    private readonly config: () => EmulatorConfig,
    private readonly stats: EmulatorStats,
    private readonly isActive: (webhookId: string) => boolean,
    private readonly quo?: QuoWebhookRegistry,
  ) {}

  deliver(webhook: Webhook, envelope: WebhookEnvelope): void {
    const body = JSON.stringify(envelope);
    this.send(`v1:${webhook.id}`, webhook.id, envelope.id, envelope.type, () => ({
      url: webhook.url,
      body,
      sign: () => ({ "openphone-signature": openPhoneSignature(webhook.key, Date.now(), body) }),
      active: () => this.isActive(webhook.id),
    }));
  }

  /** A delivery of the 2026-03-30 system: logged with its attempts, signed the Standard Webhooks way. */
  deliverQuo(webhook: QuoWebhook, envelope: QuoEnvelope, resourceId: string | null): QuoDelivery | undefined {
    const registry = this.quo;
    if (!registry) return undefined;
    const body = JSON.stringify(envelope);
    let first: QuoDelivery | undefined;
    this.send(`quo:${webhook.id}`, `quo:${webhook.id}`, envelope.id, envelope.type, () => {
      // Each copy is a delivery of its own (its own `webhook-id`); the event id is the same.
      const logged = registry.newDelivery(webhook, { id: envelope.id, type: envelope.type, resourceId }, body, new Date());
      first ??= logged;
      return { url: webhook.url, body, logged, sign: () => this.quoHeaders(webhook, logged.id, body), active: () => registry.webhooks.get(webhook.id)?.status === "enabled" };
    });
    return first;
  }

  /** `POST /webhooks/{id}/events/{deliveryId}/retry`: one more attempt of a logged delivery, soon, marked manual. */
  retryQuo(delivery: QuoDelivery): void {
    const registry = this.quo;
    const webhook = registry?.webhooks.get(delivery.webhookId);
    if (!registry || !webhook) return;
    const record: DeliveryRecord = { webhookId: `quo:${webhook.id}`, eventId: delivery.eventId ?? "", type: delivery.eventType, attempts: 0, lastStatus: null, outcome: "pending" };
    this.track(record);
    delivery.status = "pending";
    const retry: Delivery = { record, url: webhook.url, body: delivery.requestBody, logged: delivery, manual: true, sign: () => this.quoHeaders(webhook, delivery.id, delivery.requestBody), active: () => true };
    this.later(10, () => void this.attempt(retry));
  }

  /** Sends one test delivery now, outside the chains and without copies. */
  deliverQuoTest(webhook: QuoWebhook, envelope: QuoEnvelope): QuoDelivery | undefined {
    const registry = this.quo;
    if (!registry) return undefined;
    const body = JSON.stringify(envelope);
    const logged = registry.newDelivery(webhook, { id: null, type: envelope.type, resourceId: null }, body, new Date());
    const record: DeliveryRecord = { webhookId: `quo:${webhook.id}`, eventId: envelope.id, type: envelope.type, attempts: 0, lastStatus: null, outcome: "pending" };
    this.track(record);
    void this.attempt({ record, url: webhook.url, body, logged, sign: () => this.quoHeaders(webhook, logged.id, body), active: () => true });
    return logged;
  }

  private quoHeaders(webhook: QuoWebhook, deliveryId: string, body: string): Record<string, string> {
    // The current key of the webhook at each attempt: after a rotation, retries are signed with the new one.
    const seconds = Math.floor(Date.now() / 1000);
    return { "webhook-id": deliveryId, "webhook-timestamp": String(seconds), "webhook-signature": standardWebhookSignature(webhook.key, deliveryId, seconds, body) };
  }

  private track(record: DeliveryRecord): void {
    this.log.push(record);
    if (this.log.length > LOG_LIMIT) this.log.splice(0, this.log.length - LOG_LIMIT);
    this.stats.webhooks.pending++;
  }

  private send(chain: string, webhookId: string, eventId: string, type: string, make: () => Omit<Delivery, "record">): void {
    const copies = 1 + this.config().webhook.duplicates;
    for (let copy = 0; copy < copies; copy++) {
      const record: DeliveryRecord = { webhookId, eventId, type, attempts: 0, lastStatus: null, outcome: "pending" };
      this.track(record);
      // Copies trail the original a little, like a sender that retried a delivery it wrongly thought was lost.
      // A receiver that answers keeps the order of a call's events; retries (and copies) may arrive out of order.
      const delivery: Delivery = { record, ...make() };
      if (copy > 0) {
        this.later(50 + Math.random() * 450, () => void this.attempt(delivery));
        continue;
      }
      const previous = this.chains.get(chain) ?? Promise.resolve();
      const next = previous.then(() => this.attempt(delivery));
      this.chains.set(chain, next);
      void next.then(() => {
        if (this.chains.get(chain) === next) this.chains.delete(chain);
      });
    }
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private finish(delivery: Delivery, outcome: DeliveryRecord["outcome"]): void {
    if (delivery.record.outcome !== "pending") return;
    delivery.record.outcome = outcome;
    if (delivery.logged) {
      delivery.logged.status = outcome === "delivered" ? "success" : "failed";
      delivery.logged.nextAttemptAt = null;
    }
    this.stats.webhooks.pending--;
    if (outcome === "delivered") this.stats.webhooks.delivered++;
    if (outcome === "failed") this.stats.webhooks.failed++;
    if (this.stats.webhooks.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async attempt(delivery: Delivery): Promise<void> {
    if (delivery.record.outcome !== "pending") return;
    if (!delivery.active()) return this.finish(delivery, "dropped");
    const settings = this.config().webhook;
    const attempt = delivery.record.attempts++;
    this.stats.webhooks.sent++;
    if (attempt > 0) this.stats.webhooks.retried++;
    const controller = new AbortController();
    this.inflight.add(controller);
    const timeout = setTimeout(() => controller.abort(), settings.timeoutMs);
    let ok = false;
    const started = Date.now();
    let responseBody = "";
    if (delivery.logged) delivery.logged.status = "sending";
    try {
      const response = await fetch(delivery.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...delivery.sign(), "user-agent": "OpenPhone-Webhooks-Emulator/1" },
        body: delivery.body,
        signal: controller.signal,
      });
      responseBody = await response.text().catch(() => "");
      delivery.record.lastStatus = response.status;
      ok = response.ok;
    } catch {
      delivery.record.lastStatus = "error";
    } finally {
      clearTimeout(timeout);
      this.inflight.delete(controller);
    }
    if (delivery.logged) {
      delivery.logged.attempts.push({
        id: `atmpt_${delivery.logged.attempts.length + 1}_${delivery.logged.id.slice(4, 14)}`,
        timestamp: new Date(started).toISOString(),
        status: ok ? "success" : "failed",
        responseStatusCode: typeof delivery.record.lastStatus === "number" ? delivery.record.lastStatus : 0,
        responseBody: responseBody.slice(0, 1_000),
        responseDurationMs: Date.now() - started,
        triggerType: delivery.manual ? "manual" : "scheduled",
        url: delivery.url,
      });
      delivery.manual = false;
      if (!ok) delivery.logged.status = "pending";
    }
    if (controller.signal.aborted && delivery.record.outcome !== "pending") return;
    if (ok) return this.finish(delivery, "delivered");
    if (!settings.retryOnFailure || delivery.record.attempts >= settings.maxAttempts) return this.finish(delivery, "failed");
    const backoff = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** attempt) * (0.8 + Math.random() * 0.4);
    if (delivery.logged) delivery.logged.nextAttemptAt = new Date(Date.now() + backoff).toISOString();
    this.later(backoff, () => void this.attempt(delivery));
  }

  /** Resolves once no delivery is pending (or after `timeoutMs`). */
  whenIdle(timeoutMs = 30_000): Promise<boolean> {
    if (this.stats.webhooks.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Forget everything pending: timers cleared, requests in flight aborted. */
  reset(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.inflight) controller.abort();
    this.inflight.clear();
    this.chains.clear();
    for (const record of this.log) if (record.outcome === "pending") record.outcome = "dropped";
    this.stats.webhooks.pending = 0;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
