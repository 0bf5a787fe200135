/**
 * One API request, in the gateway's order: key auth (401), the per-key rate limit (429 with Retry-After), the
 * configured latency and injected errors, then spec validation (400) and the operation's handler.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { apiHandlers } from "./api/handlers.ts";
import type { OpenPhoneEmulator } from "./emulator.ts";
import { ApiError, errorEnvelope } from "./error-envelope.ts";
import { readJsonBody, sendJson } from "./http-io.ts";
import { validateRequest } from "./request-validation.ts";
import type { OpenPhoneSpec } from "./spec.ts";

export async function handleApiRequest(emulator: OpenPhoneEmulator, spec: OpenPhoneSpec, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? "GET";
  const matched = spec.match(method, url.pathname);
  const operation = matched?.operation;
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    emulator.stats.countRequest(operation?.operationId, status);
    sendJson(res, status, body, headers);
  };
  const fail = (status: number, message: string, headers?: Record<string, string>, errors?: ApiError["errors"]) => answer(status, errorEnvelope(operation, status, message, errors), headers);

  const key = req.headers.authorization?.trim();
  if (!key || key !== emulator.key) {
    return fail(401, key?.toLowerCase().startsWith("bearer ") ? "Invalid API key: send the key itself in Authorization, without Bearer" : "Missing or invalid API key in the Authorization header");
  }
  const limit = emulator.config.rateLimitPerSecond;
  const retryAfter = emulator.rateLimiter.take(key, limit);
  if (retryAfter !== undefined) {
    return fail(429, "API rate limit exceeded", { "retry-after": String(retryAfter), "x-ratelimit-limit-second": String(limit), "x-ratelimit-remaining-second": "0" });
  }
  if (emulator.config.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, emulator.config.latencyMs));
  if (!matched || !operation) return fail(404, `No route for ${method} ${url.pathname}`);
  if (emulator.config.errorRate > 0 && Math.random() < emulator.config.errorRate) return fail(500, "Injected failure (errorRate)");

  try {
    const body = operation.bodyRef ? await readJsonBody(req) : undefined;
    const request = validateRequest(spec, operation, url.searchParams, matched.pathParams, body);
    const handler = apiHandlers[operation.operationId];
    const result = handler({ store: emulator.store, scheduler: emulator.scheduler, config: emulator.config, ...request, now: Date.now() });
    answer(result.status, result.body);
  } catch (error) {
    if (error instanceof ApiError) return fail(error.status, error.message, undefined, error.errors);
    console.error(`openphone emulator: ${operation.operationId} failed`, error);
    return fail(500, "Internal error in the emulator");
  }
}
