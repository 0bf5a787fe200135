/**
 * The `npm run backfill` client: starts a run through the admin API and follows it with a progress bar until it
 * ends. Split from the entry script so tests can drive it against a local server.
 */
import { parseArgs } from "node:util";
import type { BackfillProgress } from "../../src/backfill/types.ts";

export const DEFAULT_URL = "http://127.0.0.1:8787";
export const DEFAULT_TOKEN = "sandbox-admin-token";

export interface BackfillArgs {
  url: string;
  token: string;
  since?: string;
  lines: string[];
  intervalMs: number;
}

export const USAGE = `Usage: npm run backfill -- [--since 2026-01-01] [--line PN… …] [--url ${DEFAULT_URL}] [--token …]
  --since DATE   start of the window (date or ISO date-time); default: each line's watermark, or the lookback
  --line PN…     backfill only this line (repeat, or list several after one --line); default: every line
  --url URL      the Worker (default: the sandbox, ${DEFAULT_URL})
  --token T      ADMIN_TOKEN (default: the sandbox's, ${DEFAULT_TOKEN}; or set ADMIN_TOKEN)`;

export class UsageError extends Error {}

/** The Worker an admin command talks to: `--url` (default the sandbox's) and `--token`, `ADMIN_TOKEN` or the sandbox's. */
export function workerTarget(values: { url?: string; token?: string }, env: NodeJS.ProcessEnv): { url: string; token: string } {
  const url = (values.url ?? DEFAULT_URL).replace(/\/+$/, "");
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must start with http:// or https://, got ${url}`);
  return { url, token: values.token ?? env.ADMIN_TOKEN ?? DEFAULT_TOKEN };
}

/** What an admin command's request came back with: the body of a 200, or the status and reason of anything else. */
export type AdminAnswer = { ok: true; text: string } | { ok: false; status: number; message: string };

/**
 * One request of an admin command to the Worker (bearer token, JSON body when given). Throws, saying what to check,
 * when the Worker cannot be reached; a refusal comes back with the Worker's own reason.
 */
export async function adminRequest(target: { url: string; token: string }, path: string, init: { method: string; body?: unknown; timeoutMs: number }): Promise<AdminAnswer> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method: init.method,
      headers: { Authorization: `Bearer ${target.token}`, ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      signal: AbortSignal.timeout(init.timeoutMs),
    });
  } catch (error) {
    throw new Error(`cannot reach ${target.url}: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}. Is the Worker running (npm start)?`);
  }
  const text = await response.text();
  if (response.status === 200) return { ok: true, text };
  let message = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { message?: string; error?: string };
    message = body.message ?? body.error ?? message;
  } catch {
    // Not JSON: the text itself is the reason.
  }
  return { ok: false, status: response.status, message };
}

export function parseBackfillArgs(argv: string[], env: NodeJS.ProcessEnv = {}): BackfillArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: "string" },
      line: { type: "string", multiple: true },
      url: { type: "string" },
      token: { type: "string" },
      interval: { type: "string" },
    },
  });
  // `--line PNa PNb` lists several lines after one flag; anything else positional is a mistake.
  const stray = positionals.filter((p) => !/^PN[A-Za-z0-9]+$/.test(p));
  if (stray.length > 0) throw new UsageError(`unexpected argument(s): ${stray.join(" ")}`);
  const target = workerTarget(values, env);
  const intervalMs = values.interval ? Number(values.interval) : 1000;
  if (!Number.isFinite(intervalMs) || intervalMs < 50) throw new UsageError("--interval must be a number of milliseconds ≥ 50");
  return {
    ...target,
    ...(values.since ? { since: values.since } : {}),
    lines: [...(values.line ?? []), ...positionals],
    intervalMs,
  };
}

export type Progress = BackfillProgress;

/** One line of progress: a bar over conversations listed (the total grows while conversations are listed). */
export function renderProgress(p: Progress, width = 24): string {
  const share = p.status === "completed" ? 1 : p.planned > 0 ? Math.min(1, p.listed / p.planned) : 0;
  const filled = Math.round(share * width);
  const linesDone = p.lines.filter((l) => l.status !== "running").length;
  return (
    `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ` +
    `lines ${linesDone}/${p.lines.length} · conversations ${p.listed}/${p.planned} · items ${p.fetched} ` +
    `(handed ${p.handed}, written ${p.written}, skipped ${p.skipped}, failed ${p.failed}) · OpenPhone requests ${p.requests.openphone} · ${p.elapsedSeconds} s`
  );
}

export interface Output {
  write(text: string): void;
  isTTY: boolean;
}

async function call(args: BackfillArgs, path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(`${args.url}/admin/backfill${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${args.token}`, "Content-Type": "application/json", "X-Backfill-Trigger": "cli" },
    });
  } catch (error) {
    throw new Error(`cannot reach ${args.url}: ${error instanceof Error ? (error.cause as Error | undefined)?.message ?? error.message : String(error)}. Is the Worker running (npm start)?`);
  }
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { message: text.slice(0, 300) };
  }
  return { status: response.status, body };
}

/** Starts (or joins) a run and follows it; resolves to the process exit code. */
export async function runBackfillCli(args: BackfillArgs, out: Output, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<number> {
  const request = { ...(args.since ? { since: args.since } : {}), ...(args.lines.length ? { lines: args.lines } : {}) };
  const started = await call(args, "", { method: "POST", body: JSON.stringify(request) });
  if (started.status !== 200 && started.status !== 202) {
    out.write(`backfill refused (${started.status}): ${String(started.body.message ?? started.body.error ?? "no reason given")}\n`);
    return 2;
  }
  const id = String(started.body.id);
  out.write(started.body.alreadyRunning ? `A backfill of these lines is already running: following run ${id}\n` : `Backfill run ${id} started\n`);

  let lastPrinted = 0;
  for (;;) {
    const polled = await call(args, `/${encodeURIComponent(id)}`);
    if (polled.status !== 200) {
      out.write(`\ncannot read run ${id} (${polled.status}): ${String(polled.body.message ?? "")}\n`);
      return 1;
    }
    const progress = polled.body as unknown as Progress;
    const line = renderProgress(progress);
    const ended = progress.status !== "running";
    if (out.isTTY) out.write(`\r\x1b[2K${line}`);
    else if (ended || Date.now() - lastPrinted >= 5000) {
      out.write(`${line}\n`);
      lastPrinted = Date.now();
    }
    if (ended) {
      if (out.isTTY) out.write("\n");
      out.write(`Run ${id} ${progress.status} in ${progress.elapsedSeconds} s: ${progress.handed} handed to the lines, ${progress.written} written to Notion, ${progress.skipped} skipped, ${progress.failed} failed, ${progress.requests.openphone} OpenPhone requests\n`);
      // Listing ends before the lines have written everything they were handed: say so rather than imply it is done.
      const writing = progress.handed - progress.written - progress.failed;
      if (writing > 0) out.write(`${writing} item(s) still waiting to be written by their line: watch the dashboard's Lines table or GET /admin/stats.\n`);
      if (progress.error) out.write(`Last error: ${progress.error}\n`);
      return progress.status === "completed" && progress.failed === 0 ? 0 : 1;
    }
    await sleep(args.intervalMs);
  }
}
