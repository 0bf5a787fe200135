/**
 * Starts a backfill and shows its progress until it ends. Exit code 0 when it completed without failures, 1 when it
 * failed or some items failed, 2 when the request was refused.
 *
 *   npm run backfill -- --since 2026-01-01 [--line PN…] [--url http://127.0.0.1:8787] [--token …]
 */
import { parseBackfillArgs, runBackfillCli, UsageError, USAGE } from "./lib/backfill-client.ts";

try {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    process.exit(0);
  }
  const args = parseBackfillArgs(process.argv.slice(2), process.env);
  process.exitCode = await runBackfillCli(args, { write: (text) => process.stdout.write(text), isTTY: Boolean(process.stdout.isTTY) });
} catch (error) {
  console.error(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
}
