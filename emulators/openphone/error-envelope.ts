/**
 * Error answers in the spec's envelope: `{message, code, status, docs, title, trace, errors?, description}`. Each
 * operation's spec response fixes `code`, `title` and `description` per status (e.g. listCalls 400 is 0101400 "Too
 * Many Participants"), so they are read from the spec. Statuses the spec does not define for an operation (429, and
 * anything on an unknown route) reuse the family's code prefix, as the gateway would answer with the same envelope.
 */
import { randomBytes } from "node:crypto";
import type { SpecOperation } from "./spec.ts";

export interface FieldError {
  path: string;
  message: string;
  value?: unknown;
  schema: { type: string };
}

export interface ErrorEnvelope {
  message: string;
  code: string;
  status: number;
  docs: string;
  title: string;
  trace: string;
  description: string;
  errors?: FieldError[];
}

const GENERIC_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Unknown",
};

export function errorEnvelope(operation: SpecOperation | undefined, status: number, message: string, errors?: FieldError[]): ErrorEnvelope {
  const fromSpec = operation?.errorConstants.get(status);
  const familyCode = operation?.errorConstants.get(401)?.code;
  const code = typeof fromSpec?.code === "string" ? fromSpec.code : `${typeof familyCode === "string" ? familyCode.slice(0, 4) : "0000"}${status}`;
  const title = typeof fromSpec?.title === "string" ? fromSpec.title : (GENERIC_TITLES[status] ?? "Error");
  const envelope: ErrorEnvelope = {
    message,
    code,
    status,
    docs: typeof fromSpec?.docs === "string" ? fromSpec.docs : "https://openphone.com/docs",
    title,
    trace: randomBytes(12).toString("hex"),
    description: typeof fromSpec?.description === "string" ? fromSpec.description : title,
  };
  if (errors?.length) envelope.errors = errors;
  return envelope;
}

/** An expected failure inside a handler: becomes the envelope above. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }
}
