/**
 * The `npm run audit` client: asks the Worker for an audit (`POST /admin/audit`) and prints the result, as JSON or
 * as a summary. Split from the entry script so tests can drive it against a local server.
 *
 * Exit codes: 0 Notion matches OpenPhone (or, with --repair, everything found was repaired); 1 drift found (without
 * --repair) or a repair failed; 2 the request was refused or the Worker unreachable; 3 no drift among what was
 * checked, but the audit could not check everything (a part made no progress).
 */
import { parseArgs } from "node:util";
import type { AuditReport } from "../../src/audit/types.ts";
import { adminRequest, DEFAULT_TOKEN, DEFAULT_URL, UsageError, workerTarget } from "./backfill-client.ts";

export { UsageError };

export interface AuditArgs {
  url: string;
  token: string;
  since: string;
  repair: boolean;
  json: boolean;
  maxRequests?: number;
}

export const AUDIT_USAGE = `Usage: npm run audit -- --since DATE [--repair] [--json] [--max-requests N] [--url ${DEFAULT_URL}] [--token …]
  --since DATE       audit calls and texts created since this date (date or ISO date-time)
  --repair           re-sync what is missing or stale, merge and trash duplicate pages
  --json             print exactly the JSON answer
  --max-requests N   spend at most N API requests per part (default and maximum: the Worker's budget per request);
                     a part that reaches it is continued by the next, until the whole window is checked
  --url URL          the Worker (default: the sandbox, ${DEFAULT_URL})
  --token T          ADMIN_TOKEN (default: the sandbox's, ${DEFAULT_TOKEN}; or set ADMIN_TOKEN)
Exit codes: 0 no drift (or all of it repaired), 1 drift found or a repair failed, 2 refused or unreachable,
3 could not check everything (no drift among what it checked).`;

