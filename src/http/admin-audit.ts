/**
 * `POST /admin/audit {"since": DATE, "repair"?: bool, "maxRequests"?: n}`: compares OpenPhone with Notion for every
 * call and text since the date (see `src/audit/run.ts`) and answers `{checked, missing, duplicated, stale, …}`,
 * with `repaired` when repair was asked for. The run is stored in D1 (`audit_runs`). An audit that stopped at its
 * budget answers `complete: false` and `next`; the same body with `"after": next` checks the rest of its window.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { decodePosition } from "../audit/listing";
import { AUDIT_MAX_REQUESTS, AuditUnavailableError, runAudit } from "../audit/run";

const body = z
  .object({
    since: z.string().trim().refine((v) => !Number.isNaN(Date.parse(v)), "expected a date or ISO date-time"),
    repair: z.boolean().optional(),
    maxRequests: z.number().int().min(3).max(AUDIT_MAX_REQUESTS).optional(),
    after: z.string().trim().min(1).optional(),
  })
  .strict();

export const auditAdmin = new Hono<{ Bindings: Env }>().post("/", async (c) => {
  const parsed = body.safeParse(await c.req.json().catch(() => undefined));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HTTPException(400, { message: `The body must be {"since": "2026-01-01", "repair"?: true, "maxRequests"?: 3…${AUDIT_MAX_REQUESTS}, "after"?: <next>}${issue ? ` (${issue.path.join(".") || "body"}: ${issue.message})` : ""}` });
  }
  const since = Date.parse(parsed.data.since);
  if (since > Date.now()) throw new HTTPException(400, { message: "since is in the future" });
  const after = parsed.data.after === undefined ? undefined : decodePosition(parsed.data.after);
  if (after === null) throw new HTTPException(400, { message: "after is not a position an audit answered: send back the `next` of an incomplete audit as it was" });
  if (after && Date.parse(after.since) !== since) throw new HTTPException(400, { message: `after continues the audit since ${after.since}; send that since with it` });
  try {
    const report = await runAudit(c.env, { since, ...(after ? { after } : {}), repair: parsed.data.repair ?? false, maxRequests: parsed.data.maxRequests, trigger: "api" });
    return c.json(report, 200, { "Cache-Control": "no-store" });
  } catch (error) {
    if (error instanceof AuditUnavailableError) throw new HTTPException(503, { message: error.message });
    throw new HTTPException(502, { message: `The audit could not finish: ${error instanceof Error ? error.message : String(error)}` });
  }
});
