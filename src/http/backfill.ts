/**
 * `/admin/backfill`: start a run (`POST`, body `{since?, lines?}`, answers `{id}`), follow one
 * (`GET /admin/backfill/<id>`), list the latest (`GET`: `runs`, and the frequent cron's `sweeps` apart). Mounted in
 * `admin.ts`, behind its bearer `ADMIN_TOKEN`.
 *
 * A new run answers 202. When a line asked for is already being backfilled, nothing starts and the answer is 200
 * with that run's id and `alreadyRunning: true`.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { backfillDeps } from "../backfill/deps";
import { toProgress } from "../backfill/progress";
import { BackfillRequestError, parseBackfillRequest } from "../backfill/request";
import { BackfillUnavailableError, startBackfill } from "../backfill/start";
import { getRun, listRuns } from "../db/backfill-runs";
import { OpenPhoneError } from "../openphone/client";
import { GateClosedError } from "../gates/gated-fetch";

export const backfillApp = new Hono<{ Bindings: Env }>();

backfillApp.post("/", async (c) => {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = text.trim() === "" ? undefined : JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: "the body is not JSON; send {since?, lines?}" });
  }
  const deps = backfillDeps(c.env);
  try {
    const request = parseBackfillRequest(body, deps.now());
    const started = await startBackfill(deps, request, c.req.header("X-Backfill-Trigger") === "cli" ? "cli" : "admin");
    return started.started ? c.json({ id: started.id, lines: started.lines }, 202) : c.json({ id: started.id, lines: started.lines, alreadyRunning: true }, 200);
  } catch (error) {
    if (error instanceof BackfillRequestError) throw new HTTPException(400, { message: error.message });
    if (error instanceof BackfillUnavailableError || error instanceof GateClosedError) throw new HTTPException(503, { message: error.message });
    if (error instanceof OpenPhoneError) throw new HTTPException(502, { message: `OpenPhone: ${error.message}` });
    throw error;
  }
});

backfillApp.get("/", async (c) => {
  const [runs, sweeps] = await Promise.all([listRuns(c.env.DB), listRuns(c.env.DB, 5, "sweeps")]);
  const now = Date.now();
  return c.json({ runs: runs.map((run) => toProgress(run, [], now)), sweeps: sweeps.map((run) => toProgress(run, [], now)) });
});

backfillApp.get("/:id", async (c) => {
  const found = await getRun(c.env.DB, c.req.param("id"));
  if (!found) throw new HTTPException(404, { message: `no backfill run ${c.req.param("id")}` });
  return c.json(toProgress(found.run, found.lines, Date.now()));
});
