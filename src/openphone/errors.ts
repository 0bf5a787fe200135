/**
 * OpenPhone failures, typed like the Notion SDK's: `OpenPhoneError` carries a narrow `code` (read from the status,
 * since OpenPhone's own codes such as `0100404` differ per resource family; that one is kept as `apiCode`), the
 * status, the Retry-After wait and the remote trace id. `classifyOpenPhoneError` is the one place that decides what
 * a failure of an OpenPhone request means for the caller.
 */
import { GateClosedError } from "../gates/gated-fetch";
import type { OperationId } from "./types";

export type OpenPhoneErrorCode =
  /** The request did not get an answer (status 0). */
  | "network_error"
  | "invalid_request"
  | "unauthorized"
  | "payment_required"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "rate_limited"
  | "server_error"
  /** Any other 4xx. */
  | "request_error"
  /** OpenPhone answered, but with something that cannot be read. */
  | "invalid_response";

/** The code of an answer with this status (0: no answer). */
export function openPhoneErrorCode(status: number): OpenPhoneErrorCode {
  if (status === 0) return "network_error";
  if (status >= 500) return "server_error";
  const byStatus: Record<number, OpenPhoneErrorCode> = {
    400: "invalid_request",
    401: "unauthorized",
    402: "payment_required",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    429: "rate_limited",
  };
  return byStatus[status] ?? "request_error";
}

export interface OpenPhoneErrorDetails {
  status: number;
  operation: OperationId;
  /** Defaults to the code of `status`. */
  code?: OpenPhoneErrorCode;
  /** OpenPhone's own code from the error body, e.g. `0100404`. */
  apiCode?: string;
  retryAfterMs?: number;
  /** OpenPhone's request id, to quote to their support. */
  trace?: string;
}

/** An error answer from the API (or the network). */
export class OpenPhoneError extends Error {
  readonly status: number;
  readonly code: OpenPhoneErrorCode;
  readonly operation: OperationId;
  readonly apiCode?: string;
  readonly retryAfterMs?: number;
  readonly trace?: string;

  constructor(message: string, details: OpenPhoneErrorDetails) {
    super(message);
    this.name = "OpenPhoneError";
    this.status = details.status;
    this.code = details.code ?? openPhoneErrorCode(details.status);
    this.operation = details.operation;
    if (details.apiCode !== undefined) this.apiCode = details.apiCode;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.trace !== undefined) this.trace = details.trace;
  }
}

export function isOpenPhoneError(error: unknown): error is OpenPhoneError {
  return error instanceof OpenPhoneError;
}

export type OpenPhoneFailure =
  /** 404: the thing does not exist (or is not visible to this key). */
  | { kind: "not_found"; message: string }
  /** 401: the API key is refused; nothing will work until it is replaced. */
  | { kind: "unauthorized"; message: string }
  /** Any other 4xx, or an answer that cannot be read: asking again the same way will not help. */
  | { kind: "permanent"; message: string }
  /** 429: OpenPhone asked to slow down, for `retryAfterMs` when it said. */
  | { kind: "rate_limited"; message: string; retryAfterMs: number | undefined }
  /** 5xx or no answer: may pass. */
  | { kind: "transient"; message: string; retryAfterMs: number | undefined }
  /** The shared OpenPhone budget held the request back; `circuitOpen` when OpenPhone itself keeps failing. */
  | { kind: "gate_closed"; message: string; retryAfterMs: number; circuitOpen: boolean }
  /** Not a failure of an OpenPhone request (a bug, or another service). */
  | { kind: "unknown"; message: string };

/** What a failure of an OpenPhone request means: the one place that reads statuses. */
export function classifyOpenPhoneError(error: unknown): OpenPhoneFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof GateClosedError) {
    return { kind: "gate_closed", message, retryAfterMs: error.retryAfterMs, circuitOpen: error.reason === "circuit breaker open" };
  }
  if (!isOpenPhoneError(error)) return { kind: "unknown", message };
  if (error.status === 429) return { kind: "rate_limited", message, retryAfterMs: error.retryAfterMs };
  if (error.status === 0 || error.status >= 500) return { kind: "transient", message, retryAfterMs: error.retryAfterMs };
  if (error.status === 404) return { kind: "not_found", message };
  if (error.status === 401) return { kind: "unauthorized", message };
  return { kind: "permanent", message };
}

/** True for a failure that may pass if the same request is made later. */
export function isRetryableOpenPhoneFailure(failure: OpenPhoneFailure): boolean {
  return failure.kind === "rate_limited" || failure.kind === "transient" || failure.kind === "gate_closed";
}
