/**
 * The OpenAPI document is the emulator's contract: routes, parameter rules, request bodies and the error codes all
 * come from `spec/openphone-openapi.json` at runtime, never from a hand-made copy. The same Ajv instance (JSON Schema
 * 2020-12, which OpenAPI 3.1 uses) validates requests here and responses in the contract test.
 */
import fs from "node:fs";
import path from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { operations } from "../../src/openphone/schema.js";

export type OperationId = keyof operations;

export const SPEC_PATH = path.resolve(import.meta.dirname, "..", "..", "spec", "openphone-openapi.json");
const SPEC_ID = "openphone-openapi";

interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  [key: string]: unknown;
}

export interface SpecParameter {
  name: string;
  in: "query" | "path";
  required: boolean;
  schema: JsonSchema;
  /** Ajv pointer to the parameter's schema inside the document. */
  schemaRef: string;
}

export interface SpecOperation {
  operationId: OperationId;
  method: string;
  pathTemplate: string;
  pathParamNames: string[];
  parameters: SpecParameter[];
  /** Ajv pointer to the JSON request body schema, when the operation takes one. */
  bodyRef?: string;
  bodyRequired: boolean;
  /** Status code → Ajv pointer of its JSON schema (absent for 204). */
  responseRefs: Map<number, string | undefined>;
  /** Status code → the error schema's `const` fields (code, title, description, docs, status). */
  errorConstants: Map<number, Record<string, unknown>>;
}

interface RawOperation {
  operationId: OperationId;
  parameters?: { name: string; in: "query" | "path"; required?: boolean; schema: JsonSchema }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}

interface RawSpec {
  paths: Record<string, Record<string, RawOperation>>;
  components: { schemas: Record<string, JsonSchema> };
}

const pointer = (...segments: string[]) => `${SPEC_ID}#/${segments.map((s) => s.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;

export class OpenPhoneSpec {
  readonly document: RawSpec;
  readonly operations: SpecOperation[];
  readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(file = SPEC_PATH) {
    this.document = JSON.parse(fs.readFileSync(file, "utf8")) as RawSpec;
    // strict off: the document carries OpenAPI keywords (`examples` as a string, `deprecated`) that are not JSON Schema.
    this.ajv = new Ajv2020({ strict: false, validateSchema: false, allErrors: true });
    (addFormatsModule as unknown as (ajv: Ajv2020) => void)(this.ajv);
    this.ajv.addSchema(this.document, SPEC_ID);
    this.operations = [];
    for (const [pathTemplate, methods] of Object.entries(this.document.paths)) {
      for (const [method, raw] of Object.entries(methods)) {
        this.operations.push(this.describe(pathTemplate, method, raw));
      }
    }
  }

  private describe(pathTemplate: string, method: string, raw: RawOperation): SpecOperation {
    const base = ["paths", pathTemplate, method];
    const pathParamNames = [...pathTemplate.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const parameters: SpecParameter[] = (raw.parameters ?? []).map((p, index) => ({
      name: p.name,
      in: p.in,
      required: p.required === true,
      schema: p.schema,
      schemaRef: pointer(...base, "parameters", String(index), "schema"),
    }));
    const json = raw.requestBody?.content?.["application/json"];
    const responseRefs = new Map<number, string | undefined>();
    const errorConstants = new Map<number, Record<string, unknown>>();
    for (const [status, response] of Object.entries(raw.responses)) {
      const schema = response.content?.["application/json"]?.schema;
      responseRefs.set(Number(status), schema ? pointer(...base, "responses", status, "content", "application/json", "schema") : undefined);
      if (Number(status) >= 400 && schema?.properties) {
        const constants: Record<string, unknown> = {};
        for (const [name, property] of Object.entries(schema.properties)) if (property.const !== undefined) constants[name] = property.const;
        errorConstants.set(Number(status), constants);
      }
    }
    return {
      operationId: raw.operationId,
      method: method.toUpperCase(),
      pathTemplate,
      pathParamNames,
      parameters,
      bodyRef: json ? pointer(...base, "requestBody", "content", "application/json", "schema") : undefined,
      bodyRequired: raw.requestBody?.required === true,
      responseRefs,
      errorConstants,
    };
  }

  byId(operationId: OperationId): SpecOperation {
    const found = this.operations.find((o) => o.operationId === operationId);
    if (!found) throw new Error(`operation ${operationId} is not in the spec`);
    return found;
  }

  /** A compiled validator for a schema pointer from `SpecOperation` (cached). */
  validator(ref: string): ValidateFunction {
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.getSchema(ref);
      if (!validate) throw new Error(`no schema at ${ref}`);
      this.validators.set(ref, validate);
    }
    return validate;
  }
}

let shared: OpenPhoneSpec | undefined;
/** The spec loaded once per process. */
export function loadOpenPhoneSpec(): OpenPhoneSpec {
  shared ??= new OpenPhoneSpec();
  return shared;
}
