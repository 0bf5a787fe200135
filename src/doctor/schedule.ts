/**
 * When the doctor runs inside the Worker: once per isolate, lazily on its first request (in the background, its
 * problems logged), and on `/health?deep=1`, which is public and so answered from a run at most
 * DEEP_HEALTH_MAX_AGE_MS old; callers arriving while a run is under way share it. `/admin/doctor` always runs afresh.
 */
import { getConfig } from "../config";
import { createLogger } from "../observability/logger";
import type { DoctorReport } from "./report";
import { runDoctor } from "./run";

export const DEEP_HEALTH_MAX_AGE_MS = 60_000;

type DoctorEnv = Parameters<typeof runDoctor>[0];

let latest: { startedAt: number; report: Promise<DoctorReport> } | undefined;
let startupChecked = false;

/** A fresh run, which later deep health checks reuse. */
export function runDoctorNow(env: DoctorEnv, origin?: string): Promise<DoctorReport> {
  const report = runDoctor(env, { origin });
  latest = { startedAt: Date.now(), report };
  // A run that failed outright is not reused: the next caller tries again.
  report.catch(() => {
    if (latest?.report === report) latest = undefined;
  });
  return report;
}

/** The latest run if it started less than `maxAgeMs` ago (or is still running), else a fresh one. */
export function recentDoctorReport(env: DoctorEnv, origin?: string, maxAgeMs = DEEP_HEALTH_MAX_AGE_MS): Promise<DoctorReport> {
  if (latest && Date.now() - latest.startedAt < maxAgeMs) return latest.report;
  return runDoctorNow(env, origin);
}

/** The start-up check: the first request of an isolate starts it without waiting for it. */
export function checkAtStartup(env: DoctorEnv, ctx: Pick<ExecutionContext, "waitUntil">, request: Request): void {
  if (startupChecked) return;
  startupChecked = true;
  const { config } = getConfig(env);
  if (!config.DOCTOR_AT_START) return;
  const log = createLogger(config.LOG_LEVEL, { component: "doctor" });
  const run = runDoctorNow(env, new URL(request.url).origin).then(
    (report) => {
      if (report.ok) log.info("start-up check: no problems", { durationMs: report.durationMs });
      else {
        // Bounded: the first problems in full, the rest counted.
        for (const p of report.problems.slice(0, 20)) log.error("start-up check found a problem", { check: p.check, subject: p.subject, problem: p.problem, fix: p.fix });
        if (report.problems.length > 20) log.error("start-up check found more problems", { more: report.problems.length - 20, see: "/admin/doctor" });
      }
    },
    (error: unknown) => log.error("start-up check failed", { error }),
  );
  ctx.waitUntil(run);
}
