/**
 * `npm start`: the sandbox. Runs the whole product on this machine with no accounts: the OpenPhone and Notion
 * emulators, the Worker under `wrangler dev` with local D1/R2/Durable Objects/Queues, a generated configuration, and a
 * stream of simulated calls and texts. Ctrl-C stops everything it started, and says first how many calls and texts
 * the Worker has not yet written to Notion (and that they are lost when the state is not persisted).
 *
 *   npm start -- [--port 8787] [--openphone-port 8801] [--notion-port 8802] [--no-traffic] [--persist DIR]
 *                [--webhooks v1|quo|both] [--set NAME=VALUE ...]
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { SandboxWebhooks } from "./lib/sandbox-sync.ts";
import { ProcessGroup, waitForHttp } from "./lib/processes.ts";
import { countUnsynced, parseSettingOverrides, portsInUse } from "./lib/sandbox-control.ts";
import { prepareSandbox, SANDBOX_ADMIN_TOKEN, type SandboxPlan } from "./lib/sandbox.ts";

const root = path.resolve(import.meta.dirname, "..");
const USAGE = `Usage: npm start -- [--port 8787] [--openphone-port 8801] [--notion-port 8802] [--no-traffic]
                    [--persist DIR] [--webhooks v1|quo|both] [--set NAME=VALUE ...]

  --port N              port of the Worker (default 8787)
  --openphone-port N    port of the OpenPhone emulator (default 8801)
  --notion-port N       port of the Notion emulator (default 8802)
  --no-traffic          do not generate simulated calls and texts
  --persist DIR         keep the state in DIR between runs: the Worker's D1, R2 and Durable Objects, and both
                        emulators' calls, texts, pages and id generators. Not kept: queue messages (held in
                        memory) and webhook deliveries the OpenPhone emulator still had scheduled.
                        Without it every run starts from a fresh, empty state, removed on exit.
  --webhooks SYSTEMS    which OpenPhone webhook systems to register: v1 (legacy /v1/webhooks, the default), quo
                        (the 2026-03-30 /webhooks) or both, as a workspace in the middle of a migration
  --set NAME=VALUE      override one Worker setting (repeatable), e.g. --set ALERT_WEBHOOK_URL=http://127.0.0.1:9000/
                        NAME must be a setting src/config.ts reads or a runtime flag (src/flags/registry.ts);
                        a flag given here is its var: an override set on the dashboard still wins.`;

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        port: { type: "string", default: "8787" },
        "no-traffic": { type: "boolean", default: false },
        persist: { type: "string" },
        webhooks: { type: "string", default: "v1" },
        "openphone-port": { type: "string", default: "8801" },
        "notion-port": { type: "string", default: "8802" },
        set: { type: "string", multiple: true, default: [] },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
}
const flags = parseCommandLine();

if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

let overrides: Record<string, string>;
try {
  // Settings are parsed in src/config.ts, runtime flags declared in src/flags/registry.ts: --set takes either.
  const settingSources = ["config.ts", path.join("flags", "registry.ts")].map((file) => fs.readFileSync(path.join(root, "src", file), "utf8")).join("\n");
  overrides = parseSettingOverrides(flags.set, settingSources);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}

if (!["v1", "quo", "both"].includes(flags.webhooks)) {
  console.error(`--webhooks must be v1, quo or both, not ${JSON.stringify(flags.webhooks)}\n\n${USAGE}`);
  process.exit(2);
}
const webhookSystems = flags.webhooks as SandboxWebhooks;

const workerPort = Number(flags.port);
const openphonePort = Number(flags["openphone-port"]);
const notionPort = Number(flags["notion-port"]);
for (const [name, port] of [["--port", workerPort], ["--openphone-port", openphonePort], ["--notion-port", notionPort]] as const) {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`${name} must be a port number between 1 and 65535`);
    process.exit(2);
  }
}

// Before anything is started or written: a second sandbox must not run setup against the first one's emulators.
const busy = await portsInUse([["--port", workerPort], ["--openphone-port", openphonePort], ["--notion-port", notionPort]]);
if (busy.length > 0) {
  console.error(`${busy.map(([flag, port]) => `Port ${port} (${flag}) is in use`).join("\n")}
Another sandbox may be running: stop it, or pick free ports with ${busy.map(([flag]) => flag).join(", ")}. Nothing was started.`);
  process.exit(1);
}

const persistDir = flags.persist ? path.resolve(flags.persist) : undefined;
const stateDir = persistDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "openphone-notion-sandbox-"));
fs.mkdirSync(stateDir, { recursive: true });

const group = new ProcessGroup();
let stopping = false;
async function stop(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  console.log("\nStopping the sandbox…");
  if (workerStarted) await reportUnsynced();
  await group.stopAll();
  if (!persistDir) fs.rmSync(stateDir, { recursive: true, force: true });
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

const workerUrl = `http://127.0.0.1:${workerPort}`;
let workerStarted = false;

/** What Ctrl-C would silently throw away: the calls and texts the Worker holds but has not written to Notion. */
async function reportUnsynced(): Promise<void> {
  const count = await countUnsynced(workerUrl, SANDBOX_ADMIN_TOKEN, 5_000);
  const fate = persistDir ? `they are kept in ${persistDir} and sync on the next \`npm start -- --persist ${flags.persist}\`` : "they are lost with this run's state (keep it with --persist DIR)";
  if (!count.known) console.log(`Could not count the calls and texts not yet written to Notion: ${count.reason}. Any there are, ${fate}.`);
  else if (count.pending > 0) console.log(`${count.pending} call(s) and text(s) not yet written to Notion (${count.detail}): ${fate}.`);
  else console.log("No line holds calls or texts not yet written to Notion.");
}
const childEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: process.env.CI ?? "true" };

