/**
 * `npm run bench -- --quick [--json FILE]`: measures the product against the targets of the specification on this
 * machine. Starts the end-to-end sandbox (both emulators, `setup`, the Worker under workerd), with Notion at its real
 * 3 requests/s and 300 ms of emulated latency and the product's default 10 s coalescing window, then runs (6 first,
 * right after the warm-up, so its 91-day window holds no conversation the other scenarios left):
 *
 *   1. real-time calls whose recording, transcript and summary arrive within the window: Notion requests per call;
 *   2. real-time texts: Notion requests per text;
 *   3. webhook → page latency (p50, p95) of the calls and texts of 1 and 2, and their Canvas lookups (known numbers,
 *      index warm: Notion requests);
 *   4. real-time calls with the OpenPhone emulator at its real pace (recording 5 s, transcript 30 s, summary 40 s after
 *      the call ends): Notion requests per call;
 *   5. texts from unknown numbers, a burst at once and then spread over a minute (30 s in --quick): Notion requests of
 *      their Canvas lookups;
 *   6. a backfill of seeded history that keeps Notion busy for 5 minutes (45 s in --quick): Notion requests per item,
 *      wall time against the time the rate limits force, the share of the configured Notion rate sustained and the
 *      429s while it ran;
 *   7. the Worker's own timings over 1–6 (its counters on /admin/stats): processing time per call or text without the
 *      window and gate waits, D1 write p95, R2 upload speed; and the dashboard's Canvas hit ratio;
 *   8. beside 4–6, in processes of their own: workerd's peak memory storing a 200 MB recording against a 1 MB one
 *      (scripts/lib/worker-memory.ts), and the emulators' configured latency (scripts/lib/emulator-latency.ts);
 *   9. scenario 1 again with `COALESCE_MS` = 0 (a runtime flag), for comparison with 1;
 *  10. a burst of signed webhooks: accepted per second, and accepted and merged into their lines per second;
 *  11. the Notion 429s of the whole run;
 *  12. the ablations (scripts/lib/bench-ablations.ts): each optimisation on and off, side by side in two more
 *      sandboxes.
 *
 * Prints a table, and writes `{rows, notMeasured}` to FILE with `--json`. What a run cannot measure (a scenario that
 * failed or timed out) is left out of the rows and listed under "not measured", with the reason.
 *
 * Exit code 0: every row meets its target. 1: a row misses it. 2: the sandbox did not start or the warm-up failed.
 */
import fs from "node:fs";
import { startE2ESandbox, type E2ESandbox } from "../test/e2e/harness.ts";
import { ablationRow, type BenchReport, type BenchRow, benchExitCode, benchRow, formatBenchTable, latencyP50Target, percentile, round } from "./lib/bench-report.ts";
import { BenchScenarios, PAGE_POLL_MS, type ScenarioResult } from "./lib/bench-scenarios.ts";
import { parseFlags } from "./lib/command-line.ts";
import { runAblations } from "./lib/bench-ablations.ts";
import { measureEmulatorLatency, NOTION_LATENCY, OPENPHONE_LATENCY } from "./lib/emulator-latency.ts";
import { MB, type StoredRecording, startMemoryWorker } from "./lib/worker-memory.ts";
import { metricsDelta, timingFigures } from "../src/observability/timings.ts";

/** The product's default coalescing window (the `COALESCE_MS` flag), which the bench runs with. */
const COALESCE_MS = 10_000;
/** Isolates reread the runtime flags at most a minute after they last read them (README, "Runtime flags"). */
const FLAGS_REREAD_WAIT_MS = 61_000;

/** The Notion rate the product is configured with in the bench (its default `NOTION_RATE_PER_SECOND`), and OpenPhone's. */
const NOTION_RATE = 3;
const OPENPHONE_RATE = 10;

