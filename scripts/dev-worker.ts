/**
 * Runs the Worker locally in workerd, as `wrangler dev --local` does, but without the devtools inspector.
 *
 * `wrangler dev` always attaches an inspector proxy that forwards every runtime event (each subrequest among them)
 * to Wrangler over a new loopback connection, and workerd keeps those connections open: a backfill that makes
 * thousands of subrequests a minute exhausts the open-file limit within seconds ("Too many open files") and the
 * Worker stops answering. The logs do not need the inspector (they come from workerd's own output), so the sandbox
 * and the end-to-end tests run the Worker through Wrangler's API with the inspector off.
 *
 *   tsx scripts/dev-worker.ts --port 8787 --persist-to DIR --env-file FILE
 *
 * Crons are fired with `GET /__scheduled?cron=...`. Stops on SIGINT/SIGTERM.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { unstable_startWorker } from "wrangler";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8787" },
    ip: { type: "string", default: "127.0.0.1" },
    "persist-to": { type: "string" },
    "env-file": { type: "string", multiple: true },
    config: { type: "string", default: "wrangler.jsonc" },
  },
});

const root = path.resolve(import.meta.dirname, "..");
const worker = await unstable_startWorker({
  config: path.resolve(root, values.config),
  envFiles: values["env-file"]?.map((file) => path.resolve(file)),
  dev: {
    remote: false,
    inspector: false,
    watch: false,
    testScheduled: true,
    persist: values["persist-to"] ? path.resolve(values["persist-to"]) : false,
    server: { hostname: values.ip, port: Number(values.port) },
    logLevel: "info",
  },
});
await worker.ready;
console.log(`Worker ready on ${(await worker.url).origin}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await worker.dispose().catch(() => undefined);
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
