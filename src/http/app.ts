/** The Worker's HTTP surface: one Hono app, one sub-app per surface, one error handler. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { createLogger } from "../observability/logger";
import { checkAtStartup } from "../doctor/schedule";
import { adminApp } from "./admin";
import { healthApp } from "./health";
import { webhooksApp } from "./webhooks";
import { mediaApp } from "./media";

export const app = new Hono<{ Bindings: Env }>();

// The doctor's start-up check, once per isolate, in the background of its first request.
app.use("*", async (c, next) => {
  let waitUntil: (promise: Promise<unknown>) => void;
  try {
    const ctx = c.executionCtx;
    waitUntil = (promise) => ctx.waitUntil(promise);
  } catch {
    waitUntil = (promise) => void promise;
  }
  checkAtStartup(c.env, { waitUntil }, c.req.raw);
  await next();
});

app.route("/health", healthApp);
app.route("/webhooks", webhooksApp);
app.route("/admin", adminApp);
app.route("/media", mediaApp);

app.notFound((c) => c.json({ error: "not_found", message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));

app.onError((error, c) => {
  if (error instanceof HTTPException) {
    return c.json({ error: error.status >= 500 ? "server_error" : "request_error", message: error.message }, error.status);
  }
  createLogger().error("unhandled error", { path: new URL(c.req.url).pathname, error });
  return c.json({ error: "server_error", message: "Internal error; see the Worker logs" }, 500);
});
