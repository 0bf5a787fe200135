/**
 * `npm run soak -- --minutes N`: the sandbox under load, to show whether any line falls behind. Starts `npm start`
 * on free ports with its state persisted to a temporary directory, simulated traffic spread over every line, and two
 * busy loops that keep both cores of a small machine saturated. Every 30 s it prints, per line, the pending count and
 * the oldest pending age (`GET /admin/stats` → `lines`), and the emulators' own view, which trusts nothing the Worker
 * says: the line's OpenPhone items that have no Notion page yet and the age of the oldest of them. At the end it
 * stops the traffic, waits (bounded) for the lines to drain and for a sweep that began after it (which finds the texts
 * no webhook announced), and prints the final truth: `POST /admin/audit` from the earliest item the sandbox holds,
 * continued part after part until it is complete and required to account for every emulator item, and a
 * cross-check of the emulators themselves (every OpenPhone call and text against the Notion pages carrying its id).
 *
 *   npm run soak -- --minutes 20 [--calls-per-minute 6] [--messages-per-minute 12] [--no-hog] [--keep]
 *
 * Exit code 0: no line was more than 120 s behind at any sample (by either view) and the audit found no drift.
 * 1: a line fell behind, the audit or the cross-check found drift, or the sandbox failed. 2: inconclusive (the
 * Worker reports no per-line figures or has no audit, and nothing else failed).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ProcessGroup } from "./lib/processes.ts";
import { freePort, readLineFigures, type LineFigures } from "./lib/sandbox-control.ts";
import { emulatorStateFile, SANDBOX_ADMIN_TOKEN } from "./lib/sandbox.ts";
import { startSandboxTraffic } from "./lib/sandbox-sync.ts";
import { parseFlags } from "./lib/command-line.ts";

const LAG_LIMIT_SECONDS = 120;
const SAMPLE_EVERY_MS = 30_000;
const START_TIMEOUT_MS = 180_000;
/** After the traffic stops: a call's last webhook (the summary) follows it by about 40 s, then the lines must drain. */
const SETTLE_MS = 60_000;
const DRAIN_TIMEOUT_MS = 5 * 60_000;
const AUDIT_TIMEOUT_MS = 180_000;
/** The sweep runs every five minutes; one must begin and end after the traffic stops. */
const SWEEP_TIMEOUT_MS = 7 * 60_000;
/** Parts of the final audit at most (each within the Worker's request budget, continued from where it stopped). */
const AUDIT_PARTS = 50;

const USAGE = "Usage: npm run soak -- --minutes N [--calls-per-minute 6] [--messages-per-minute 12] [--no-hog] [--keep]";
const flags = parseFlags(
  {
    minutes: { type: "string" },
    "calls-per-minute": { type: "string", default: "6" },
    "messages-per-minute": { type: "string", default: "12" },
    "no-hog": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  USAGE,
);
if (flags.help) {
  console.log(`${USAGE}

  --minutes N               how long the traffic runs (required; up to 240)
  --calls-per-minute R      simulated calls per minute over all lines (default 6)
  --messages-per-minute R   simulated texts per minute over all lines (default 12)
  --no-hog                  do not start the two busy loops
  --keep                    keep the sandbox's state directory (printed at the end) instead of removing it`);
  process.exit(0);
}
const minutes = Number(flags.minutes);
const callsPerMinute = Number(flags["calls-per-minute"]);
const messagesPerMinute = Number(flags["messages-per-minute"]);
if (!(minutes > 0 && minutes <= 240) || !(callsPerMinute >= 0) || !(messagesPerMinute >= 0)) {
  console.error(`--minutes must be between 0 and 240 and the rates non-negative numbers\n${USAGE}`);
  process.exit(2);
}

const root = path.resolve(import.meta.dirname, "..");
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "openphone-notion-soak-"));
const logFile = path.join(stateDir, "sandbox.log");
const [workerPort, openphonePort, notionPort] = [await freePort(), await freePort(), await freePort()];
const workerUrl = `http://127.0.0.1:${workerPort}`;
const openphoneUrl = `http://127.0.0.1:${openphonePort}`;
const notionUrl = `http://127.0.0.1:${notionPort}`;

