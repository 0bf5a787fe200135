/**
 * `npm run emulator:openphone -- [--port 8801] [--key sandbox-openphone-key] [--host 127.0.0.1] [--seed N]
 * [--lines N] [--time-factor K] [--state FILE]`: runs the OpenPhone emulator until Ctrl-C and prints its base URL.
 * With `--state FILE` the calls, texts, webhooks and id generator are kept in FILE (JSON) across restarts.
 */
import { parseArgs } from "node:util";
import { startOpenPhoneEmulator } from "./server.ts";
import { stopWhenOwnerExits } from "../shared/owner-watch.ts";

const USAGE = "usage: npm run emulator:openphone -- [--port 8801] [--key KEY] [--host 127.0.0.1] [--seed N] [--lines N] [--time-factor K] [--state FILE]";

function parseCommandLine() {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const OPTIONS = {
    port: { type: "string", default: "8801" },
    host: { type: "string", default: "127.0.0.1" },
    key: { type: "string", default: "sandbox-openphone-key" },
    seed: { type: "string" },
    lines: { type: "string" },
    "time-factor": { type: "string" },
    state: { type: "string" },
} as const;
const { values } = parseCommandLine();

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`--${name} must be a non-negative number, got "${text}"`);
    process.exit(2);
  }
  return value;
}

const running = await startOpenPhoneEmulator({
  port: integer("port", values.port),
  host: values.host,
  key: values.key!,
  seed: integer("seed", values.seed),
  lines: integer("lines", values.lines),
  config: values["time-factor"] ? { timeFactor: integer("time-factor", values["time-factor"]) } : undefined,
  stateFile: values.state,
}).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  console.error(code === "EADDRINUSE" ? `Port ${values.port} is in use: stop what runs there or pass --port` : `OpenPhone emulator failed to start: ${String(error)}`);
  process.exit(1);
});
console.log(`OpenPhone emulator listening on ${running.url} (key "${values.key}", control API ${running.url}/_emulator/stats)`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void running.close().then(() => process.exit(0));
  });
}
stopWhenOwnerExits(() => running.close());
