/**
 * The `npm run doctor` client: asks the Worker to run its checks (`GET /admin/doctor`) and prints each problem with
 * its fix. Split from the entry script so tests can drive it against a running Worker.
 */
import { parseArgs } from "node:util";
import { type DoctorReport, formatDoctorReport } from "../../src/doctor/report.ts";
import { DEFAULT_TOKEN, DEFAULT_URL, workerTarget } from "./backfill-client.ts";

/** The Worker bounds its run at 25 s; this leaves room for the round trip. */
export const DOCTOR_TIMEOUT_MS = 60_000;

export interface DoctorArgs {
  url: string;
  token: string;
  json: boolean;
}

export const USAGE = `Usage: npm run doctor -- [--url ${DEFAULT_URL}] [--token …] [--json]
  --url URL   the Worker (default: the sandbox, ${DEFAULT_URL})
  --token T   ADMIN_TOKEN (default: the sandbox's, ${DEFAULT_TOKEN}; or set ADMIN_TOKEN)
  --json      print the Worker's report as JSON
Exit code: 0 no problem, 1 problems found (each printed with its fix), 2 the Worker could not be asked.`;

export function parseDoctorArgs(argv: string[], env: NodeJS.ProcessEnv = {}): DoctorArgs {
  const { values } = parseArgs({ args: argv, options: { url: { type: "string" }, token: { type: "string" }, json: { type: "boolean", default: false } } });
  return { ...workerTarget(values, env), json: values.json ?? false };
}

/** Runs the checks and prints the report; resolves to the process exit code. */
export async function runDoctorCli(args: DoctorArgs, write: (text: string) => void): Promise<number> {
  let response: Response;
  try {
    response = await fetch(`${args.url}/admin/doctor`, { headers: { Authorization: `Bearer ${args.token}` }, signal: AbortSignal.timeout(DOCTOR_TIMEOUT_MS) });
  } catch (error) {
    const reason = error instanceof Error && error.name === "TimeoutError" ? `no answer within ${DOCTOR_TIMEOUT_MS / 1000} s` : error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    write(`cannot reach ${args.url}: ${reason}. Is the Worker running (npm start)?\n`);
    return 2;
  }
  const text = await response.text();
  if (response.status !== 200) {
    const hint = response.status === 401 ? " (pass the Worker's ADMIN_TOKEN with --token or ADMIN_TOKEN)" : "";
    write(`the Worker answered ${response.status}${hint}: ${text.slice(0, 300)}\n`);
    return 2;
  }
  let report: DoctorReport;
  try {
    report = JSON.parse(text) as DoctorReport;
    if (!Array.isArray(report.checks) || !Array.isArray(report.problems)) throw new Error("not a doctor report");
  } catch {
    write(`the Worker's answer is not a doctor report: ${text.slice(0, 300)}\n`);
    return 2;
  }
  write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `Doctor for ${args.url}\n\n${formatDoctorReport(report)}`);
  return report.ok ? 0 : 1;
}
