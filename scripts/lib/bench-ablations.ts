/**
 * The ablations of `npm run bench`: what each optimisation buys. Two more sandboxes are started side by side, the
 * same as the bench's own (Notion at 3 requests/s with 300 ms latency, the default coalescing window), one as
 * configured and one with the rollback switches off (README, "Runtime flags"):
 *
 *   CANVAS_INDEX_LOOKUP_ENABLED  off: a Notion query per participant instead of the Canvas index;
 *   GATES_ENABLED                off: no shared gate, each client retries its own 429s;
 *   MEDIA_STREAMING_ENABLED      off: a recording is read whole into memory, then put;
 *   D1_BATCHING_ENABLED          off: a flush's D1 statements one per round trip.
 *
 * Starting them with the settings is faster than switching the flags in the bench's sandbox (a minute for every
 * isolate to reread them, twice) and leaves its figures alone. Their start and warm-up run at once; the measured
 * scenarios then run in one sandbox at a time, the same in both:
 *
 *   1. a burst of calls (all created at once, recording, transcript and summary within the window): Notion requests
 *      per call, Canvas data-source queries per call, Notion 429s, and the D1 round trips of a line's write (the
 *      Worker's own `d1.flush_round_trips` counter on /admin/stats, over its D1 writes);
 *   2. one call with a large recording: time from the call to its copy answering on the page's media link, and the
 *      growth of the Worker's resident memory (workerd, sampled) while it is copied.
 *
 * The four are off together in the second sandbox, so "requests per call" holds both the Canvas queries and the 429
 * retries; the Canvas queries and the 429s are counted on their own rows.
 */
import fs from "node:fs";
import { startE2ESandbox, type DumpedPage, type E2ESandbox, plainText } from "../../test/e2e/harness.ts";
import { metricsDelta, timingFigures } from "../../src/observability/timings.ts";
import { ablationRow, type BenchRow, round } from "./bench-report.ts";
import { BenchScenarios, type ScenarioResult } from "./bench-scenarios.ts";

export const ABLATION_SWITCHES_OFF = {
  CANVAS_INDEX_LOOKUP_ENABLED: "false",
  GATES_ENABLED: "false",
  MEDIA_STREAMING_ENABLED: "false",
  D1_BATCHING_ENABLED: "false",
} as const;

export interface AblationOptions {
  coalesceMs: number;
  burstCalls: number;
  recordingBytes: number;
  log: (text: string) => void;
}

interface Measured {
  burst: ScenarioResult;
  rateLimited: number;
  d1RoundTripsPerWrite: number | null;
  recordingSeconds: number;
  peakRssGrowthMb: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const RECORDING_TIMEOUT_MS = 120_000;
const RSS_SAMPLE_MS = 100;

/** Runs the ablations; rows and what could not be measured (with the reason) are added to the caller's lists. */
export async function runAblations(options: AblationOptions, rows: BenchRow[], notMeasured: string[]): Promise<void> {
  const { log } = options;
  const start = (off: boolean) =>
    startE2ESandbox({
      workerSettings: { COALESCE_MS: String(options.coalesceMs), ...(off ? ABLATION_SWITCHES_OFF : {}) },
      notionConfig: { rateLimit: { perSecond: 3, burst: 10 }, latencyMs: { p50: 300, p95: 300 } },
      openphoneConfig: { timeFactor: 8 },
    });
  log(`Ablations: two sandboxes, one as configured and one with ${Object.keys(ABLATION_SWITCHES_OFF).join(", ")} off…`);
  const started = await Promise.allSettled([start(false), start(true)]);
  const sandboxes = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    const [on, off] = sandboxes as [E2ESandbox, E2ESandbox];
    const scenarios = [new BenchScenarios(on), new BenchScenarios(off)] as const;
    log("  warming both up…");
    await Promise.all(scenarios.map((s) => s.warmUp()));
    const measured: Measured[] = [];
    for (const [i, sandbox] of [on, off].entries()) {
      measured.push(await measure(sandbox, scenarios[i]!, options, i === 0 ? "on" : "off"));
    }
    const [a, b] = measured as [Measured, Measured];
    const perCall = (m: Measured) => round(m.burst.notionRequests / m.burst.items);
    const canvasQueries = (m: Measured) => round((m.burst.byOperation["data_sources.query"] ?? 0) / m.burst.items);
    const mb = Math.round(options.recordingBytes / 1024 / 1024);
    rows.push(
      ablationRow(`ablation, all four off — Notion requests per call, burst of ${options.burstCalls} calls`, perCall(a), perCall(b), "requests/call"),
      ablationRow("ablation, Canvas index (CANVAS_INDEX_LOOKUP_ENABLED) — Canvas data-source queries per call", canvasQueries(a), canvasQueries(b), "queries/call"),
      ablationRow(`ablation, gates (GATES_ENABLED) — Notion 429s, burst of ${options.burstCalls} calls`, a.rateLimited, b.rateLimited, "responses"),
      ablationRow(`ablation, media streaming (MEDIA_STREAMING_ENABLED) — Worker memory growth storing a ${mb} MB recording`, a.peakRssGrowthMb, b.peakRssGrowthMb, "MB"),
      ablationRow(`ablation, media streaming (MEDIA_STREAMING_ENABLED) — call → ${mb} MB recording served`, a.recordingSeconds, b.recordingSeconds, "s"),
    );
    const d1Name = `ablation, D1 batching (D1_BATCHING_ENABLED) — D1 round trips per line write, burst of ${options.burstCalls} calls`;
    if (a.d1RoundTripsPerWrite !== null && b.d1RoundTripsPerWrite !== null) rows.push(ablationRow(d1Name, a.d1RoundTripsPerWrite, b.d1RoundTripsPerWrite, "round trips"));
    else notMeasured.push(`${d1Name} (a sandbox's /admin/stats counted no D1 write during the burst)`);
  } catch (error) {
    notMeasured.push(`the ablations (${(error instanceof Error ? error.message : String(error)).split("\n")[0]})`);
  } finally {
    await Promise.all(sandboxes.map((s) => s.close().catch(() => undefined)));
  }
}

