/**
 * Bearer-token check for the admin API: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (both sides
 * are hashed first, so neither the token's length nor its prefix leaks through timing). Fails closed when no token is
 * configured.
 */
import { createMiddleware } from "hono/factory";
import { getConfig } from "../config";

const encoder = new TextEncoder();

async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

export const requireAdmin = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const expected = getConfig(c.env).config.ADMIN_TOKEN;
  const match = c.req.header("Authorization")?.match(/^Bearer\s+(.+)$/i);
  if (!expected || !match || !(await sameSecret(match[1]!.trim(), expected))) {
    const message = expected ? "A valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)" : "ADMIN_TOKEN is not configured";
    return c.json({ error: "unauthorized", message }, 401, { "WWW-Authenticate": 'Bearer realm="admin"' });
  }
  await next();
});
