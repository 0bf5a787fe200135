/**
 * `GET /health`: 200 when the configuration is complete and every binding answers, 503 otherwise. Problems name the
 * setting or component and what is wrong with it, never a value. A line whose oldest pending item has waited longer
 * than `ALERT_LAG_SECONDS`, or whose Line Durable Object did not answer, is a component of its own (`line:<id>`):
 * the sync is then degraded even though every binding answers.
 */
import { Hono } from "hono";
import { getConfig } from "../config";
import { migrationsApplied } from "../db/migrations";
import { listSchemaProblems } from "../db/sync-history";
import { deepHealth, isDeepHealthRequest } from "../doctor/deep-health";
import { laggingLines, lineLabel } from "./line-lag";
import { readLinesLiveness } from "../line/liveness";

export interface ComponentStatus {
  ok: boolean;
  detail?: string;
}

async function checkComponent(fn: () => Promise<string | undefined>): Promise<ComponentStatus> {
  try {
    const detail = await fn();
    return detail === undefined ? { ok: true } : { ok: true, detail };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

export async function healthReport(env: Env) {
  const { problems, config } = getConfig(env);
  const components: Record<string, ComponentStatus> = {
    config: problems.length === 0 ? { ok: true } : { ok: false, detail: `${problems.length} problem(s)` },
    d1: await checkComponent(async () => {
      if (!(await migrationsApplied(env.DB))) throw new Error("migrations not applied (run `wrangler d1 migrations apply DB`)");
      return undefined;
    }),
    r2: await checkComponent(async () => {
      await env.MEDIA.list({ limit: 1 });
      return undefined;
    }),
    queue: { ok: typeof env.SYNC_QUEUE?.send === "function", detail: env.SYNC_QUEUE ? undefined : "SYNC_QUEUE binding missing" },
  };
  // Problems Notion reported while pages were written (a renamed or retyped property, a database not shared).
  const schemaProblems = await listSchemaProblems(env.DB).catch(() => []);
  components.notion_schema =
    schemaProblems.length === 0
      ? { ok: true }
      : {
          ok: false,
          detail: schemaProblems
            .map((p) => `${p.database === "calls" ? "Calls" : "Messages"} database${p.property ? `, property "${p.property}"` : ""}: ${p.message}`)
            .join("; "),
        };
  // Reading the list of lines can fail (D1 down): that is a failing component too, not a healthy one.
  const lines = await readLinesLiveness(env).then(
    (lines) => ({ lines }),
    (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
  );
  if ("error" in lines) components.lines = { ok: false, detail: `could not list the lines: ${lines.error}` };
  else {
    const lagging = laggingLines(lines.lines, config.ALERT_LAG_SECONDS);
    components.lines = { ok: true, detail: `${lines.lines.length} line(s), none behind by more than ${config.ALERT_LAG_SECONDS} s` };
    if (lagging.length > 0) components.lines = { ok: false, detail: `${lagging.length} of ${lines.lines.length} line(s) behind` };
    for (const { line, reason } of lagging) components[`line:${line.lineId}`] = { ok: false, detail: `${lineLabel(line)}: ${reason}` };
  }
  const ok = Object.values(components).every((c) => c.ok);
  return { ok, status: ok ? ("ok" as const) : ("degraded" as const), components, problems, schemaProblems };
}

export const healthApp = new Hono<{ Bindings: Env }>().get("/", async (c) => {
  // `?deep=1`: the doctor's checks too (doctor/deep-health.ts).
  if (isDeepHealthRequest(c.req.query("deep"))) {
    const deep = await deepHealth(c.env, new URL(c.req.url).origin, () => healthReport(c.env));
    return c.json(deep.body, deep.ok ? 200 : 503, { "Cache-Control": "no-store" });
  }
  const report = await healthReport(c.env);
  return c.json(report, report.ok ? 200 : 503, { "Cache-Control": "no-store" });
});
