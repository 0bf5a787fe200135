/** Request bodies of every OpenPhone route (v1, 2026-03-30, control): at most 1 MiB of JSON. */
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./error-envelope.ts";
import { discardBody } from "../shared/hono.ts";

const MAX_BODY_BYTES = 1024 * 1024;

/** Middleware: a body beyond the limit is a 413 (thrown, so each surface answers it in its own error shape). */
export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: async (c) => {
    await discardBody(c);
    throw new ApiError(413, `Request body is larger than ${MAX_BODY_BYTES} bytes`);
  },
});

/** The parsed JSON body, `undefined` when empty; 400 when it is not JSON. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, `Request body is not valid JSON: ${(error as Error).message}`, [{ path: "body", message: "invalid JSON", schema: { type: "object" } }]);
  }
}
