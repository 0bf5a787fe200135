/** What an operation handler receives and returns. Handlers are plain functions of the store and the request. */
import type { EmulatorConfig } from "../config.ts";
import type { OperationId } from "../spec.ts";
import type { EmulatorStore } from "../store.ts";
import type { EventScheduler } from "../webhooks/events.ts";

export interface ApiContext {
  store: EmulatorStore;
  scheduler: EventScheduler;
  config: EmulatorConfig;
  query: Record<string, unknown>;
  path: Record<string, string>;
  body: unknown;
  now: number;
}

export interface ApiResult {
  status: number;
  body?: unknown;
}

export type ApiHandler = (context: ApiContext) => ApiResult;
export type ApiHandlers = Record<OperationId, ApiHandler>;