const group = new ProcessGroup();
const hogs: ChildProcess[] = [];
let finishing = false;

async function cleanUp(): Promise<void> {
  // A busy loop may already have ended by itself (past the longest run) before its exit event arrived: kill() then
  // answers ESRCH, which is what stopping it wanted anyway.
  for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) hog.kill("SIGKILL");
  // start.ts counts what is unsynced and stops its own children on SIGTERM; give it the time that takes.
  await group.stopAll(30_000);
  // workerd, killed with its group, can still be closing files in the state folder for a moment: ENOTEMPTY and EBUSY
  // are retried rather than ending a finished soak with a crash.
  if (!flags.keep) fs.rmSync(stateDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}
process.on("SIGINT", () => {
  if (finishing) process.exit(1);
  finishing = true;
  console.log("\nInterrupted: stopping the soak…");
  void cleanUp().then(() => process.exit(1));
});

const maxLag = new Map<string, { name: string; seconds: number }>();
const maxUnsyncedAge = new Map<string, { name: string; seconds: number }>();
let lagExceeded = false;
let figuresMissing = false;
const started = new Date();

try {
  console.log(`Soak: ${minutes} min, ${callsPerMinute} calls/min and ${messagesPerMinute} texts/min over every line${flags["no-hog"] ? "" : ", two busy loops beside it"}`);
  console.log(`Sandbox state ${stateDir}, its output in ${logFile}`);
  const sandbox = group.spawn(
    "sandbox",
    path.join(root, "node_modules", ".bin", "tsx"),
    ["scripts/start.ts", "--port", String(workerPort), "--openphone-port", String(openphonePort), "--notion-port", String(notionPort), "--persist", stateDir, "--no-traffic"],
    { cwd: root, env: process.env, quiet: true, logFile },
  );
  await waitForOutput(sandbox, "Press Ctrl-C to stop.", START_TIMEOUT_MS);
  console.log(`Sandbox ready: Worker ${workerUrl}, OpenPhone emulator ${openphoneUrl}, Notion emulator ${notionUrl}`);

  if (!flags["no-hog"]) {
    // Busy loops that also end on their own if this process dies without killing them, or past the longest run.
    const until = Date.now() + (minutes + 15) * 60_000;
    const loop = `for(let i=1;;i++){if(i%5e7===0){if(Date.now()>${until})process.exit();try{process.kill(${process.pid},0)}catch{process.exit()}}}`;
    for (let i = 0; i < 2; i++) hogs.push(spawn(process.execPath, ["-e", loop], { stdio: "ignore" }));
    console.log(`CPU hog: busy loops ${hogs.map((h) => h.pid).join(", ")}`);
  }
  await startSandboxTraffic(openphoneUrl, { callsPerMinute, messagesPerMinute });

  const trafficEnds = Date.now() + minutes * 60_000;
  while (Date.now() < trafficEnds) {
    await sleep(Math.min(SAMPLE_EVERY_MS, trafficEnds - Date.now()));
    assertRunning(sandbox);
    await sample("traffic");
  }

  await fetch(`${openphoneUrl}/_emulator/traffic`, { method: "DELETE", signal: AbortSignal.timeout(10_000) });
  console.log(`Traffic stopped. Waiting up to ${(SETTLE_MS + DRAIN_TIMEOUT_MS) / 60_000} min for the last webhooks and for every line to drain…`);
  const trafficStoppedAt = Date.now();
  await sleep(SETTLE_MS);
  let drained = await waitForDrain(sandbox);
  // Outgoing texts left "sent" or "undelivered" have no webhook: the frequent cron's sweep is what finds them.
  const sweep = await waitForSweepAfter(trafficStoppedAt);
  if (sweep.found > 0) drained = await waitForDrain(sandbox);
  console.log(drained ? (figuresMissing ? "Every OpenPhone item has its Notion page and no webhook delivery is pending." : "Every line drained.") : `The lines did not drain within ${DRAIN_TIMEOUT_MS / 60_000} min (or their figures are unknown).`);

  const crossCheck = await emulatorCrossCheck();
  // A call's createdAt is when it began (its duration before its webhook), so calls of the first minutes can begin
  // before the soak did: the audit's window starts just before the earliest item the fresh sandbox holds (OpenPhone's
  // `createdAfter` leaves out an item made at that very instant).
  const audit = await runAudit(new Date(Math.min(started.getTime(), crossCheck.earliest - 1000)), crossCheck.items);

  console.log("\nOldest pending age seen per line (max over all samples):");
  if (maxLag.size === 0) console.log("  n/a (the Worker reports no per-line figures)");
  for (const [lineId, { name, seconds }] of maxLag) console.log(`  ${name.padEnd(14)} ${lineId}  ${seconds.toFixed(0)} s${seconds > LAG_LIMIT_SECONDS ? `  OVER ${LAG_LIMIT_SECONDS} s` : ""}`);
  console.log("Oldest OpenPhone item without a Notion page seen per line (emulators, max over all samples):");
  for (const [lineId, { name, seconds }] of maxUnsyncedAge) console.log(`  ${name.padEnd(14)} ${lineId}  ${seconds.toFixed(0)} s${seconds > LAG_LIMIT_SECONDS ? `  OVER ${LAG_LIMIT_SECONDS} s` : ""}`);

  const failed = lagExceeded || audit === "drift" || crossCheck.verdict === "drift" || !drained;
  const inconclusive = !failed && (figuresMissing || audit === "unavailable");
  console.log(`\nSoak ${failed ? "FAILED" : inconclusive ? "INCONCLUSIVE" : "passed"}: ${[
    lagExceeded ? `a line fell more than ${LAG_LIMIT_SECONDS} s behind` : `no line over ${LAG_LIMIT_SECONDS} s${figuresMissing ? " (emulators' view only; the Worker's per-line figures n/a)" : ""}`,
    audit === "drift" ? "the audit found drift" : audit === "unavailable" ? "no audit on this Worker" : "audit clean",
    crossCheck.verdict === "drift" ? "the emulators disagree" : "emulators agree",
    ...(drained ? [] : ["not drained"]),
  ].join("; ")}`);
  finishing = true;
  await cleanUp();
  if (flags.keep) console.log(`State kept in ${stateDir}`);
  process.exit(failed ? 1 : inconclusive ? 2 : 0);
} catch (error) {
  console.error(`\nThe soak failed: ${error instanceof Error ? error.message : String(error)}`);
  const sandbox = group.started[0];
  if (sandbox) console.error(`Last sandbox output:\n${sandbox.output.slice(-20).join("\n")}`);
  finishing = true;
  await cleanUp();
  process.exit(1);
}