const SIZES = {
  quick: { calls: 12, callSpacingMs: 1_000, texts: 15, textSpacingMs: 700, burst: 500, senders: 25, ...targetSizes(4, 10, 30, 6, 45, false) },
  full: { calls: 50, callSpacingMs: 1_000, texts: 50, textSpacingMs: 700, burst: 2_000, senders: 50, ...targetSizes(10, 20, 60, 12, 300, true) },
};

/** The sizes of the rows beyond requests per call and text (see "Targets" below). */
function targetSizes(realPaceCalls: number, unknownBurst: number, spreadSeconds: number, spreadTexts: number, sustainedSeconds: number, chunkedMemory: boolean) {
  // A backfill that keeps Notion busy for about `sustainedSeconds` at about one request per item: 2 calls to 3 texts.
  const items = Math.round((sustainedSeconds * NOTION_RATE) / 1.05);
  return { realPaceCalls, unknownBurst, spreadSeconds, spreadTexts, sustainedSeconds, backfillCalls: Math.round(items * 0.4), backfillTexts: items - Math.round(items * 0.4), chunkedMemory };
}

const USAGE = "Usage: npm run bench -- [--quick] [--json FILE]";
const flags = parseFlags({ quick: { type: "boolean", default: false }, json: { type: "string" }, help: { type: "boolean", short: "h", default: false } }, USAGE);
if (flags.help) {
  console.log(`${USAGE}

  --quick      ${SIZES.quick.calls} calls, ${SIZES.quick.texts} texts, a burst of ${SIZES.quick.burst} webhooks, ${SIZES.quick.sustainedSeconds} s of backfill (under 10 minutes on two cores)
               without it: ${SIZES.full.calls} calls, ${SIZES.full.texts} texts, a burst of ${SIZES.full.burst}, ${SIZES.full.sustainedSeconds / 60} minutes of backfill
  --json FILE  also write the rows and what was not measured to FILE`);
  process.exit(0);
}
const size = flags.quick ? SIZES.quick : SIZES.full;

