/**
 * `npm run emulator:notion -- [--port 8802] [--token sandbox-notion-token] [--demo-data] [--seed 42]
 *   [--rate 3] [--burst 10] [--latency-p50 0] [--latency-p95 0] [--fault-rate 0] [--query-lag 0] [--state FILE]`
 *
 * Runs the Notion API emulator until Ctrl-C and prints its base URL, the root page id and, with --demo-data, the ids
 * of the Canvas and Mail databases and their data sources.
 */
import { parseArgs } from "node:util";
import { startNotionEmulator } from "./server.ts";
import { stopWhenOwnerExits } from "../shared/owner-watch.ts";

const { values: flags } = parseArgs({
  options: {
    port: { type: "string", default: "8802" },
    host: { type: "string", default: "127.0.0.1" },
    token: { type: "string", default: "sandbox-notion-token" },
    seed: { type: "string", default: "42" },
    "demo-data": { type: "boolean", default: false },
    rate: { type: "string" },
    burst: { type: "string" },
    "latency-p50": { type: "string" },
    "latency-p95": { type: "string" },
    "fault-rate": { type: "string" },
    "query-lag": { type: "string" },
    state: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (flags.help) {
  console.log(`Usage: npm run emulator:notion -- [options]

  --port N            port to listen on (default 8802; 0 picks a free one)
  --token T           the integration token clients must send (default sandbox-notion-token)
  --demo-data         create the Canvas and Mail databases a real workspace would have
  --seed N            seed for ids, demo data, latency and faults (default 42)
  --rate R --burst B  rate limit per token: R requests/second on average, bursts of B (default 3 and 10)
  --latency-p50 MS --latency-p95 MS   response latency distribution (default 0)
  --fault-rate F      share of requests answered with 409/502/503/504/529 (default 0)
  --query-lag MS      delay before new or changed pages show in queries and search (default 0)
  --state FILE        keep the workspace in FILE (JSON): loaded at start, saved after changes and on exit;
                      without it every start is empty (the configuration and counters are never kept)

Control API (loopback): POST /_emulator/reset, GET|PUT /_emulator/config, GET /_emulator/stats,
GET /_emulator/workspace, GET /_emulator/dump. Viewer: GET /`);
  process.exit(0);
}

function number(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    console.error(`--${name} must be a number, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

const config: Record<string, unknown> = {};
const rate = number("rate", flags.rate);
const burst = number("burst", flags.burst);
if (rate !== undefined || burst !== undefined) config.rateLimit = { ...(rate !== undefined && { perSecond: rate }), ...(burst !== undefined && { burst }) };
const p50 = number("latency-p50", flags["latency-p50"]);
const p95 = number("latency-p95", flags["latency-p95"]);
if (p50 !== undefined || p95 !== undefined) config.latencyMs = { p50: p50 ?? p95 ?? 0, p95: p95 ?? p50 ?? 0 };
const faultRate = number("fault-rate", flags["fault-rate"]);
if (faultRate !== undefined) config.faults = { rate: faultRate };
const lag = number("query-lag", flags["query-lag"]);
if (lag !== undefined) config.queryLagMs = lag;

try {
  const emulator = await startNotionEmulator({
    port: number("port", flags.port),
    host: flags.host,
    token: flags.token,
    seed: number("seed", flags.seed),
    demoData: flags["demo-data"],
    config,
    stateFile: flags.state,
  });
  console.log(`Notion emulator listening on ${emulator.url}`);
  console.log(`  base URL (NOTION_API_BASE)  ${emulator.url}`);
  console.log(`  root page id                ${emulator.rootPageId}`);
  if (emulator.demo) {
    console.log(`  Canvas database             ${emulator.demo.canvas.databaseId}  (data source ${emulator.demo.canvas.dataSourceId})`);
    console.log(`  Mail database               ${emulator.demo.mail.databaseId}  (data source ${emulator.demo.mail.dataSourceId})`);
  }
  console.log(`  viewer                      ${emulator.url}/`);
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  stopWhenOwnerExits(() => emulator.close());
} catch (error) {
  console.error(`Notion emulator failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