/** One 30-second sample: per line, pending and oldest pending age. Undefined when the figures are not available. */
async function sample(phase: string): Promise<LineFigures[] | undefined> {
  const elapsed = ((Date.now() - started.getTime()) / 60_000).toFixed(1).padStart(5);
  // The emulators' view needs nothing from the Worker: per line, OpenPhone items that have no Notion page yet.
  const compared = await compareEmulators();
  const cells = compared.lines.map((line) => {
    const seen = maxUnsyncedAge.get(line.lineId);
    if (!seen || line.oldestSeconds > seen.seconds) maxUnsyncedAge.set(line.lineId, { name: line.name, seconds: line.oldestSeconds });
    if (line.oldestSeconds > LAG_LIMIT_SECONDS) lagExceeded = true;
    return `${line.name}: ${line.unsynced} without a page, oldest ${line.oldestSeconds.toFixed(0)} s`;
  });
  console.log(`[${elapsed} min ${phase}] emulators: ${cells.join(" | ")}`);
  const figures = await readLineFigures(workerUrl, SANDBOX_ADMIN_TOKEN, 15_000);
  if (!figures.ok) {
    figuresMissing = true;
    console.log(`[${elapsed} min ${phase}] lines: n/a (${figures.reason})`);
    return undefined;
  }
  const workerCells = figures.lines.map((line) => {
    const name = line.name ?? line.lineId;
    if (line.answered === false) return `${name}: did not answer`;
    const seen = maxLag.get(line.lineId);
    if (!seen || line.oldestPendingSeconds > seen.seconds) maxLag.set(line.lineId, { name, seconds: line.oldestPendingSeconds });
    if (line.oldestPendingSeconds > LAG_LIMIT_SECONDS) lagExceeded = true;
    return `${name}: ${line.pending} pending, oldest ${line.oldestPendingSeconds.toFixed(0)} s${line.lastError ? ` (last error: ${line.lastError})` : ""}`;
  });
  console.log(`[${elapsed} min ${phase}] lines: ${workerCells.length > 0 ? workerCells.join(" | ") : "no lines yet"}`);
  return figures.lines;
}

