/**
 * The first real deployment in one command (`npm run deploy`), and every later one. Each step first asks Wrangler
 * what exists and only creates or puts what is missing, so a second run changes nothing that is already right and
 * says so. `--dry-run` runs only the questions and prints the plan.
 *
 * Resources are created by name from wrangler.jsonc (queues, D1, R2, the FLAGS KV namespace), and their ids go into
 * a generated `wrangler.deploy.json` (not committed) that every later Wrangler command of the deploy uses, so
 * wrangler.jsonc keeps the placeholders that local development and tests run with.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}
export type Runner = (command: string, args: string[], input?: string) => Promise<CommandResult>;

export interface DeployOptions {
  root: string;
  run: Runner;
  /** Asks the operator for a secret's value; undefined when nobody can answer (not a terminal). */
  ask: (question: string) => Promise<string | undefined>;
  log: (line: string) => void;
  dryRun: boolean;
  /** Values from .dev.vars (secrets and database ids). */
  devVars: Record<string, string>;
  /** `--parent` for setup when no database ids are known yet. */
  notionParent?: string;
}

export class DeployError extends Error {}

export const DEPLOY_CONFIG = "wrangler.deploy.json";
/** Secrets the Worker cannot run without; asked for when neither Cloudflare nor .dev.vars has them. */
export const REQUIRED_SECRETS = ["OPENPHONE_API_KEY", "NOTION_TOKEN", "ADMIN_TOKEN", "MEDIA_SIGNING_KEYS"] as const;
/** Put when .dev.vars has them (setup prints the webhook keys and database ids). */
export const OPTIONAL_SECRETS = ["OPENPHONE_WEBHOOK_KEYS", "QUO_WEBHOOK_SECRETS", "ALERT_WEBHOOK_URL", "NOTION_CALLS_DATABASE_ID", "NOTION_MESSAGES_DATABASE_ID", "NOTION_CANVAS_DATABASE_ID", "NOTION_MAIL_DATABASE_ID"] as const;

/** wrangler.jsonc without its comments (strings are left alone, so URLs with // survive). */
export function parseJsonc(text: string): unknown {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      out += text.slice(start, i + 1);
    } else if (ch === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (ch === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
    } else out += ch;
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, "$1"));
}

interface WranglerConfig {
  name: string;
  d1_databases: { binding: string; database_name: string; database_id?: string }[];
  r2_buckets: { binding: string; bucket_name: string }[];
  kv_namespaces: { binding: string; id?: string }[];
  queues: { producers: { queue: string }[]; consumers: { queue: string; dead_letter_queue?: string }[] };
  [key: string]: unknown;
}

const hasName = (listing: string, name: string) => new RegExp(`(^|[\\s│|"'])${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([\\s│|"']|$)`, "m").test(listing);

