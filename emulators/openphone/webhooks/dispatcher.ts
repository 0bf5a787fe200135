/**
 * Sends webhook deliveries: POST of the compact JSON envelope, signed with `openphone-signature` at each attempt.
 * At-least-once: a non-2xx answer, a timeout or a refused connection (a receiver that has not started yet) is retried
 * with exponential backoff and jitter, up to `maxAttempts`. The `duplicates` switch sends extra copies of each
 * delivery with the same envelope id, as a real at-least-once sender sometimes does.
 */
import type { EmulatorConfig, EmulatorStats } from "../config.ts";
import type { Webhook } from "../model.ts";
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
  key: string;
  body: string;
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
  ) {}

  deliver(webhook: Webhook, envelope: WebhookEnvelope): void {
    const body = JSON.stringify(envelope);
    const copies = 1 + this.config().webhook.duplicates;
    for (let copy = 0; copy < copies; copy++) {
      const record: DeliveryRecord = { webhookId: webhook.id, eventId: envelope.id, type: envelope.type, attempts: 0, lastStatus: null, outcome: "pending" };
      this.log.push(record);
      if (this.log.length > LOG_LIMIT) this.log.splice(0, this.log.length - LOG_LIMIT);
      this.stats.webhooks.pending++;
      // Copies trail the original a little, like a sender that retried a delivery it wrongly thought was lost.
      // A receiver that answers keeps the order of a call's events; retries (and copies) may arrive out of order.
      const delivery = { record, url: webhook.url, key: webhook.key, body };
      if (copy > 0) {
        this.later(50 + Math.random() * 450, () => void this.attempt(delivery));
        continue;
      }
      const previous = this.chains.get(webhook.id) ?? Promise.resolve();
      const next = previous.then(() => this.attempt(delivery));
      this.chains.set(webhook.id, next);
      void next.then(() => {
        if (this.chains.get(webhook.id) === next) this.chains.delete(webhook.id);
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
    this.stats.webhooks.pending--;
    if (outcome === "delivered") this.stats.webhooks.delivered++;
    if (outcome === "failed") this.stats.webhooks.failed++;
    if (this.stats.webhooks.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async attempt(delivery: Delivery): Promise<void> {
    if (delivery.record.outcome !== "pending") return;
    if (!this.isActive(delivery.record.webhookId)) return this.finish(delivery, "dropped");
    const settings = this.config().webhook;
    const attempt = delivery.record.attempts++;
    this.stats.webhooks.sent++;
    if (attempt > 0) this.stats.webhooks.retried++;
    const controller = new AbortController();
    this.inflight.add(controller);
    const timeout = setTimeout(() => controller.abort(), settings.timeoutMs);
    let ok = false;
    try {
      const response = await fetch(delivery.url, {
        method: "POST",
        headers: { "content-type": "application/json", "openphone-signature": openPhoneSignature(delivery.key, Date.now(), delivery.body), "user-agent": "OpenPhone-Webhooks-Emulator/1" },
        body: delivery.body,
        signal: controller.signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      delivery.record.lastStatus = response.status;
      ok = response.ok;
    } catch {
      delivery.record.lastStatus = "error";
    } finally {
      clearTimeout(timeout);
      this.inflight.delete(controller);
    }
    if (controller.signal.aborted && delivery.record.outcome !== "pending") return;
    if (ok) return this.finish(delivery, "delivered");
    if (!settings.retryOnFailure || delivery.record.attempts >= settings.maxAttempts) return this.finish(delivery, "failed");
    const backoff = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** attempt) * (0.8 + Math.random() * 0.4);
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
