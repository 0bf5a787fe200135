/**
 * Runs one pass of the Canvas → OpenPhone contact sync through the Worker's admin API, or shows its plan
 * (see scripts/lib/contacts-client.ts for the exit codes).
 *
 *   npm run contacts -- [--dry-run] [--json] [--url http://127.0.0.1:8787] [--token …]
 */
import { CONTACTS_USAGE, parseContactsArgs, runContactsCli, UsageError } from "./lib/contacts-client.ts";

try {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(CONTACTS_USAGE);
    process.exit(0);
  }
  const args = parseContactsArgs(process.argv.slice(2), process.env);
  process.exitCode = await runContactsCli(args, (text) => process.stdout.write(text));
} catch (error) {
  console.error(error instanceof UsageError ? `${error.message}\n\n${CONTACTS_USAGE}` : error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
}