export async function deploy(options: DeployOptions): Promise<{ url?: string; changed: string[] }> {
  const { run, log, dryRun } = options;
  const config = parseJsonc(fs.readFileSync(path.join(options.root, "wrangler.jsonc"), "utf8")) as WranglerConfig;
  const changed: string[] = [];
  const plan = (what: string) => {
    changed.push(what);
    log(dryRun ? `  would ${what}` : `  ${what}`);
  };
  const wrangler = async (args: string[], what: string, input?: string): Promise<CommandResult> => {
    const result = await run("wrangler", args, input);
    if (result.code !== 0) throw new DeployError(`${what} failed (wrangler ${args.join(" ")}):\n${(result.stderr || result.stdout).trim()}`);
    return result;
  };

  log("Checking the Cloudflare login…");
  const whoami = await run("wrangler", ["whoami"]);
  if (whoami.code !== 0 || /not authenticated|not logged in/i.test(whoami.stdout + whoami.stderr)) {
    throw new DeployError("You are not logged in to Cloudflare. Run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID), then `npm run deploy` again. Nothing was changed.");
  }
  log("  logged in");

  log("Queues…");
  const queueNames = [...new Set([...config.queues.producers.map((q) => q.queue), ...config.queues.consumers.flatMap((q) => [q.queue, q.dead_letter_queue ?? []].flat())])];
  const queues = (await wrangler(["queues", "list"], "Listing the queues")).stdout;
  for (const name of queueNames) {
    if (hasName(queues, name)) log(`  queue ${name}: already there`);
    else {
      plan(`create queue ${name}`);
      if (!dryRun) {
        const created = await run("wrangler", ["queues", "create", name]);
        if (created.code !== 0) {
          const text = (created.stderr || created.stdout).trim();
          if (/already (exists|taken)|11009/i.test(text)) throw new DeployError(`The queue name ${name} is already taken, but not by a queue this account lists: pick another name in wrangler.jsonc (queues) and run again.\n${text}`);
          throw new DeployError(`Creating queue ${name} failed:\n${text}`);
        }
      }
    }
  }

  log("D1 database…");
  const db = config.d1_databases[0]!;
  const databases = JSON.parse((await wrangler(["d1", "list", "--json"], "Listing the D1 databases")).stdout) as { uuid: string; name: string }[];
  let databaseId = databases.find((d) => d.name === db.database_name)?.uuid;
  if (databaseId) log(`  ${db.database_name}: already there (${databaseId})`);
  else {
    plan(`create D1 database ${db.database_name}`);
    if (!dryRun) {
      const out = (await wrangler(["d1", "create", db.database_name], `Creating D1 database ${db.database_name}`)).stdout;
      databaseId = out.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i)?.[0];
      if (!databaseId) throw new DeployError(`wrangler d1 create printed no database id:\n${out}`);
    }
  }

  log("R2 bucket…");
  const bucket = config.r2_buckets[0]!.bucket_name;
  const buckets = (await wrangler(["r2", "bucket", "list"], "Listing the R2 buckets")).stdout;
  if (hasName(buckets, bucket)) log(`  ${bucket}: already there`);
  else {
    plan(`create R2 bucket ${bucket}`);
    if (!dryRun) await wrangler(["r2", "bucket", "create", bucket], `Creating R2 bucket ${bucket}`);
  }

  log("KV namespace for the runtime flags…");
  const kvTitle = `${config.name}-flags`;
  const namespaces = JSON.parse((await wrangler(["kv", "namespace", "list"], "Listing the KV namespaces")).stdout) as { id: string; title: string }[];
  let kvId = namespaces.find((n) => n.title === kvTitle)?.id;
  if (kvId) log(`  ${kvTitle}: already there (${kvId})`);
  else {
    plan(`create KV namespace ${kvTitle}`);
    if (!dryRun) {
      const out = (await wrangler(["kv", "namespace", "create", kvTitle], `Creating KV namespace ${kvTitle}`)).stdout;
      kvId = out.match(/\b[0-9a-f]{32}\b/i)?.[0];
      if (!kvId) throw new DeployError(`wrangler kv namespace create printed no id:\n${out}`);
    }
  }

  if (dryRun) {
    log("Then: apply the D1 migrations remotely, put the missing secrets, deploy, run setup and doctor.");
    log(changed.length ? `Dry run: ${changed.length} change(s) planned; nothing was changed.` : "Dry run: every resource is already there; nothing was changed.");
    return { changed };
  }

  const deployConfig = {
    ...config,
    d1_databases: config.d1_databases.map((d) => ({ ...d, database_id: databaseId })),
    kv_namespaces: config.kv_namespaces.map((k) => (k.binding === "FLAGS" ? { ...k, id: kvId } : k)),
  };
  delete (deployConfig as Record<string, unknown>)["$schema"];
  fs.writeFileSync(path.join(options.root, DEPLOY_CONFIG), JSON.stringify(deployConfig, null, 2) + "\n");
  const c = ["-c", DEPLOY_CONFIG];

  log("D1 migrations…");
  const migrations = await wrangler(["d1", "migrations", "apply", db.binding, "--remote", ...c], "Applying the D1 migrations");
  if (/no migrations to apply/i.test(migrations.stdout)) log("  already applied");
  else plan("apply the D1 migrations");

  log("Secrets…");
  const listed = await run("wrangler", ["secret", "list", "--format", "json", ...c]);
  // Before the first deploy there is no Worker, hence no secrets.
  let adminToken = options.devVars.ADMIN_TOKEN?.trim();
  const present = new Set(listed.code === 0 ? (JSON.parse(listed.stdout) as { name: string }[]).map((s) => s.name) : []);
  for (const name of [...REQUIRED_SECRETS, ...OPTIONAL_SECRETS]) {
    if (present.has(name)) {
      log(`  ${name}: already set`);
      continue;
    }
    let value = options.devVars[name]?.trim();
    if (!value && (REQUIRED_SECRETS as readonly string[]).includes(name)) {
      value = (await options.ask(`${name} (see .dev.vars.example): `))?.trim();
      if (!value) throw new DeployError(`${name} is needed and is neither set in Cloudflare nor in .dev.vars: add it to .dev.vars (see .dev.vars.example) or run \`npm run deploy\` in a terminal to be asked.`);
    }
    if (!value) continue;
    if (name === "ADMIN_TOKEN") adminToken = value;
    const put = await run("wrangler", ["secret", "put", name, ...c], value);
    if (put.code !== 0) throw new DeployError(`Cloudflare refused the secret ${name}:\n${(put.stderr || put.stdout).trim()}\nFix the value (in .dev.vars, or as asked) and run \`npm run deploy\` again; the steps before are kept.`);
    plan(`put secret ${name}`);
  }

  log("Deploying the Worker…");
  const deployed = await wrangler(["deploy", ...c], "Deploying");
  const url = deployed.stdout.match(/https:\/\/[^\s]+\.workers\.dev/)?.[0];
  log(url ? `  deployed at ${url}` : "  deployed (no workers.dev URL printed: the Worker serves only its routes)");

  const npmEnv = { ...options.devVars };
  const setupArgs = options.notionParent ? ["--parent", options.notionParent] : npmEnv.NOTION_CALLS_DATABASE_ID && npmEnv.NOTION_MESSAGES_DATABASE_ID ? ["--calls", npmEnv.NOTION_CALLS_DATABASE_ID, "--messages", npmEnv.NOTION_MESSAGES_DATABASE_ID] : undefined;
  if (!url) log("Setup and doctor skipped: they need the Worker's URL. Run `npm run setup -- --worker-url <url>` and `npm run doctor -- --url <url>`.");
  else if (!setupArgs) log("Setup skipped: give --parent <Notion page> (or NOTION_CALLS_DATABASE_ID and NOTION_MESSAGES_DATABASE_ID in .dev.vars) to create the databases and register the webhooks.");
  else {
    log("Setup (Notion databases and OpenPhone webhooks)…");
    const setup = await run("npm", ["run", "setup", "--", ...setupArgs, "--worker-url", url]);
    if (setup.code !== 0) throw new DeployError(`setup failed:\n${(setup.stderr || setup.stdout).trim()}`);
    log(setup.stdout.trim().split("\n").map((l) => `  ${l}`).join("\n"));
  }
  if (url) {
    log("Doctor…");
    const doctor = await run("npm", ["run", "doctor", "--", "--url", url, ...(adminToken ? ["--token", adminToken] : [])]);
    log(doctor.stdout.trim().split("\n").map((l) => `  ${l}`).join("\n"));
    if (doctor.code !== 0) log("  the doctor found problems: fix what it says, then `npm run deploy` again.");
    log(`\nDashboard: ${url}/`);
  }
  log(changed.length ? `Done: ${changed.length} change(s).` : "Done: everything was already right; nothing changed but the deployed code.");
  return { url, changed };
}

/** A command with its output captured; every wait is bounded (a deploy or a setup takes a few minutes at most). */
export const spawnRunner = (cwd: string, env: NodeJS.ProcessEnv): Runner => (command, args, input) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...env, WRANGLER_SEND_METRICS: "false" }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGTERM"), 10 * 60_000);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${command}: ${error.message}` });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(input ?? "");
  });

