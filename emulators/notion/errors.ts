/**
 * Errors the emulator answers with, in the body and wording the real API uses:
 * `{object: "error", status, code, message}` and, for bodies that fail the schema, messages of the form
 * `body failed validation: <path> should be ≤ \`N\`, instead was \`M\`.` (see the Notion API reference, §2.3 and §3).
 */

export type NotionErrorCode =
  | "invalid_json"
  | "invalid_request_url"
  | "invalid_request"
  | "validation_error"
  | "missing_version"
  | "unauthorized"
  | "restricted_resource"
  | "object_not_found"
  | "conflict_error"
  | "rate_limited"
  | "internal_server_error"
  | "service_unavailable"
  | "gateway_timeout"
  | "service_overload";

export class NotionApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: NotionErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** How Notion quotes an offending value: JSON, cut short so a huge payload does not echo back whole. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

export function validationError(message: string): NotionApiError {
  return new NotionApiError(400, "validation_error", message);
}

/** `body failed validation: <path> <rule>, instead was \`<value>\`.` */
export function bodyInvalid(path: string, rule: string, actual: unknown): NotionApiError {
  return validationError(`body failed validation: ${path} ${rule}, instead was \`${describeValue(actual)}\`.`);
}

export function tooMany(path: string, max: number, actual: number): NotionApiError {
  return validationError(`body failed validation: ${path}.length should be ≤ \`${max}\`, instead was \`${actual}\`.`);
}

export function notPresent(path: string, actual: unknown): NotionApiError {
  return bodyInvalid(path, "should be not present", actual);
}

export function mustBeDefined(path: string): NotionApiError {
  return bodyInvalid(path, "should be defined", undefined);
}

export function notFound(kind: "page" | "database" | "data_source" | "block" | "user", id: string): NotionApiError {
  return new NotionApiError(
    404,
    "object_not_found",
    `Could not find ${kind} with ID: ${id}. Make sure the relevant pages and databases are shared with your integration.`,
  );
}

export function invalidRequestUrl(): NotionApiError {
  return new NotionApiError(400, "invalid_request_url", "Invalid request URL.");
}

/** The JSON error body the SDK parses into an `APIResponseError`. */
export function errorBody(error: NotionApiError, requestId: string): Record<string, unknown> {
  return { object: "error", status: error.status, code: error.code, message: error.message, request_id: requestId };
}