/** Waits (bounded) until every line has nothing pending and no webhook delivery is pending. */
async function waitForDrain(sandbox: { name: string; child: ChildProcess; output: string[] }): Promise<boolean> {
  const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (Date.now() < drainDeadline) {
    assertRunning(sandbox);
    const lines = await sample("drain");
    const webhooksPending = await emulatorWebhooksPending();
    // Without per-line figures, drained means every OpenPhone item has its Notion page.
    let settled: boolean;
    if (lines !== undefined) settled = lines.every((line) => line.pending === 0);
    else {
      const { missing } = await compareEmulators();
      console.log(`  emulators: ${missing.length} announced OpenPhone item(s) without a Notion page yet; ${webhooksPending ?? "unknown"} webhook delivery(ies) pending`);
      settled = missing.length === 0;
    }
    if (settled && webhooksPending === 0) return true;
    await sleep(10_000);
  }
  return false;
}

/**
 * Waits (bounded) for a sweep that started after the traffic stopped to end, firing the frequent cron as the sandbox
 * does (the Worker sweeps when `SWEEP_MINUTES` have passed since the last). Answers how many items it found.
 */
async function waitForSweepAfter(at: number): Promise<{ found: number }> {
  const deadline = Date.now() + SWEEP_TIMEOUT_MS;
  console.log(`Waiting up to ${SWEEP_TIMEOUT_MS / 60_000} min for a sweep of recent conversations that began after the traffic stopped…`);
  while (Date.now() < deadline) {
    await fetch(`${workerUrl}/__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`, { signal: AbortSignal.timeout(60_000) }).catch(() => undefined);
    const listed = await fetch(`${workerUrl}/admin/backfill`, { headers: { Authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}` }, signal: AbortSignal.timeout(15_000) })
      .then((r) => (r.ok ? (r.json() as Promise<{ sweeps?: { status: string; startedAt: string; handed: number; written: number; error: string | null }[] }>) : undefined))
      .catch(() => undefined);
    if (listed && !listed.sweeps) {
      console.log("  this Worker does not sweep (GET /admin/backfill lists no sweeps)");
      return { found: 0 };
    }
    const done = listed?.sweeps?.find((s) => Date.parse(s.startedAt) > at && s.status !== "running");
    if (done) {
      console.log(`  sweep ${done.status} (started ${done.startedAt}): found ${done.handed} item(s) no webhook announced${done.error ? `; ${done.error}` : ""}`);
      return { found: done.handed };
    }
    await sleep(30_000);
  }
  console.log("  no sweep ended in time");
  return { found: 0 };
}

/**
 * `POST /admin/audit` since the soak began: the Worker's own comparison of OpenPhone with Notion. It must account for
 * every one of the emulator's `expected` items (checked, or skipped as an unfinished call); fewer is drift too.
 */
async function runAudit(since: Date, expected: number): Promise<"clean" | "drift" | "unavailable"> {
  const total = { checked: 0, skipped: 0, missing: [] as unknown[], duplicated: [] as unknown[], stale: [] as unknown[], complete: false, parts: 0, stoppedBy: "" };
  let after: string | undefined;
  while (total.parts < AUDIT_PARTS) {
    let response: Response;
    try {
      response = await fetch(`${workerUrl}/admin/audit`, {
        method: "POST",
        headers: { Authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ since: since.toISOString(), ...(after ? { after } : {}) }),
        signal: AbortSignal.timeout(AUDIT_TIMEOUT_MS),
      });
    } catch (error) {
      console.log(`\nAudit: POST /admin/audit did not answer within ${AUDIT_TIMEOUT_MS / 1000} s (${error instanceof Error ? error.message : String(error)})`);
      return "drift";
    }
    if (response.status === 404) {
      console.log("\nAudit: NOT AVAILABLE: this Worker has no POST /admin/audit, so the Worker's own comparison was not made.");
      return "unavailable";
    }
    const text = await response.text();
    if (!response.ok) {
      console.log(`\nAudit: POST /admin/audit answered ${response.status}: ${text.slice(0, 500)}`);
      return "drift";
    }
    const part = JSON.parse(text) as { checked: number; skipped?: number; missing: unknown[]; duplicated: unknown[]; stale: unknown[]; complete: boolean; stoppedBy?: string; next?: string };
    total.parts++;
    total.checked += part.checked;
    total.skipped += part.skipped ?? 0;
    total.missing.push(...part.missing);
    total.duplicated.push(...part.duplicated);
    total.stale.push(...part.stale);
    total.complete = part.complete;
    total.stoppedBy = part.stoppedBy ?? "";
    if (part.complete || !part.next || part.next === after) break;
    after = part.next;
  }
  const unaccounted = expected - total.checked - total.skipped;
  console.log(`\nAudit since ${since.toISOString()} (${total.parts} part(s)): ${total.checked} checked of the emulator's ${expected}${total.skipped ? ` (${total.skipped} unfinished call(s) skipped)` : ""}, ${total.missing.length} missing, ${total.duplicated.length} duplicated, ${total.stale.length} stale${total.complete ? "" : `; INCOMPLETE (${total.stoppedBy})`}${unaccounted > 0 ? `; ${unaccounted} item(s) the audit never looked at` : ""}`);
  for (const [kind, items] of [["missing", total.missing], ["duplicated", total.duplicated], ["stale", total.stale]] as const) {
    for (const item of items.slice(0, 20)) console.log(`  ${kind}: ${JSON.stringify(item)}`);
    if (items.length > 20) console.log(`  … and ${items.length - 20} more ${kind}`);
  }
  return total.missing.length + total.duplicated.length + total.stale.length > 0 || !total.complete || unaccounted > 0 ? "drift" : "clean";
}

/**
 * The emulators' own view, independent of the Worker: every call and text the OpenPhone emulator holds (from its
 * saved state) against the Notion pages whose `Call ID` / `Message ID` carries it. Existence and uniqueness only;
 * completeness of each page is the audit's part.
 */
async function emulatorCrossCheck(): Promise<{ verdict: "clean" | "drift"; items: number; earliest: number }> {
  const { calls, messages, missing, unannounced, duplicated, earliest } = await compareEmulators();
  console.log(`Emulators: ${calls} calls and ${messages} texts in OpenPhone; ${missing.length} announced by a webhook without a Notion page, ${unannounced.length} never announced (outgoing texts left "sent" or "undelivered") without one, ${duplicated.length} with more than one`);
  for (const item of missing.slice(0, 20)) console.log(`  no page: ${item}`);
  for (const item of unannounced.slice(0, 20)) console.log(`  no page, never announced (the sweep should have found it): ${item}`);
  for (const item of duplicated.slice(0, 20)) console.log(`  duplicated: ${item}`);
  return { verdict: missing.length + unannounced.length + duplicated.length > 0 ? "drift" : "clean", items: calls + messages, earliest };
}

interface EmulatorComparison {
  calls: number;
  messages: number;
  /** Announced by a webhook and still without a Notion page: the Worker is behind. */
  missing: string[];
  /** Outgoing texts that stayed "sent" or "undelivered": OpenPhone sends no webhook, only the sweep finds them. */
  unannounced: string[];
  duplicated: string[];
  /** The earliest `createdAt` of any item (ms), or Infinity when there is none. */
  earliest: number;
  /** Per OpenPhone line: announced items without a Notion page, and how long ago the oldest of them was announced. */
  lines: { lineId: string; name: string; unsynced: number; oldestSeconds: number }[];
}

async function compareEmulators(): Promise<EmulatorComparison> {
  type Item = { id: string; phoneNumberId: string | null; createdAt: string; completedAt?: string | null; direction: string; status: string };
  const saved = JSON.parse(fs.readFileSync(emulatorStateFile(stateDir, "openphone"), "utf8")) as {
    calls: { call: Item }[];
    messages: { message: Item }[];
    workspace: { phoneNumbers: { id: string; name: string }[] };
  };
  const dump = (await (await fetch(`${notionUrl}/_emulator/dump`, { signal: AbortSignal.timeout(30_000) })).json()) as { pages: { in_trash?: boolean; archived?: boolean; properties?: Record<string, { type: string; rich_text?: { plain_text: string }[]; title?: { plain_text: string }[] }> }[] };
  const pagesById = new Map<string, number>();
  for (const page of dump.pages) {
    if (page.in_trash || page.archived) continue;
    for (const name of ["Call ID", "Message ID"]) {
      const property = page.properties?.[name];
      const text = (property?.rich_text ?? property?.title ?? []).map((t) => t.plain_text).join("");
      if (text) pagesById.set(text, (pagesById.get(text) ?? 0) + 1);
    }
  }
  const now = Date.now();
  const calls = saved.calls.map((c) => ({ ...c.call, kind: "call", announced: true }));
  const texts = saved.messages.map((m) => ({ ...m.message, kind: "text", announced: m.message.direction === "incoming" || m.message.status === "delivered" }));
  const items = [...calls, ...texts];
  // A call exists for the sync from when it ends (its webhook); a text from when it is sent or received.
  const since = (item: Item) => Date.parse(item.completedAt ?? item.createdAt);
  const lineName = (id: string | null) => saved.workspace.phoneNumbers.find((l) => l.id === id)?.name ?? id;
  const describe = (item: (typeof items)[number]) => `${item.id} (${item.kind} on ${lineName(item.phoneNumberId)}, ${item.status}, ${((now - since(item)) / 1000).toFixed(0)} s ago)`;
  const missingItems = items.filter((item) => !pagesById.has(item.id));
  const behind = missingItems.filter((item) => item.announced);
  const lines = saved.workspace.phoneNumbers.map((line) => {
    const unsynced = behind.filter((item) => item.phoneNumberId === line.id);
    const oldest = Math.min(now, ...unsynced.map(since));
    return { lineId: line.id, name: line.name, unsynced: unsynced.length, oldestSeconds: (now - oldest) / 1000 };
  });
  return {
    calls: calls.length,
    messages: texts.length,
    missing: behind.map(describe),
    unannounced: missingItems.filter((item) => !item.announced).map(describe),
    duplicated: items.filter((item) => (pagesById.get(item.id) ?? 0) > 1).map(describe),
    earliest: Math.min(Infinity, ...items.map((item) => Date.parse(item.createdAt)).filter((at) => !Number.isNaN(at))),
    lines,
  };
}

async function emulatorWebhooksPending(): Promise<number | undefined> {
  try {
    const stats = (await (await fetch(`${openphoneUrl}/_emulator/stats`, { signal: AbortSignal.timeout(10_000) })).json()) as { webhooks: { pending: number } };
    return stats.webhooks.pending;
  } catch {
    return undefined;
  }
}

function assertRunning(entry: { name: string; child: ChildProcess; output: string[] }): void {
  if (entry.child.exitCode !== null || entry.child.signalCode !== null) throw new Error(`the sandbox exited (${entry.child.exitCode ?? entry.child.signalCode})`);
}

async function waitForOutput(entry: { name: string; child: ChildProcess; output: string[] }, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!entry.output.some((line) => line.includes(text))) {
    assertRunning(entry);
    if (Date.now() > deadline) throw new Error(`the sandbox was not ready within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
