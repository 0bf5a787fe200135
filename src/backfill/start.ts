/**
 * Starting a backfill run: check the request against the workspace's lines, create the run with one job chain per
 * line (so lines run in parallel), and queue each chain's first step; resend the step of chains that stalled.
 *
 * One run per line at a time: when any line asked for is already being backfilled, nothing starts and the caller gets
 * the id of the run that is backfilling it (`started: false`). D1's unique index on running chains makes that hold
 * even for two requests at the same instant. A chain that has not moved for an hour is declared failed first, so a
 * lost chain cannot block its line forever.
 */
import { incrementMetrics } from "../db/metrics";
import { abandonRun, failStaleChains, findRunningRun, finishRunIfDone, idleChains, insertRun, getRunWindow, lastSweepStartedAt, supersedeSweep, touchChain, type LineInfo, type RunTrigger } from "../db/backfill-runs";
import { newRequestCounter } from "../gates/gated-fetch";
import { lineIdentity, lineVerdict, skipReason } from "../line-filter/filter";
import type { BackfillDeps } from "./deps";
import { newLineCursor } from "./plan";
import { BackfillRequestError, type BackfillRequest } from "./request";

export const STALE_CHAIN_MS = 60 * 60_000;

/**
 * Sends the checkpointed step of every chain that has not moved for `BACKFILL_IDLE_SECONDS` again. A queue keeps its
 * messages across deploys, but a local restart (or a message lost between checkpoint and send) leaves a chain with
 * nothing in flight; a duplicate of a step that was in flight after all is recognised by its step number and dropped.
 * Called by every backfill request and by the frequent cron.
 */
export async function reviveIdleChains(deps: BackfillDeps): Promise<number> {
  const now = deps.now();
  const idle = await idleChains(deps.db, now, deps.config.BACKFILL_IDLE_SECONDS * 1000);
  for (const chain of idle) {
    await deps.enqueue([{ type: "backfill", runId: chain.runId, lineId: chain.lineId, job: chain.cursor }]);
    await touchChain(deps.db, chain.runId, chain.lineId, now);
  }
  return idle.length;
}

/**
 * The run that keeps this one from starting, if any. A sweep gives way to a backfill (whose window covers the sweep's)
 * and is ended; anything running keeps a sweep from starting.
 */
async function blockingRun(db: D1Database, lineIds: string[], trigger: RunTrigger, now: number): Promise<string | null> {
  for (let tries = 0; tries < lineIds.length + 1; tries++) {
    const running = await findRunningRun(db, lineIds);
    if (!running || trigger === "sweep" || (await getRunWindow(db, running))?.trigger !== "sweep") return running;
    await supersedeSweep(db, running, `ended for a ${trigger} backfill, whose window covers it`, now);
  }
  return findRunningRun(db, lineIds);
}

/**
 * The frequent cron's sweep: a short run over every line's conversations updated since its last sweep (or backfill),
 * for calls and texts no webhook announced: a text sent from the app that never gets a "delivered" event, a webhook
 * lost on the way. Every `SWEEP_MINUTES`; skipped while any line is being backfilled (that run covers it).
 */
export async function startSweep(deps: BackfillDeps, sweepMinutes: number): Promise<StartedRun | null> {
  const { config, db } = deps;
  if (sweepMinutes === 0 || !config.OPENPHONE_API_KEY) return null;
  const last = await lastSweepStartedAt(db);
  // A cron a few seconds early still counts as on time.
  if (last !== null && deps.now() - last < sweepMinutes * 60_000 - 30_000) return null;
  return startBackfill(deps, {}, "sweep");
}

export class BackfillUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackfillUnavailableError";
  }
}

export interface StartedRun {
  id: string;
  /** false: a run was already backfilling one of the lines; `id` is that run. */
  started: boolean;
  lines: string[];
}

export async function startBackfill(deps: BackfillDeps, request: BackfillRequest, trigger: RunTrigger): Promise<StartedRun> {
  const { db, config } = deps;
  if (!config.OPENPHONE_API_KEY) throw new BackfillUnavailableError("OPENPHONE_API_KEY is not set, so the backfill cannot list anything");
  const now = deps.now();
  await failStaleChains(db, now, STALE_CHAIN_MS);
  await reviveIdleChains(deps);

  if (request.lines) {
    const running = await blockingRun(db, request.lines, trigger, now);
    if (running) return { id: running, started: false, lines: request.lines };
  }

  const counter = newRequestCounter();
  const { data: phoneNumbers } = await deps.openphone(counter).request("listPhoneNumbers_v1", {});
  const known = new Map<string, LineInfo>(phoneNumbers.map((p) => [p.id, { lineId: p.id, number: p.number, name: p.name }]));
  if (request.lines) {
    const unknown = request.lines.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      const list = [...known.values()].map((l) => `${l.lineId} (${l.number})`).join(", ") || "none";
      throw new BackfillRequestError(`unknown line(s) ${unknown.join(", ")}; this workspace's lines are: ${list}`);
    }
  }
  // The line filter: a run never backfills a skipped line; asking for one by name is refused and says why.
  const filter = await deps.lineFilter();
  const identity = (line: LineInfo) => lineIdentity(line.lineId, line.number, config.DEFAULT_REGION);
  if (request.lines) {
    const skipped = request.lines.map((id) => known.get(id)!).filter((line) => lineVerdict(filter, identity(line)) === "skipped");
    if (skipped.length > 0) {
      throw new BackfillRequestError(`line(s) not synced: ${skipped.map((line) => `${line.lineId} (${skipReason(filter, identity(line))})`).join(", ")}`);
    }
  }
  const lines = (request.lines ? request.lines.map((id) => known.get(id)!) : [...known.values()]).filter((line) => lineVerdict(filter, identity(line)) !== "skipped");
  const lineIds = lines.map((l) => l.lineId);
  const running = await blockingRun(db, lineIds, trigger, now);
  if (running) return { id: running, started: false, lines: lineIds };

  const id = crypto.randomUUID();
  const first = newLineCursor();
  const inserted = await insertRun(
    db,
    { id, trigger, since: request.since ?? null, requestedLines: request.lines ?? null, lines, openphoneRequests: counter.openphone, startedAt: now },
    first,
  );
  await incrementMetrics(db, { "openphone.requests.backfill": counter.openphone }, now);
  if (!inserted) {
    const winner = await findRunningRun(db, lineIds);
    if (winner) return { id: winner, started: false, lines: lineIds };
    throw new BackfillUnavailableError("another backfill started on the same lines at the same moment and has already ended; try again");
  }
  try {
    await deps.enqueue(lineIds.map((lineId) => ({ type: "backfill", runId: id, lineId, job: first })));
  } catch (error) {
    await abandonRun(db, id, `could not queue the first jobs: ${String(error)}`, deps.now());
    throw new BackfillUnavailableError(`the queue refused the backfill jobs: ${String(error)}`);
  }
  if (lineIds.length === 0) await finishRunIfDone(db, id, deps.now());
  return { id, started: true, lines: lineIds };
}
