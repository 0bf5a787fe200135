/**
 * Checks a request against its operation's parameter and body schemas from the spec. Query strings are typed first
 * (arrays as repeated keys, the OpenAPI default `style: form, explode: true`; integers; booleans), then each value is
 * validated with the spec's own schema, so required parameters, enums, patterns and `maxResults` bounds behave as
 * the document says.
 */
import type { ErrorObject } from "ajv";
import { ApiError, type FieldError } from "./error-envelope.ts";
import type { OpenPhoneSpec, SpecOperation, SpecParameter } from "./spec.ts";

export interface ValidRequest {
  query: Record<string, unknown>;
  path: Record<string, string>;
  body: unknown;
}

function typeOf(schema: SpecParameter["schema"]): string {
  return Array.isArray(schema.type) ? schema.type.join("|") : (schema.type ?? "string");
}

function coerce(parameter: SpecParameter, raw: string[]): { value: unknown } | { error: FieldError } {
  const type = typeOf(parameter.schema);
  const fail = (message: string): { error: FieldError } => ({ error: { path: `${parameter.in}.${parameter.name}`, message, value: raw.length > 1 ? raw : raw[0], schema: { type } } });
  if (type === "array") return { value: raw };
  if (raw.length > 1) return fail("must be a single value");
  const text = raw[0]!;
  if (type === "integer" || type === "number") {
    if (!/^-?\d+(\.\d+)?$/.test(text.trim())) return fail(`must be ${type === "integer" ? "an integer" : "a number"}`);
    return { value: Number(text) };
  }
  if (type === "boolean") {
    if (text !== "true" && text !== "false") return fail("must be true or false");
    return { value: text === "true" };
  }
  return { value: text };
}

function describeAjvErrors(where: string, errors: ErrorObject[] | null | undefined, fallbackType: string): FieldError[] {
  return (errors ?? [])
    .filter((e) => e.keyword !== "anyOf" || errors!.length === 1)
    .map((e) => ({
      path: `${where}${e.instancePath.replace(/\//g, ".")}${e.keyword === "required" ? `.${String(e.params.missingProperty)}` : ""}`,
      message: e.message ?? "is invalid",
      value: e.data,
      schema: { type: typeof e.parentSchema?.type === "string" ? e.parentSchema.type : fallbackType },
    }));
}

export function validateRequest(spec: OpenPhoneSpec, operation: SpecOperation, searchParams: URLSearchParams, pathParams: Record<string, string>, body: unknown): ValidRequest {
  const errors: FieldError[] = [];
  const query: Record<string, unknown> = {};
  const path: Record<string, string> = {};
  for (const parameter of operation.parameters) {
    const raw = parameter.in === "path" ? [pathParams[parameter.name] ?? ""] : searchParams.getAll(parameter.name);
    if (raw.length === 0 || (raw.length === 1 && raw[0] === "" && typeOf(parameter.schema) !== "array")) {
      if (parameter.required) errors.push({ path: `${parameter.in}.${parameter.name}`, message: `${parameter.name} is required`, schema: { type: typeOf(parameter.schema) } });
      continue;
    }
    const typed = coerce(parameter, raw);
    if ("error" in typed) {
      errors.push(typed.error);
      continue;
    }
    const validate = spec.validator(parameter.schemaRef);
    if (!validate(typed.value)) {
      errors.push(...describeAjvErrors(`${parameter.in}.${parameter.name}`, validate.errors, typeOf(parameter.schema)));
      continue;
    }
    if (parameter.in === "path") path[parameter.name] = typed.value as string;
    else query[parameter.name] = typed.value;
  }
  if (operation.bodyRef) {
    if (body === undefined) {
      if (operation.bodyRequired) errors.push({ path: "body", message: "a JSON body is required", schema: { type: "object" } });
    } else {
      const validate = spec.validator(operation.bodyRef);
      if (!validate(body)) errors.push(...describeAjvErrors("body", validate.errors, "object"));
    }
  }
  if (errors.length) throw new ApiError(400, errors.map((e) => `${e.path}: ${e.message}`).join("; "), errors);
  return { query, path, body };
}
