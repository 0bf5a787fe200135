/**
 * The v1 API on Hono: one route per operation of the spec. Each request goes through the gateway's order: key auth
 * (401), the per-key rate limit (429 with Retry-After), the configured latency, unknown routes (404), injected errors,
 * then the body (413, 400), spec validation (400) and the operation's handler. Every answer is counted under its
 * operation.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { apiHandlers } from "./api/handlers.ts";
import type { OpenPhoneEmulator } from "./emulator.ts";
import { ApiError, errorEnvelope } from "./error-envelope.ts";
import { jsonBody, limitBody } from "./json-body.ts";
import { validateRequest } from "./request-validation.ts";
import type { OpenPhoneSpec, SpecOperation } from "./spec.ts";
import { json, type NodeBindings } from "../shared/hono.ts";

type ApiEnv = NodeBindings & { Variables: { operation: SpecOperation | undefined } };

/**
 * Everything before the operation runs, and the count of its answer. `operation` is the route's (`undefined` for the
 * catch-all); Hono answers a HEAD with the GET route, and the spec has no HEAD operations, so a HEAD has no route.
 */
function gateway(emulator: OpenPhoneEmulator, route: SpecOperation | undefined): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const operation = route?.method === c.req.method ? route : undefined;
    c.set("operation", operation);
    const fail = (status: number, message: string, headers?: Record<string, string>) => json(c, status, errorEnvelope(operation, status, message), headers);
    const answer = async (): Promise<Response> => {
      const key = c.req.header("authorization")?.trim();
      if (!key || key !== emulator.key) {
        return fail(401, key?.toLowerCase().startsWith("bearer ") ? "Invalid API key: send the key itself in Authorization, without Bearer" : "Missing or invalid API key in the Authorization header");
      }
      const limit = emulator.config.rateLimitPerSecond;
      const retryAfter = emulator.rateLimiter.take(key, limit);
      if (retryAfter !== undefined) {
        return fail(429, "API rate limit exceeded", { "retry-after": String(retryAfter), "x-ratelimit-limit-second": String(limit), "x-ratelimit-remaining-second": "0" });
      }
      if (emulator.config.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, emulator.config.latencyMs));
      if (!operation) return fail(404, `No route for ${c.req.method} ${new URL(c.req.url).pathname}`);
      if (emulator.config.errorRate > 0 && Math.random() < emulator.config.errorRate) return fail(500, "Injected failure (errorRate)");
      await next();
      return c.res;
    };
    const res = await answer();
    emulator.stats.countRequest(operation?.operationId, res.status);
    return res;
  };
}

export function apiRoutes(emulator: OpenPhoneEmulator, spec: OpenPhoneSpec): Hono<ApiEnv> {
  const api = new Hono<ApiEnv>();
  for (const operation of spec.operations) {
    const path = operation.pathTemplate.replace(/\{(\w+)\}/g, ":$1");
    const body = operation.bodyRef ? [limitBody] : [];
    api.on(operation.method, path, gateway(emulator, operation), ...body, async (c) => {
      const pathParams = Object.fromEntries(operation.pathParamNames.map((name) => [name, c.req.param(name) ?? ""]));
      const request = validateRequest(spec, operation, new URL(c.req.url).searchParams, pathParams, operation.bodyRef ? await jsonBody(c) : undefined);
      const handler = apiHandlers[operation.operationId];
      const result = handler({ store: emulator.store, scheduler: emulator.scheduler, config: emulator.config, ...request, now: Date.now() });
      return json(c, result.status, result.body);
    });
  }
  api.all("*", gateway(emulator, undefined));
  api.onError((error, c) => {
    const operation = c.get("operation");
    if (error instanceof ApiError) return json(c, error.status, errorEnvelope(operation, error.status, error.message, error.errors));
    console.error(`openphone emulator: ${operation?.operationId} failed`, error);
    return json(c, 500, errorEnvelope(operation, 500, "Internal error in the emulator"));
  });
  return api;
}