const rows: BenchRow[] = [];
const notMeasured: string[] = [];
const began = Date.now();
const log = (text: string) => console.log(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${text}`);
const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!;

let sandbox: E2ESandbox;
try {
  log(`Starting the sandbox (COALESCE_MS ${COALESCE_MS}, Notion 3 requests/s with 300 ms latency)…`);
  sandbox = await startE2ESandbox({
    workerSettings: { COALESCE_MS: String(COALESCE_MS) },
    notionConfig: { rateLimit: { perSecond: 3, burst: 10 }, latencyMs: { p50: 300, p95: 300 } },
    // A call's recording, transcript and summary follow it by 0.6, 3.75 and 5 s: all within the window.
    openphoneConfig: { timeFactor: 8 },
  });
} catch (error) {
  console.error(`The sandbox did not start: ${reasonOf(error)}`);
  process.exit(2);
}

const scenarios = new BenchScenarios(sandbox);

/** workerd's peak memory storing a 1 MB and a 200 MB recording (and a chunked 200 MB one), after a warm-up copy. */
async function measureMemory(chunked: boolean): Promise<{ small: StoredRecording; large: StoredRecording; chunked?: StoredRecording }> {
  const worker = await startMemoryWorker();
  try {
    await worker.storeRecording("ACbenchwarm", 1 * MB, false);
    const small = await worker.storeRecording("ACbench1mb", 1 * MB, false);
    const large = await worker.storeRecording("ACbench200mb", 200 * MB, false);
    return { small, large, ...(chunked ? { chunked: await worker.storeRecording("ACbench200mbchunked", 200 * MB, true) } : {}) };
  } finally {
    await worker.close();
  }
}
const perItem = (result: ScenarioResult) => round(result.notionRequests / result.items);
const describe = (result: ScenarioResult) => `${result.notionRequests} Notion requests for ${result.items} in ${result.seconds.toFixed(0)} s ${JSON.stringify(result.byOperation)}`;
let calls: ScenarioResult | undefined;
let texts: ScenarioResult | undefined;
let runUsable = true;

try {
  log("Warming up: a call and a text on every line, and a cron pass for the Canvas index…");
  await scenarios.warmUp();
} catch (error) {
  runUsable = false;
  notMeasured.push(`every row (the warm-up failed: ${reasonOf(error)})`);
}

if (runUsable) {
  // The Worker's timings are its counters' growth over every scenario from here to the Canvas lookups.
  const timingsBefore = await scenarios.workerMetrics().catch(() => undefined);

  // The backfill runs first, on a workspace holding only the warm-up's conversations besides the seeded history: a
  // 91-day backfill lists every conversation in its window, and those the later scenarios leave (dozens, with
  // nothing new) would be listing the backfill of N items does not need.
  try {
    log(`Backfill (sustained load): ${size.backfillCalls} calls + ${size.backfillTexts} texts seeded into OpenPhone's history, about ${size.sustainedSeconds} s of Notion writes…`);
    const backfill = await scenarios.backfill(size.backfillCalls, size.backfillTexts, 7300);
    const forced = Math.max(backfill.notionRequests / NOTION_RATE, backfill.openphoneRequests / OPENPHONE_RATE);
    log(`  ${backfill.notionRequests} Notion and ${backfill.openphoneRequests} OpenPhone requests for ${backfill.items} items in ${backfill.seconds.toFixed(0)} s (Notion writing for ${backfill.writingSeconds.toFixed(0)} s), ${backfill.rateLimited} 429s, ${backfill.failed} failed ${JSON.stringify(backfill.byOperation)}`);
    const window = `${Math.round(backfill.writingSeconds)} s${flags.quick ? ", shortened in --quick; 5 min in the full bench" : ""}`;
    rows.push(benchRow(`Notion requests per item, backfill of ${backfill.items}, Canvas index warm`, round(backfill.notionRequests / backfill.items, 3), "requests/item", "≤ 1.05"));
    rows.push(benchRow(`backfill wall time ÷ the time the rate limits force (${backfill.seconds.toFixed(0)} s ÷ ${forced.toFixed(0)} s)`, round(backfill.seconds / forced), "×", "≤ 1.15"));
    rows.push(benchRow(`sustained Notion write rate, share of the configured ${NOTION_RATE}/s (backfill, ${window})`, round((100 * backfill.notionRequests) / Math.max(backfill.writingSeconds, 1) / NOTION_RATE, 1), "%", "≥ 90"));
    rows.push(benchRow(`Notion 429 responses under sustained load (${window})`, backfill.rateLimited, "responses", "0"));
  } catch (error) {
    notMeasured.push(`backfill requests per item, backfill time, sustained write rate (${reasonOf(error)})`);
  }

  try {
    log(`Real-time calls: ${size.calls}, one every ${size.callSpacingMs / 1000} s…`);
    calls = await scenarios.realtimeCalls(size.calls, size.callSpacingMs);
    log(`  ${describe(calls)}`);
    rows.push(benchRow("Notion requests per call, real time (recording, transcript, summary within the window)", perItem(calls), "requests/call", "≤ 1.2"));
  } catch (error) {
    notMeasured.push(`requests per call (${reasonOf(error)})`);
  }

  try {
    log(`Real-time texts: ${size.texts}, one every ${size.textSpacingMs / 1000} s…`);
    texts = await scenarios.realtimeTexts(size.texts, size.textSpacingMs);
    log(`  ${describe(texts)}`);
    rows.push(benchRow("Notion requests per text, real time", perItem(texts), "requests/text", "≤ 1.2"));
  } catch (error) {
    notMeasured.push(`requests per text (${reasonOf(error)})`);
  }

  const latencies = [...(calls?.latenciesMs ?? []), ...(texts?.latenciesMs ?? [])].filter(Number.isFinite).map((ms) => ms / 1000);
  if (latencies.length > 0) {
    log(`  latency over ${latencies.length} calls and texts (pages polled every ${PAGE_POLL_MS} ms)`);
    rows.push(benchRow("webhook → page latency p50 (calls and texts)", round(percentile(latencies, 50)), "s", latencyP50Target(COALESCE_MS)));
    // The specification sets no p95 target: shown beside p50 for comparison.
    rows.push(benchRow("webhook → page latency p95 (calls and texts)", round(percentile(latencies, 95)), "s", "—"));
  } else notMeasured.push("webhook → page latency (no call or text scenario completed)");

  // ---- Targets: real pace, Canvas lookups, backfill and sustained writes, the Worker's timings, memory ----
  // Scenarios that count Notion requests run one after another; the memory measurement (its own workerd) and the
  // emulator latency probes (emulators of their own) run beside them, as they touch nothing the counts see.
  const memory = measureMemory(size.chunkedMemory);
  const emulatorLatency = measureEmulatorLatency();
  // Awaited below; a failure meanwhile is reported there, not as an unhandled rejection.
  memory.catch(() => undefined);
  emulatorLatency.catch(() => undefined);
  const canvasQueries = (result: ScenarioResult) => result.byOperation["data_sources.query"] ?? 0;

  if (calls && texts) {
    rows.push(benchRow(`Notion requests for Canvas lookups, index warm (the ${calls.items} calls and ${texts.items} texts above, known numbers)`, canvasQueries(calls) + canvasQueries(texts), "requests", "0"));
  } else notMeasured.push("Canvas lookups with the index warm (the call or text scenario did not complete)");

  try {
    log(`Real-time calls at OpenPhone's real pace (recording 5 s, transcript 30 s, summary 40 s after the end): ${size.realPaceCalls}, one every ${size.callSpacingMs / 1000} s…`);
    const realPace = await scenarios.realPaceCalls(size.realPaceCalls, size.callSpacingMs);
    log(`  ${describe(realPace)}`);
    // The spec's ≤ 1.2 is for events within the window; at the real pace the transcript and summary come after it.
    rows.push(benchRow("Notion requests per call, real time, events at OpenPhone's real pace (5 s, 30 s, 40 s after the end)", perItem(realPace), "requests/call", "—"));
  } catch (error) {
    notMeasured.push(`requests per call at the real pace (${reasonOf(error)})`);
  }

  try {
    log(`Canvas lookups: a burst of ${size.unknownBurst} texts from unknown numbers at once…`);
    const burst = await scenarios.unknownNumberTexts(size.unknownBurst, 0);
    log(`  ${describe(burst)}`);
    rows.push(benchRow(`Notion requests for Canvas lookups, a burst of ${burst.items} unknown numbers`, canvasQueries(burst), "requests/burst", "≤ 1"));
  } catch (error) {
    notMeasured.push(`Canvas lookups for a burst of unknown numbers (${reasonOf(error)})`);
  }

  try {
    const spacingMs = (size.spreadSeconds * 1000) / size.spreadTexts;
    log(`Canvas lookups: ${size.spreadTexts} texts from unknown numbers over ${size.spreadSeconds} s…`);
    const spread = await scenarios.unknownNumberTexts(size.spreadTexts, spacingMs);
    log(`  ${describe(spread)}`);
    const shortened = size.spreadSeconds < 60 ? `, ${size.spreadSeconds} s in --quick` : "";
    rows.push(benchRow(`Notion requests for Canvas lookups, ${spread.items} unknown numbers spread over ${size.spreadSeconds} s${shortened}`, canvasQueries(spread), "requests", "—"));
  } catch (error) {
    notMeasured.push(`Canvas lookups for unknown numbers spread over time (${reasonOf(error)})`);
  }

  try {
    if (!timingsBefore) throw new Error("GET /admin/stats did not answer before the scenarios");
    const timings = timingFigures(metricsDelta(timingsBefore, await scenarios.workerMetrics()));
    log(`  the Worker's timings over these scenarios: ${JSON.stringify(timings)}`);
    if (timings.processingMsPerItem === null) notMeasured.push("processing time per call (the Worker counted no flush)");
    else rows.push(benchRow(`processing time per call or text, without the window and gate waits (the Worker's mean over ${timings.itemsProcessed})`, round(timings.processingMsPerItem / 1000, 3), "s", "< 1"));
    if (timings.d1WriteP95Ms === null) notMeasured.push("D1 write p95 (the Worker timed no write)");
    else rows.push(benchRow(`D1 write p95, a flush's record (the Worker's, bucket bound over ${timings.d1Writes} writes)`, timings.d1WriteP95Ms, "ms", "< 50"));
    if (timings.r2UploadMBps === null) notMeasured.push("R2 upload speed (the Worker stored no media)");
    else rows.push(benchRow(`R2 upload speed, source to R2 (the Worker's, ${round(timings.mediaBytes / 1024 / 1024, 1)} MB stored)`, round(timings.r2UploadMBps, 1), "MB/s", "> 1"));
  } catch (error) {
    notMeasured.push(`the Worker's timings (${reasonOf(error)})`);
  }

  try {
    const canvas = await scenarios.canvasHitRatio();
    if (!canvas || canvas.hit_ratio === null) throw new Error("the Worker counted no Canvas lookup");
    log(`  Canvas lookups since the start: ${JSON.stringify(canvas)}`);
    const lookups = canvas.memory_hits + canvas.d1_hits + canvas.notion_lookups + canvas.misses;
    rows.push(benchRow(`Canvas hit ratio, the dashboard's (${lookups} lookups since the start, unknown numbers and backfill included)`, round(100 * canvas.hit_ratio, 1), "%", "≥ 70"));
  } catch (error) {
    notMeasured.push(`the Canvas hit ratio (${reasonOf(error)})`);
  }

  try {
    const measured = await memory;
    log(`  workerd while storing a recording: 1 MB peak ${measured.small.peakMb.toFixed(1)} MB (baseline ${measured.small.baselineMb.toFixed(1)}), 200 MB peak ${measured.large.peakMb.toFixed(1)} MB (baseline ${measured.large.baselineMb.toFixed(1)}) in ${measured.large.seconds.toFixed(1)} s; ${measured.small.how}`);
    rows.push(benchRow("peak memory storing a 200 MB recording ÷ a 1 MB one (one workerd process)", round(measured.large.peakMb / measured.small.peakMb), "×", "≤ 2"));
    rows.push(benchRow("memory above the process's baseline while storing 200 MB (1 MB: " + `${round(measured.small.peakMb - measured.small.baselineMb, 1)} MB)`, round(measured.large.peakMb - measured.large.baselineMb, 1), "MB", "—"));
    if (measured.chunked) rows.push(benchRow("peak memory storing 200 MB without Content-Length ÷ a 1 MB one", round(measured.chunked.peakMb / measured.small.peakMb), "×", "≤ 2"));
  } catch (error) {
    notMeasured.push(`recording memory (${reasonOf(error)})`);
  }

  try {
    const latency = await emulatorLatency;
    rows.push(benchRow(`Notion emulator latency p50, alone (configured p50 ${NOTION_LATENCY.p50} ms, p95 ${NOTION_LATENCY.p95} ms)`, round(latency.notionP50Ms, 0), "ms", `≥ ${NOTION_LATENCY.atLeastMs}`));
    rows.push(benchRow(`OpenPhone emulator latency, fastest of 5, alone (configured ${OPENPHONE_LATENCY.ms} ms)`, round(latency.openphoneMinMs, 0), "ms", `≥ ${OPENPHONE_LATENCY.atLeastMs}`));
  } catch (error) {
    notMeasured.push(`the emulators' latency (${reasonOf(error)})`);
  }
  // ---- end of the targets block ----

  try {
    log(`Coalescing off: PUT /admin/flags COALESCE_MS=0, then ${FLAGS_REREAD_WAIT_MS / 1000} s for every isolate to reread the flags…`);
    await scenarios.putFlags({ COALESCE_MS: "0" });
    await new Promise((resolve) => setTimeout(resolve, FLAGS_REREAD_WAIT_MS));
    log(`Real-time calls, coalescing off: ${size.calls}, one every ${size.callSpacingMs / 1000} s…`);
    const ablation = await scenarios.realtimeCalls(size.calls, size.callSpacingMs, { allowHeld: true });
    log(`  ${describe(ablation)}${ablation.incomplete > 0 ? `; ${ablation.incomplete} call(s) still held for the products wait, counted with the requests spent so far` : ""}`);
    const held = ablation.incomplete > 0 ? `, at least: ${ablation.incomplete} of ${ablation.items} still held` : "";
    const name = `ablation, coalescing (COALESCE_MS=0${held}) — Notion requests per call, real time`;
    // Side by side with the first scenario's calls, the same calls with the window on.
    rows.push(calls ? ablationRow(name, perItem(calls), perItem(ablation), "requests/call") : benchRow(`${name}, coalescing off only (the first scenario did not complete)`, perItem(ablation), "requests/call", "—"));
  } catch (error) {
    notMeasured.push(`requests per call with coalescing off (${reasonOf(error)})`);
  }

  try {
    log(`Intake burst: ${size.burst} signed webhooks from ${size.senders} senders at once…`);
    const intake = await scenarios.intakeBurst(size.burst, size.senders);
    log(`  ${intake.accepted} of ${intake.sent} accepted in ${intake.seconds.toFixed(2)} s, answers ${JSON.stringify(intake.statuses)}`);
    rows.push(benchRow(`intake: webhooks accepted (202) per second, burst of ${intake.sent}`, round(intake.accepted / intake.seconds, 1), "webhooks/s", "≥ 50"));
    if (intake.mergedSeconds === null) notMeasured.push(`intake accepted and merged (the burst's webhooks did not all reach their lines)`);
    else {
      log(`  all ${intake.accepted} merged into their lines ${intake.mergedSeconds.toFixed(2)} s after the first post`);
      rows.push(benchRow(`intake: webhooks accepted and merged into their lines per second, burst of ${intake.sent}`, round(intake.accepted / intake.mergedSeconds, 1), "webhooks/s", "≥ 50"));
    }
  } catch (error) {
    notMeasured.push(`intake throughput (${reasonOf(error)})`);
  }

  try {
    // Includes whatever the burst's texts have cost so far: the run ends here, with their writes still under way.
    await scenarios.takeNotionStats();
    rows.push(benchRow("Notion 429 responses during the run", scenarios.rateLimitedTotal, "responses", "0"));
  } catch (error) {
    notMeasured.push(`Notion 429s (${reasonOf(error)})`);
  }
}
notMeasured.push("soak lag, duplicates under faults (not in this bench; see npm test and npm run soak)");

await sandbox.close();

// ── Ablations: each optimisation on and off, side by side (scripts/lib/bench-ablations.ts) ──────────────────────
if (runUsable) {
  const ablation = flags.quick ? { burstCalls: 12, recordingBytes: 64 * 1024 * 1024 } : { burstCalls: 30, recordingBytes: 200 * 1024 * 1024 };
  await runAblations({ coalesceMs: COALESCE_MS, ...ablation, log }, rows, notMeasured);
}
// ── end of the ablations ────────────────────────────────────────────────────────────────────────────────────────

const report: BenchReport = { rows, notMeasured };
console.log(`\n${formatBenchTable(report)}`);
if (flags.json) fs.writeFileSync(flags.json, `${JSON.stringify(report, null, 2)}\n`);
const code = runUsable ? benchExitCode(rows) : 2;
console.log(`\nBench ${code === 0 ? "passed" : "missed a target"} in ${((Date.now() - began) / 60_000).toFixed(1)} min${flags.json ? `; JSON in ${flags.json}` : ""}`);
process.exit(code);
