/**
 * Bearer authentication for the admin API: `Authorization: Bearer <ADMIN_TOKEN>`. Without a configured token the
 * admin API is closed (503), never open. The token is compared as SHA-256 digests with a constant-time comparison,
 * so neither its content nor its length leaks through timing.
 */
import type { MiddlewareHandler } from "hono";
import { getConfig } from "../config";
import { secretsEqual } from "../crypto/hmac";

export const requireAdminToken: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const expected = getConfig(c.env).config.ADMIN_TOKEN;
  if (!expected) {
    return c.json({ error: "admin_disabled", message: "ADMIN_TOKEN is not configured; set it (`wrangler secret put ADMIN_TOKEN`) to use the admin API" }, 503);
  }
  const presented = c.req.header("Authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  const challenge = { "WWW-Authenticate": 'Bearer realm="admin"' };
  if (!presented) {
    return c.json({ error: "unauthorized", message: "Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`" }, 401, challenge);
  }
  if (!(await secretsEqual(presented, expected))) {
    return c.json({ error: "unauthorized", message: "The admin token is wrong" }, 401, challenge);
  }
  await next();
};