async function measure(sandbox: E2ESandbox, scenarios: BenchScenarios, options: AblationOptions, label: string): Promise<Measured> {
  const before = scenarios.rateLimitedTotal;
  const metricsBefore = await scenarios.workerMetrics();
  options.log(`  ${label}: a burst of ${options.burstCalls} calls…`);
  const burst = await scenarios.realtimeCalls(options.burstCalls, 0);
  const rateLimited = scenarios.rateLimitedTotal - before;
  const { d1RoundTripsPerWrite, d1Writes } = timingFigures(metricsDelta(metricsBefore, await scenarios.workerMetrics()));
  const roundTrips = d1RoundTripsPerWrite === null ? null : round(d1RoundTripsPerWrite, 1);
  options.log(`    ${burst.notionRequests} Notion requests, ${rateLimited} 429s, ${JSON.stringify(burst.byOperation)}; ${d1Writes} D1 writes, ${roundTrips ?? "no"} round trips each`);
  options.log(`  ${label}: a call with a ${Math.round(options.recordingBytes / 1024 / 1024)} MB recording…`);
  const recording = await largeRecording(sandbox, options.recordingBytes);
  options.log(`    served after ${recording.seconds.toFixed(1)} s; Worker memory grew by at most ${recording.peakRssGrowthMb} MB`);
  return { burst, rateLimited, d1RoundTripsPerWrite: roundTrips, recordingSeconds: round(recording.seconds, 1), peakRssGrowthMb: recording.peakRssGrowthMb };
}

/** Creates a call with one recording of `bytes`, and waits until the page's media link serves the whole copy. */
async function largeRecording(sandbox: E2ESandbox, bytes: number): Promise<{ seconds: number; peakRssGrowthMb: number }> {
  const port = Number(new URL(sandbox.workerUrl).port);
  const baseline = workerRssBytes(port);
  let peak = baseline;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, workerRssBytes(port));
      await sleep(RSS_SAMPLE_MS);
    }
  })();
  const started = Date.now();
  try {
    const { callId } = await sandbox.json<{ callId: string }>(`${sandbox.openphoneUrl}/_emulator/calls`, {
      method: "POST",
      body: JSON.stringify({ direction: "incoming", status: "answered", durationSeconds: 95, recording: { segments: 1, bytes }, transcript: { chars: 900 }, summary: true }),
    });
    const deadline = started + RECORDING_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const link = await recordingLink(sandbox, callId);
      if (link) {
        const response = await fetch(link, { method: "HEAD" });
        if (response.status === 200 && Number(response.headers.get("Content-Length")) === bytes) return { seconds: (Date.now() - started) / 1000, peakRssGrowthMb: Math.round((peak - baseline) / 1024 / 1024) };
      }
      await sleep(250);
    }
    throw new Error(`the ${bytes}-byte recording was not served within ${RECORDING_TIMEOUT_MS / 1000} s`);
  } finally {
    sampling = false;
    await sampler;
  }
}

async function recordingLink(sandbox: E2ESandbox, callId: string): Promise<string | undefined> {
  const dump = await sandbox.json<{ pages: DumpedPage[] }>(`${sandbox.notionUrl}/_emulator/dump`);
  const page = dump.pages.find((p) => plainText(p.properties["Call ID"]) === callId);
  const url = page?.properties["Recording"]?.url;
  return typeof url === "string" && url.startsWith(sandbox.workerUrl) ? url : undefined;
}

/**
 * Resident memory of the Worker listening on `port`: every workerd process under the `scripts/dev-worker.ts` started
 * with that port (Linux /proc). 0 where /proc cannot be read.
 */
function workerRssBytes(port: number): number {
  try {
    const parents = new Map<number, number>();
    let root: number | undefined;
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
        if (root === undefined) {
          const args = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
          const at = args.indexOf("--port");
          if (args.some((a) => a.endsWith("scripts/dev-worker.ts")) && at >= 0 && args[at + 1] === String(port)) root = Number(entry);
        }
      } catch {
        // The process ended while it was read.
      }
    }
    if (root === undefined) return 0;
    let total = 0;
    for (const pid of parents.keys()) {
      let p: number | undefined = pid;
      while (p !== undefined && p > 1 && p !== root) p = parents.get(p);
      if (p !== root) continue;
      try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        if (!/^Name:\s*workerd/m.test(status)) continue;
        total += Number(/^VmRSS:\s*(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
      } catch {
        // Gone meanwhile.
      }
    }
    return total;
  } catch {
    return 0;
  }
}