export function parseAuditArgs(argv: string[], env: NodeJS.ProcessEnv = {}): AuditArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: "string" },
      repair: { type: "boolean" },
      json: { type: "boolean" },
      "max-requests": { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument(s): ${positionals.join(" ")}`);
  if (!values.since) throw new UsageError("--since DATE is required");
  if (Number.isNaN(Date.parse(values.since))) throw new UsageError(`--since must be a date or ISO date-time, got ${values.since}`);
  const target = workerTarget(values, env);
  const max = values["max-requests"];
  if (max !== undefined && !/^\d+$/.test(max)) throw new UsageError("--max-requests must be a whole number");
  return {
    ...target,
    since: values.since,
    repair: values.repair ?? false,
    json: values.json ?? false,
    ...(max !== undefined ? { maxRequests: Number(max) } : {}),
  };
}

function list(title: string, items: { id: string; kind: string; lineId: string; createdAt: string }[], detail: (i: never) => string = () => ""): string {
  if (items.length === 0) return "";
  return `${title}:\n${items.map((i) => `  ${i.kind.padEnd(7)} ${i.id}  line ${i.lineId}  ${i.createdAt}${detail(i as never)}`).join("\n")}\n`;
}

export function renderReport(r: AuditReport): string {
  let out = `Audit since ${r.since}: ${r.checked} calls and texts checked, ${r.missing.length} missing, ${r.duplicated.length} duplicated, ${r.stale.length} stale`;
  out += ` (${r.requests.openphone} OpenPhone and ${r.requests.notion} Notion requests)\n`;
  if (!r.complete) out += `Stopped early (${r.stoppedBy}): items after that point were not checked.\n`;
  out += list("Missing pages", r.missing);
  out += list("Duplicated pages", r.duplicated, (i: { pageIds: string[] }) => `  pages ${i.pageIds.join(", ")}`);
  out += list("Stale pages", r.stale, (i: { lacks: string[] }) => `  lacks ${i.lacks.join(", ")}`);
  if (r.repaired) {
    const trashed = r.repaired.duplicatesRepaired.reduce((n, d) => n + d.trashedPageIds.length, 0);
    out += `Repair: ${r.repaired.resynced.length} re-synced, ${trashed} duplicate page(s) merged and trashed, ${r.repaired.failed.length} failed\n`;
    for (const f of r.repaired.failed) out += `  failed ${f.id}: ${f.reason}\n`;
  }
  if (r.missing.length + r.duplicated.length + r.stale.length === 0 && r.complete) out += "Notion matches OpenPhone.\n";
  return out;
}

export function exitCodeFor(r: AuditReport, repair: boolean): number {
  const drift = r.missing.length + r.duplicated.length + r.stale.length;
  if (repair ? (r.repaired?.failed.length ?? 0) > 0 || (drift > 0 && !r.repaired) : drift > 0) return 1;
  return r.complete ? 0 : 3;
}

/** Parts one `npm run audit` sends at most; each part is one request to the Worker, within its budget. */
export const MAX_AUDIT_PARTS = 1000;

/** Adds a continued part to what the earlier parts found. */
export function mergeReports(total: AuditReport, part: AuditReport): AuditReport {
  const repaired = total.repaired || part.repaired
    ? {
        resynced: [...(total.repaired?.resynced ?? []), ...(part.repaired?.resynced ?? [])],
        duplicatesRepaired: [...(total.repaired?.duplicatesRepaired ?? []), ...(part.repaired?.duplicatesRepaired ?? [])],
        failed: [...(total.repaired?.failed ?? []), ...(part.repaired?.failed ?? [])],
      }
    : undefined;
  const { stoppedBy, next, ...rest } = part;
  return {
    ...rest,
    id: total.id,
    checked: total.checked + part.checked,
    missing: [...total.missing, ...part.missing],
    duplicated: [...total.duplicated, ...part.duplicated],
    stale: [...total.stale, ...part.stale],
    skipped: total.skipped + part.skipped,
    requests: { openphone: total.requests.openphone + part.requests.openphone, notion: total.requests.notion + part.requests.notion },
    ...(stoppedBy !== undefined ? { stoppedBy } : {}),
    ...(next !== undefined ? { next } : {}),
    ...(repaired ? { repaired } : {}),
  };
}

/**
 * Audits the whole window: when the Worker stops a part at its budget, the next part continues from where it
 * stopped (`after`), until the audit is complete, a part makes no progress, or `MAX_AUDIT_PARTS` is reached.
 */
export async function runAuditCli(args: AuditArgs, write: (text: string) => void): Promise<number> {
  let total: AuditReport | undefined;
  let after: string | undefined;
  let parts = 0;
  while (parts < MAX_AUDIT_PARTS) {
    const answer = await postAudit(args, after);
    if ("refused" in answer) {
      write(`audit refused (${answer.status}): ${answer.refused}${total ? ` (after ${parts} part(s) that checked ${total.checked} items)` : ""}\n`);
      return 2;
    }
    parts++;
    total = total ? mergeReports(total, answer.report) : answer.report;
    if (answer.report.complete || !answer.report.next) break;
    if (answer.report.next === after) {
      total = { ...total, stoppedBy: `${total.stoppedBy}; one conversation needs more than one part's budget (raise --max-requests)` };
      break;
    }
    after = answer.report.next;
    if (!args.json) write(`  part ${parts}: ${total.checked} checked so far (stopped by the ${answer.report.stoppedBy}); continuing…\n`);
  }
  const report = total!;
  write(args.json ? `${JSON.stringify({ ...report, parts })}\n` : renderReport(report));
  return exitCodeFor(report, args.repair);
}

async function postAudit(args: AuditArgs, after: string | undefined): Promise<{ report: AuditReport } | { refused: string; status: number }> {
  const body = { since: args.since, ...(args.repair ? { repair: true } : {}), ...(args.maxRequests ? { maxRequests: args.maxRequests } : {}), ...(after ? { after } : {}) };
  const answer = await adminRequest(args, "/admin/audit", { method: "POST", body, timeoutMs: 120_000 });
  return answer.ok ? { report: JSON.parse(answer.text) as AuditReport } : { refused: answer.message, status: answer.status };
}
