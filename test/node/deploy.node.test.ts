/**
 * `npm run deploy` against a stub `wrangler` (and `npm`) on PATH that records the commands it is asked to run and
 * answers like Wrangler does: the first run's sequence, a second run that only checks, a dry run, and the message of
 * each failure (not logged in, a queue name already taken, a secret refused).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEPLOY_CONFIG, deploy, spawnRunner } from "../../scripts/lib/deploy.ts";

const repo = path.resolve(import.meta.dirname, "..", "..");
const stubBin = path.join(repo, "test", "fixtures", "stub-wrangler");
const DEV_VARS = { OPENPHONE_API_KEY: "op-key", NOTION_TOKEN: "ntn_token", ADMIN_TOKEN: "tok-admin", MEDIA_SIGNING_KEYS: "a-media-signing-key-of-length", NOTION_CALLS_DATABASE_ID: "0123456789abcdef0123456789abcdef", NOTION_MESSAGES_DATABASE_ID: "fedcba9876543210fedcba9876543210" };

let dir: string;
let statePath: string;
let logPath: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-test-"));
  fs.copyFileSync(path.join(repo, "wrangler.jsonc"), path.join(dir, "wrangler.jsonc"));
  statePath = path.join(dir, "state.json");
  logPath = path.join(dir, "commands.log");
  writeState({});
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeState(changes: Record<string, unknown>) {
  const base = { loggedIn: true, queues: [], takenQueues: [], databases: [], buckets: [], namespaces: [], secrets: [], migrated: false, deployed: false, refuseSecret: null };
  fs.writeFileSync(statePath, JSON.stringify({ ...base, ...changes }));
}
const commands = () => (fs.existsSync(logPath) ? fs.readFileSync(logPath, "utf8").trim().split("\n").filter(Boolean).map((l) => (JSON.parse(l) as string[]).join(" ")) : []);

async function runDeploy(options: { dryRun?: boolean; devVars?: Record<string, string> } = {}) {
  fs.rmSync(logPath, { force: true });
  const lines: string[] = [];
  const run = spawnRunner(dir, { ...process.env, PATH: `${stubBin}${path.delimiter}${process.env.PATH}`, STUB_STATE: statePath, STUB_LOG: logPath });
  try {
    const result = await deploy({ root: dir, run, ask: async () => undefined, log: (l) => lines.push(l), dryRun: options.dryRun ?? false, devVars: options.devVars ?? DEV_VARS });
    return { ok: true as const, result, output: lines.join("\n") };
  } catch (error) {
    return { ok: false as const, error: (error as Error).message, output: lines.join("\n") };
  }
}

const C = `-c ${DEPLOY_CONFIG}`;

describe("npm run deploy", () => {
  it("first run: creates every resource, applies the migrations, puts the secrets, deploys, runs setup and doctor", async () => {
    const first = await runDeploy();
    expect(first.ok).toBe(true);
    expect(commands()).toEqual([
      "whoami",
      "queues list",
      "queues create sync-events",
      "queues create sync-events-dlq",
      "d1 list --json",
      "d1 create openphone-notion-sync",
      "r2 bucket list",
      "r2 bucket create openphone-notion-media",
      "kv namespace list",
      "kv namespace create openphone-notion-sync-flags",
      `d1 migrations apply DB --remote ${C}`,
      `secret list --format json ${C}`,
      ...["OPENPHONE_API_KEY", "NOTION_TOKEN", "ADMIN_TOKEN", "MEDIA_SIGNING_KEYS", "NOTION_CALLS_DATABASE_ID", "NOTION_MESSAGES_DATABASE_ID"].map((name) => `secret put ${name} ${C} <stdin ${DEV_VARS[name as keyof typeof DEV_VARS].length} chars>`),
      `deploy ${C}`,
      `npm run setup -- --calls ${DEV_VARS.NOTION_CALLS_DATABASE_ID} --messages ${DEV_VARS.NOTION_MESSAGES_DATABASE_ID} --worker-url https://openphone-notion-sync.ops.workers.dev`,
      "npm run doctor -- --url https://openphone-notion-sync.ops.workers.dev --token <token>",
    ]);
    // The generated config carries the created ids; wrangler.jsonc keeps its placeholders.
    const generated = JSON.parse(fs.readFileSync(path.join(dir, DEPLOY_CONFIG), "utf8"));
    expect(generated.d1_databases[0].database_id).toBe("5b2a1c9e-1111-4222-8333-444455556666");
    expect(generated.kv_namespaces).toEqual([{ binding: "FLAGS", id: "0123456789abcdef0123456789abcdef" }]);
    expect(first.output).toContain("Dashboard: https://openphone-notion-sync.ops.workers.dev/");
    expect(first.ok && first.result.changed).toHaveLength(12);
  });

  it("second run: only checks, creates and puts nothing, and says so", async () => {
    await runDeploy();
    const second = await runDeploy();
    expect(second.ok).toBe(true);
    const ran = commands();
    expect(ran.filter((c) => / create |^secret put|^queues create/.test(c))).toEqual([]);
    expect(ran).toContain(`deploy ${C}`);
    expect(second.output).toMatch(/queue sync-events: already there/);
    expect(second.output).toMatch(/openphone-notion-sync: already there \(5b2a1c9e/);
    expect(second.output).toMatch(/D1 migrations…\n {2}already applied/);
    expect(second.output).toMatch(/ADMIN_TOKEN: already set/);
    expect(second.output).toContain("Done: everything was already right; nothing changed but the deployed code.");
  });

  it("--dry-run prints the plan and changes nothing", async () => {
    const dry = await runDeploy({ dryRun: true });
    expect(dry.ok).toBe(true);
    expect(commands()).toEqual(["whoami", "queues list", "d1 list --json", "r2 bucket list", "kv namespace list"]);
    expect(dry.output).toContain("would create queue sync-events");
    expect(dry.output).toContain("would create KV namespace openphone-notion-sync-flags");
    expect(dry.output).toContain("Dry run: 5 change(s) planned; nothing was changed.");
    expect(fs.existsSync(path.join(dir, DEPLOY_CONFIG))).toBe(false);
  });

  it("not logged in: says how to log in and runs nothing else", async () => {
    writeState({ loggedIn: false });
    const run = await runDeploy();
    expect(run.ok).toBe(false);
    expect(!run.ok && run.error).toBe("You are not logged in to Cloudflare. Run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID), then `npm run deploy` again. Nothing was changed.");
    expect(commands()).toEqual(["whoami"]);
  });

  it("a queue name already taken: names it and says what to do", async () => {
    writeState({ queues: ["sync-events"], takenQueues: ["sync-events-dlq"] });
    const run = await runDeploy();
    expect(run.ok).toBe(false);
    expect(!run.ok && run.error).toMatch(/^The queue name sync-events-dlq is already taken, but not by a queue this account lists: pick another name in wrangler.jsonc \(queues\) and run again\.\n.*11009/s);
    expect(commands()).toEqual(["whoami", "queues list", "queues create sync-events-dlq"]);
  });

  it("a secret refused: names the secret, keeps what was done, and a rerun goes on from there", async () => {
    writeState({ refuseSecret: "NOTION_TOKEN" });
    const run = await runDeploy();
    expect(run.ok).toBe(false);
    expect(!run.ok && run.error).toMatch(/^Cloudflare refused the secret NOTION_TOKEN:\n.*Invalid secret value for NOTION_TOKEN.*\nFix the value \(in \.dev\.vars, or as asked\) and run `npm run deploy` again; the steps before are kept\.$/s);
    expect(commands().at(-1)).toMatch(/^secret put NOTION_TOKEN/);
    expect(commands()).not.toContain(`deploy ${C}`);

    const state = JSON.parse(fs.readFileSync(statePath, "utf8"));
    fs.writeFileSync(statePath, JSON.stringify({ ...state, refuseSecret: null }));
    const rerun = await runDeploy();
    expect(rerun.ok).toBe(true);
    expect(commands().filter((c) => / create /.test(c))).toEqual([]);
  });

  it("a required secret missing everywhere, with nobody to ask: says where to put it", async () => {
    const { ADMIN_TOKEN: _omitted, ...rest } = DEV_VARS;
    const run = await runDeploy({ devVars: rest });
    expect(!run.ok && run.error).toBe("ADMIN_TOKEN is needed and is neither set in Cloudflare nor in .dev.vars: add it to .dev.vars (see .dev.vars.example) or run `npm run deploy` in a terminal to be asked.");
  });
});
