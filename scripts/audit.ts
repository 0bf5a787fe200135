/**
 * Compares OpenPhone with Notion through the Worker's admin API and prints what drifted (see
 * scripts/lib/audit-client.ts for the exit codes).
 *
 *   npm run audit -- --since 2026-01-01 [--repair] [--json] [--url http://127.0.0.1:8787] [--token …]
 */
import { AUDIT_USAGE, parseAuditArgs, runAuditCli, UsageError } from "./lib/audit-client.ts";

try {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(AUDIT_USAGE);
    process.exit(0);
  }
  const args = parseAuditArgs(process.argv.slice(2), process.env);
  process.exitCode = await runAuditCli(args, (text) => process.stdout.write(text));
} catch (error) {
  console.error(error instanceof UsageError ? `${error.message}\n\n${AUDIT_USAGE}` : error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
}
