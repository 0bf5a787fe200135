/**
 * The one place that decides what a Notion failure means: retry later (rate limit, 5xx, timeout, gate closed),
 * blocked by configuration (token, sharing, missing database), or permanent for this request (400: the payload does
 * not fit the database, e.g. a renamed property, named in the result). Errors are the SDK's own (`APIResponseError`
 * with its `APIErrorCode`, `RequestTimeoutError`, `UnknownHTTPResponseError`); this module only reads them.
 */
import { APIErrorCode, APIResponseError, isNotionClientError, RequestTimeoutError, UnknownHTTPResponseError } from "@notionhq/client";
import { GateClosedError } from "../gates/gated-fetch";
import { retryAfterMs } from "../retry/retry-after";

export type NotionFailure =
  /** Try again later; `outcomeUnknown` when a write may have happened anyway (5xx, timeout after sending). */
  | { kind: "retry"; delayMs: number; message: string; outcomeUnknown: boolean }
  /** Nothing will work until the configuration is fixed (token, sharing, database id). Keep the events. */
  | { kind: "blocked"; delayMs: number; message: string }
  /** This payload will never be accepted as it is. */
  | { kind: "permanent"; message: string; property?: string };

/** The property Notion names in a validation message, if it names one. */
export function propertyFromNotionMessage(message: string): string | undefined {
  const patterns = [
    /^(.+?) is not a property that exists/,
    /body\.properties\.(?:\["([^"]+)"\]|([^.[\s]+))/,
    /^(.+?) is expected to be /,
    /Could not find property with name or id:\s*(.+?)\.?$/,
    /property [`"“](.+?)[`"”]/i,
  ];
  for (const pattern of patterns) {
    const match = message.match(pattern);
    const name = match?.slice(1).find((g) => g !== undefined);
    if (name) return name.trim();
  }
  return undefined;
}

export function classifyNotionError(error: unknown): NotionFailure {
  if (error instanceof GateClosedError) return { kind: "retry", delayMs: Math.max(1000, error.retryAfterMs), message: error.message, outcomeUnknown: false };
  if (error instanceof RequestTimeoutError) return { kind: "retry", delayMs: 5000, message: "Notion did not answer in time", outcomeUnknown: true };
  if (error instanceof APIResponseError) {
    const message = `Notion ${error.status} ${error.code}: ${error.message}`;
    switch (error.code) {
      case APIErrorCode.RateLimited:
      case APIErrorCode.ServiceOverload: {
        // No wait asked for (or none that can be read): 5 s, as for other passing failures.
        const asked = retryAfterMs(error.headers instanceof Headers ? error.headers.get("retry-after") : null);
        return { kind: "retry", delayMs: asked || 5000, message, outcomeUnknown: false };
      }
      case APIErrorCode.ConflictError:
        return { kind: "retry", delayMs: 2000, message, outcomeUnknown: false };
      case APIErrorCode.InternalServerError:
      case APIErrorCode.ServiceUnavailable:
      case APIErrorCode.GatewayTimeout:
        return { kind: "retry", delayMs: 5000, message, outcomeUnknown: true };
      case APIErrorCode.Unauthorized:
      case APIErrorCode.RestrictedResource:
      case APIErrorCode.ObjectNotFound:
        return { kind: "blocked", delayMs: 60_000, message };
      default:
        if (error.status >= 500) return { kind: "retry", delayMs: 5000, message, outcomeUnknown: true };
        return { kind: "permanent", message, property: propertyFromNotionMessage(error.message) };
    }
  }
  if (error instanceof UnknownHTTPResponseError || isNotionClientError(error)) {
    const status = (error as { status?: number }).status ?? 0;
    if (status === 400) return { kind: "permanent", message: `Notion 400: ${(error as Error).message}` };
    return { kind: "retry", delayMs: 5000, message: `Notion: ${(error as Error).message}`, outcomeUnknown: true };
  }
  // Network failures (fetch threw): the request may or may not have reached Notion.
  return { kind: "retry", delayMs: 5000, message: `Notion request failed: ${error instanceof Error ? error.message : String(error)}`, outcomeUnknown: true };
}

/**
 * Notion answered and refused this request, so the same request will be refused again: any 4xx but a rate limit
 * (429) or a conflict (409), which pass.
 */
export function isNotionRefusal(error: unknown): error is APIResponseError {
  if (!(error instanceof APIResponseError)) return false;
  const kind = classifyNotionError(error).kind;
  return kind === "blocked" || kind === "permanent";
}

/** The object no longer exists, or was deleted (Notion refuses to edit a deleted block with a validation error). */
export function isGoneFromNotion(error: unknown): boolean {
  return error instanceof APIResponseError && (error.code === APIErrorCode.ObjectNotFound || (error.code === APIErrorCode.ValidationError && /archived/i.test(error.message)));
}
