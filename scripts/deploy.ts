/**
 * `npm run deploy`: the first real deployment in one command, and every later one (see scripts/lib/deploy.ts).
 *
 *   npm run deploy -- [--parent <Notion page id or URL>] [--dry-run]
 *
 * Reads secrets and database ids from .dev.vars when it exists, and asks for any required secret it lacks.
 */
import fs from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { deploy, DeployError, spawnRunner } from "./lib/deploy.ts";

const root = path.resolve(import.meta.dirname, "..");
const { values } = parseArgs({ options: { parent: { type: "string" }, "dry-run": { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } } });
if (values.help) {
  console.log("Usage: npm run deploy -- [--parent <Notion page id or URL>] [--dry-run]");
  process.exit(0);
}

/** KEY=value lines; quoted values unquoted. */
function readDevVars(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const vars: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const match = line.match(/^\s*([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/);
    if (!match) continue;
    const raw = match[2]!.trim();
    vars[match[1]!] = /^".*"$/.test(raw) ? JSON.parse(raw) : raw.replace(/^'(.*)'$/, "$1");
  }
  return vars;
}

const run = spawnRunner(root, process.env);

const ask = async (question: string): Promise<string | undefined> => {
  if (!process.stdin.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
};

try {
  await deploy({ root, run, ask, log: (line) => console.log(line), dryRun: values["dry-run"], devVars: readDevVars(path.join(root, ".dev.vars")), notionParent: values.parent });
} catch (error) {
  console.error(`\n${error instanceof DeployError ? error.message : error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
}
