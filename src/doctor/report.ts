/**
 * What the doctor reports: one entry per check, each problem with the thing at fault and how to fix it. The Worker
 * answers it on `/admin/doctor` and `/health?deep=1`; `npm run doctor` prints it with `formatDoctorReport`.
 */

export type DoctorCheckName = "settings" | "calls" | "messages" | "canvas" | "mail" | "openphone" | "webhooks";

export interface DoctorProblem {
  check: DoctorCheckName;
  /** What is wrong, named: a setting, `Calls database, property "Duration"`, a webhook id. Never a secret's value. */
  subject: string;
  problem: string;
  fix: string;
  /** The Notion property at fault, by its name in Notion (Calls and Messages checks). */
  property?: string;
}

export interface DoctorCheck {
  name: DoctorCheckName;
  status: "ok" | "problem" | "skipped";
  /** One line: what was checked, or why it was skipped. */
  summary: string;
  problems: DoctorProblem[];
  durationMs: number;
}

export interface DoctorReport {
  ok: boolean;
  checkedAt: string;
  durationMs: number;
  checks: DoctorCheck[];
  problems: DoctorProblem[];
}

export const CHECK_TITLES: Record<DoctorCheckName, string> = {
  settings: "Settings",
  calls: "Notion Calls database",
  messages: "Notion Messages database",
  canvas: "Notion Canvas database",
  mail: "Notion Mail database",
  openphone: "OpenPhone API key",
  webhooks: "OpenPhone webhooks",
};

export function doctorReport(checks: DoctorCheck[], startedAt: number, now = Date.now()): DoctorReport {
  const problems = checks.flatMap((c) => c.problems);
  return { ok: problems.length === 0, checkedAt: new Date(now).toISOString(), durationMs: now - startedAt, checks, problems };
}

/** The report as lines a person reads: each check, then each problem with its fix. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const check of report.checks) {
    const mark = check.status === "ok" ? "ok  " : check.status === "skipped" ? "skip" : "FAIL";
    lines.push(`[${mark}] ${CHECK_TITLES[check.name] ?? check.name}: ${check.summary}`);
    for (const p of check.problems) {
      lines.push(`       ✗ ${p.subject}: ${p.problem}`);
      lines.push(`         fix: ${p.fix}`);
    }
  }
  lines.push("");
  lines.push(report.ok ? `No problems found (${report.durationMs} ms).` : `${report.problems.length} problem(s) found (${report.durationMs} ms).`);
  return lines.join("\n") + "\n";
}