try {
  const started = Date.now();
  const plan: SandboxPlan = await prepareSandbox({ root, stateDir, workerUrl, openphonePort, notionPort, group, env: childEnv, persistEmulators: persistDir !== undefined, webhooks: webhookSystems });

  // Secrets and settings for the Worker, written where only this run reads them (never .dev.vars).
  const envFile = path.join(stateDir, "sandbox.env");
  const settings: Record<string, string> = {
    ADMIN_TOKEN: "sandbox-admin-token",
    MEDIA_SIGNING_KEYS: persistedSecret(path.join(stateDir, "media-signing-key"), () => randomBytes(32).toString("base64url")),
    PUBLIC_BASE_URL: workerUrl,
    ...plan.workerSettings,
    ...overrides,
  };
  for (const name of Object.keys(overrides)) console.log(`  setting: ${name} set with --set`);
  fs.writeFileSync(envFile, Object.entries(settings).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n") + "\n", { mode: 0o600 });

  const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
  await group.run("migrations", wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], { cwd: root, env: childEnv });
  // The Worker as `wrangler dev --local` runs it, without the devtools inspector (see scripts/dev-worker.ts).
  group.spawn("worker", path.join(root, "node_modules", ".bin", "tsx"), [
    "scripts/dev-worker.ts", "--port", String(workerPort), "--persist-to", stateDir, "--env-file", envFile,
  ], { cwd: root, env: childEnv });
  await waitForHttp(`${workerUrl}/health`, 60_000, group);
  workerStarted = true;

  for (const step of plan.afterWorkerStarts) await step();
  if (!flags["no-traffic"]) for (const step of plan.startTraffic) await step();

  // wrangler dev does not fire crons locally; the sandbox does, so the index refresh and backfill run as deployed.
  const cronTimer = setInterval(() => void fetch(`${workerUrl}/__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`).catch(() => {}), 5 * 60_000);
  cronTimer.unref();

  const health = await fetch(`${workerUrl}/health`).then((r) => r.status).catch(() => 0);
  console.log(`
Sandbox ready in ${((Date.now() - started) / 1000).toFixed(1)} s${health === 200 ? "" : ` (health answered ${health}: see ${workerUrl}/health)`}

  Dashboard         ${workerUrl}/   (admin token: sandbox-admin-token)
  Health            ${workerUrl}/health
${plan.urls.map(([name, url]) => `  ${name.padEnd(17)} ${url}\n`).join("")}  Local state       ${stateDir}${persistDir ? "" : " (removed on exit; keep it with --persist DIR)"}
  Traffic           ${flags["no-traffic"] ? "off (--no-traffic)" : plan.startTraffic.length > 0 ? "simulated calls and texts are arriving" : "not available"}

Press Ctrl-C to stop.`);
} catch (error) {
  console.error(`\nThe sandbox could not start: ${error instanceof Error ? error.message : String(error)}`);
  await stop(1);
}

/** A generated secret that survives restarts when the state is persisted (links already in Notion keep working). */
function persistedSecret(file: string, make: () => string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  const value = make();
  fs.writeFileSync(file, value, { mode: 0o600 });
  return value;
}
