/**
 * Checks the Worker's configuration end to end and prints each problem with how to fix it. Exit code 0 when there is
 * none, 1 when there are problems, 2 when the Worker could not be asked.
 *
 *   npm run doctor -- [--url http://127.0.0.1:8787] [--token …] [--json]
 */
import { UsageError } from "./lib/backfill-client.ts";
import { parseDoctorArgs, runDoctorCli, USAGE } from "./lib/doctor-client.ts";

try {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    process.exit(0);
  }
  process.exitCode = await runDoctorCli(parseDoctorArgs(process.argv.slice(2), process.env), (text) => process.stdout.write(text));
} catch (error) {
  console.error(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
}
