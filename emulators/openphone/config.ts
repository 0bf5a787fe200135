/**
 * The emulator's switches (`PUT /_emulator/config`, partial updates) and its counters (`GET /_emulator/stats`).
 */
import { z } from "zod";

export const configSchema = z
  .object({
    rateLimitPerSecond: z.number().int().min(0),
    latencyMs: z.number().min(0).max(60_000),
    errorRate: z.number().min(0).max(1),
    /** Simulated time runs k times faster: gaps between a call's events are divided by k. */
    timeFactor: z.number().positive().max(100_000),
    /** Gaps after `call.completed`, before dividing by `timeFactor`. */
    eventGapsMs: z.object({ recording: z.number().min(0), transcript: z.number().min(0), summary: z.number().min(0), messageDelivered: z.number().min(0) }).strict(),
    webhook: z
      .object({
        duplicates: z.number().int().min(0).max(10),
        shuffle: z.boolean(),
        retryOnFailure: z.boolean(),
        maxAttempts: z.number().int().min(1).max(50),
        retryBaseMs: z.number().min(0).max(600_000),
        retryMaxMs: z.number().min(0).max(3_600_000),
        timeoutMs: z.number().min(100).max(120_000),
        /** Use `callSummary` / `callTranscript` as envelope types, as the docs' samples show. */
        docsTypeNames: z.boolean(),
        /**
         * Which webhook systems deliver: each event goes to the legacy `/v1/webhooks` registrations, to the 2026-03-30
         * `/webhooks` ones, or (as a workspace mid-migration sees it) to both.
         */
        systems: z.enum(["v1", "quo", "both"]),
      })
      .strict(),
    media: z
      .object({
        chunked: z.boolean(),
        expired: z.boolean(),
        expiredStatus: z.union([z.literal(403), z.literal(404)]),
        /** Throttle for media downloads; 0 = as fast as possible. */
        bytesPerSecond: z.number().min(0),
      })
      .strict(),
  })
  .strict();

export type EmulatorConfig = z.infer<typeof configSchema>;

export const configUpdateSchema = configSchema.extend({
  eventGapsMs: configSchema.shape.eventGapsMs.partial(),
  webhook: configSchema.shape.webhook.partial(),
  media: configSchema.shape.media.partial(),
}).partial();

export type EmulatorConfigUpdate = z.infer<typeof configUpdateSchema>;

export function defaultConfig(): EmulatorConfig {
  return {
    rateLimitPerSecond: 10,
    latencyMs: 0,
    errorRate: 0,
    timeFactor: 1,
    eventGapsMs: { recording: 5_000, transcript: 30_000, summary: 40_000, messageDelivered: 2_000 },
    webhook: { duplicates: 0, shuffle: false, retryOnFailure: true, maxAttempts: 12, retryBaseMs: 1_000, retryMaxMs: 30_000, timeoutMs: 10_000, docsTypeNames: false, systems: "both" },
    media: { chunked: false, expired: false, expiredStatus: 403, bytesPerSecond: 0 },
  };
}

export function applyConfigUpdate(config: EmulatorConfig, update: EmulatorConfigUpdate): EmulatorConfig {
  return {
    ...config,
    ...update,
    eventGapsMs: { ...config.eventGapsMs, ...update.eventGapsMs },
    webhook: { ...config.webhook, ...update.webhook },
    media: { ...config.media, ...update.media },
  };
}

export class EmulatorStats {
  requests = { total: 0, byOperation: {} as Record<string, number>, byStatus: {} as Record<string, number> };
  /** sent: HTTP attempts; delivered: attempts answered 2xx; failed: deliveries given up; retried: attempts after the first. */
  webhooks = { sent: 0, delivered: 0, failed: 0, retried: 0, pending: 0 };
  media = { requests: 0, bytesServed: 0, byStatus: {} as Record<string, number> };

  countRequest(operationId: string | undefined, status: number): void {
    this.requests.total++;
    if (operationId) this.requests.byOperation[operationId] = (this.requests.byOperation[operationId] ?? 0) + 1;
    this.requests.byStatus[String(status)] = (this.requests.byStatus[String(status)] ?? 0) + 1;
  }

  countMedia(status: number, bytes: number): void {
    this.media.requests++;
    this.media.bytesServed += bytes;
    this.media.byStatus[String(status)] = (this.media.byStatus[String(status)] ?? 0) + 1;
  }

  snapshot() {
    const memory = process.memoryUsage();
    return structuredClone({ requests: this.requests, webhooks: this.webhooks, media: this.media, process: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed } });
  }
}
