/**
 * The `npm run contacts` client: one pass of the Canvas → OpenPhone contact sync through the Worker's admin API
 * (`POST /admin/contacts/sync`), or with --dry-run what that pass would create, update or leave alone, and why.
 * Split from the entry script so tests can drive it against a local server.
 *
 * Exit codes: 0 the pass (or plan) completed with no failure; 1 some contacts failed or the pass stopped early;
 * 2 the request was refused or the Worker unreachable.
 */
import { parseArgs } from "node:util";
import type { ContactSyncItemReport, ContactSyncReport } from "../../src/contacts/sync-report.ts";
import { adminRequest, DEFAULT_TOKEN, DEFAULT_URL, UsageError, workerTarget } from "./backfill-client.ts";

export { UsageError };

export interface ContactsArgs {
  url: string;
  token: string;
  dryRun: boolean;
  json: boolean;
}

export const CONTACTS_USAGE = `Usage: npm run contacts -- [--dry-run] [--json] [--url ${DEFAULT_URL}] [--token …]
  --dry-run   print what would be created, updated or left alone in OpenPhone, and why; change nothing
  --json      print exactly the JSON answer
  --url URL   the Worker (default: the sandbox, ${DEFAULT_URL})
  --token T   ADMIN_TOKEN (default: the sandbox's, ${DEFAULT_TOKEN}; or set ADMIN_TOKEN)
A pass without --dry-run needs the Worker's CONTACTS_SYNC flag on.
Exit codes: 0 done, 1 some contacts failed or the pass stopped early, 2 refused or unreachable.`;

export function parseContactsArgs(argv: string[], env: NodeJS.ProcessEnv = {}): ContactsArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { "dry-run": { type: "boolean" }, json: { type: "boolean" }, url: { type: "string" }, token: { type: "string" } },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument(s): ${positionals.join(" ")}`);
  return { ...workerTarget(values, env), dryRun: values["dry-run"] ?? false, json: values.json ?? false };
}

const VERB: Record<ContactSyncItemReport["action"], [past: string, future: string]> = {
  create: ["created", "would create"],
  update: ["updated", "would update"],
  unchanged: ["unchanged", "unchanged"],
  skip: ["skipped", "would skip"],
  conflict: ["left alone (conflict)", "would leave alone (conflict)"],
  removed: ["removed from Canvas, kept in OpenPhone", "removed from Canvas, would keep in OpenPhone"],
  failed: ["failed", "failed"],
};

export function renderContactsReport(r: ContactSyncReport): string {
  const c = r.counts;
  let out = `${r.dryRun ? "Dry run" : "Contact sync"}: ${c.create} ${r.dryRun ? "to create" : "created"}, ${c.update} ${r.dryRun ? "to update" : "updated"}, ${c.unchanged} unchanged, ${c.skip} skipped, ${c.conflict} in conflict, ${c.removed} removed from Canvas, ${c.failed} failed`;
  out += ` (${r.openphoneRequests} OpenPhone requests${r.listed ? ", contacts listed afresh" : ""})\n`;
  if (r.stoppedEarly) out += `Stopped early: ${r.stoppedEarly}. The next pass goes on.\n`;
  const order: ContactSyncItemReport["action"][] = ["create", "update", "failed", "conflict", "skip", "removed"];
  for (const action of order) {
    for (const item of r.items.filter((i) => i.action === action)) {
      const why = [item.reason, item.conflict].filter(Boolean).join("; ");
      out += `  ${VERB[action][r.dryRun ? 1 : 0]}: ${item.title ?? "(untitled)"} (${item.pageId})${item.contactId ? ` → contact ${item.contactId}` : ""}${why ? ` — ${why}` : ""}\n`;
    }
  }
  const conflicts = r.items.filter((i) => i.conflict && i.action !== "conflict");
  if (conflicts.length > 0 && r.dryRun) out += `${conflicts.length} customer(s) share a number with another customer; each keeps its own contact.\n`;
  return out;
}

export async function runContactsCli(args: ContactsArgs, write: (text: string) => void): Promise<number> {
  const answer = await adminRequest(args, `/admin/contacts/sync${args.dryRun ? "?dryRun=1" : ""}`, { method: "POST", timeoutMs: 300_000 });
  if (!answer.ok) {
    write(`contact sync refused (${answer.status}): ${answer.message}\n`);
    return 2;
  }
  const report = JSON.parse(answer.text) as ContactSyncReport;
  write(args.json ? `${answer.text}\n` : renderContactsReport(report));
  return report.counts.failed > 0 || report.stoppedEarly ? 1 : 0;
}
