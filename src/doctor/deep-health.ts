/**
 * `GET /health?deep=1`: the plain health report with the doctor's report beside it, 503 when either has a problem.
 * The doctor runs first, so schema problems it has just resolved or found are what the plain report lists.
 */
import type { DoctorReport } from "./report";
import { recentDoctorReport } from "./schedule";

export function isDeepHealthRequest(value: string | undefined): boolean {
  return value !== undefined && !["0", "false", "no", "off"].includes(value.trim().toLowerCase());
}

export async function deepHealth<R extends { ok: boolean; status: string }>(env: Env, origin: string, shallow: () => Promise<R>): Promise<{ ok: boolean; body: R & { doctor: DoctorReport } }> {
  const doctor = await recentDoctorReport(env, origin);
  const report = await shallow();
  const ok = report.ok && doctor.ok;
  return { ok, body: { ...report, ok, status: ok ? report.status : "degraded", doctor } };
}
