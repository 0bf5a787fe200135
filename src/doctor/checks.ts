/**
 * The doctor's judgements, as pure functions over what the APIs answered: settings, each database's properties
 * against the declarative schema, the Canvas and Mail settings against their databases, and the OpenPhone webhook
 * registrations against this Worker. The shell (`run.ts`) fetches; these decide and say how to fix.
 */
import type { Config, ConfigProblem } from "../config";
import type { FlagReport } from "../flags/resolve";
import { type DatabaseKind, resolvePropertyNames, SCHEMAS } from "../notion/schema";
import { NEEDED_WEBHOOK_EVENTS, WEBHOOK_PATH } from "../openphone/webhook-families";
import type { DoctorProblem } from "./report";

/** A property as `databases.retrieve` (2022-06-28) or `dataSources.retrieve` (2025-09-03) describes it. */
export interface NotionPropertySchema {
  type: string;
  relation?: { data_source_id?: string; database_id?: string };
}

export type NotionProperties = Record<string, NotionPropertySchema>;

const SECRETS = new Set(["OPENPHONE_API_KEY", "NOTION_TOKEN", "ADMIN_TOKEN", "OPENPHONE_WEBHOOK_KEYS", "QUO_WEBHOOK_SECRETS", "MEDIA_SIGNING_KEYS", "ALERT_WEBHOOK_URL"]);

const SETTING_FIXES: Record<string, string> = {
  OPENPHONE_API_KEY: "create a key in OpenPhone (Settings → API) and run `npx wrangler secret put OPENPHONE_API_KEY`",
  NOTION_TOKEN: "copy the internal integration secret (notion.so/profile/integrations) and run `npx wrangler secret put NOTION_TOKEN`",
  ADMIN_TOKEN: "choose a long random token (`openssl rand -base64 32`) and run `npx wrangler secret put ADMIN_TOKEN`",
  OPENPHONE_WEBHOOK_KEYS:
    "run `npm run setup`, which registers the webhooks and prints their signing keys, then `npx wrangler secret put OPENPHONE_WEBHOOK_KEYS` with the keys comma-separated",
  NOTION_CALLS_DATABASE_ID: "run `npm run setup` to create the Calls database, or set the id (or URL) of your own",
  NOTION_MESSAGES_DATABASE_ID: "run `npm run setup` to create the Messages database, or set the id (or URL) of your own",
  MEDIA_SIGNING_KEYS: "set a random key of at least 16 characters (`openssl rand -base64 32`) with `npx wrangler secret put MEDIA_SIGNING_KEYS`",
};

const fixForSetting = (setting: string): string =>
  SETTING_FIXES[setting] ?? (SECRETS.has(setting) ? `set it with \`npx wrangler secret put ${setting}\` (locally: .dev.vars)` : `set it in wrangler.jsonc \`vars\` (locally: .dev.vars) and redeploy`);

/**
 * Every setting problem `loadConfig` found, every runtime flag whose var or KV override is malformed, plus settings
 * that are set but cannot take effect.
 */
export function settingsProblems(config: Config, problems: ConfigProblem[], flags: readonly FlagReport[] = []): DoctorProblem[] {
  const found: DoctorProblem[] = problems.map((p) => ({ check: "settings", subject: p.setting, problem: p.problem, fix: fixForSetting(p.setting) }));
  const add = (subject: string, problem: string, fix: string) => found.push({ check: "settings", subject, problem, fix });
  for (const flag of flags) {
    if (flag.problem) add(flag.name, `${flag.problem}; ${flag.name} is ${flag.value} (${flag.source})`, `set a valid value on the dashboard's flags or with PUT /admin/flags, and fix the var`);
  }
  const flagOn = (name: string) => flags.find((f) => f.name === name)?.value === "true";
  // Pasted tokens: the APIs would refuse them, with an error that does not say why.
  for (const name of ["OPENPHONE_API_KEY", "NOTION_TOKEN", "ADMIN_TOKEN"] as const) {
    const value = config[name];
    if (!value) continue;
    if (/^bearer\s/i.test(value)) add(name, 'starts with "Bearer ": the Worker adds what the API needs', `store the token alone: ${fixForSetting(name)}`);
    else if (/[\s"'`]/.test(value)) add(name, "contains spaces or quotes: probably pasted with more than the token", `store the token alone: ${fixForSetting(name)}`);
  }
  if (!config.PUBLIC_BASE_URL && !config.MEDIA_PUBLIC_BASE_URL) {
    add("PUBLIC_BASE_URL", "not set: pages get no recording, voicemail or media links, and the webhooks cannot be checked against this Worker", "set it to the Worker's public https URL (e.g. https://sync.example.workers.dev)");
  }
  if (!config.NOTION_CANVAS_DATABASE_ID) {
    for (const name of ["CANVAS_PHONE_PROPERTIES", "CANVAS_EMAIL_PROPERTIES"] as const) {
      if (config[name].length > 0) add(name, "set, but NOTION_CANVAS_DATABASE_ID is not: no customer is matched", "set NOTION_CANVAS_DATABASE_ID to the Canvas database, or remove this setting");
    }
    if (config.CANVAS_TITLE_PROPERTY) add("CANVAS_TITLE_PROPERTY", "set, but NOTION_CANVAS_DATABASE_ID is not", "set NOTION_CANVAS_DATABASE_ID, or remove this setting");
    if (flagOn("CANVAS_CREATE_UNKNOWN")) add("CANVAS_CREATE_UNKNOWN", "on, but NOTION_CANVAS_DATABASE_ID is not set: no Canvas page can be created", "set NOTION_CANVAS_DATABASE_ID, or turn it off");
    if (config.NOTION_MAIL_DATABASE_ID) add("NOTION_MAIL_DATABASE_ID", "set, but NOTION_CANVAS_DATABASE_ID is not: mail is linked to Canvas customers, so nothing is linked", "set NOTION_CANVAS_DATABASE_ID");
  }
  if (!config.NOTION_MAIL_DATABASE_ID && config.MAIL_ADDRESS_PROPERTIES.length > 0) {
    add("MAIL_ADDRESS_PROPERTIES", "set, but NOTION_MAIL_DATABASE_ID is not: no mail is linked", "set NOTION_MAIL_DATABASE_ID to the Mail database, or remove this setting");
  }
  return found;
}

const TITLES: Record<DatabaseKind, string> = { calls: "Calls", messages: "Messages" };
const normalizeId = (id: string | undefined) => id?.replace(/-/g, "").toLowerCase();

export interface CanvasTarget {
  databaseId?: string;
  dataSourceId?: string;
}

/**
 * Each property the sync writes, by its mapped name, against what the database has. A missing property gets a
 * suggestion: an unused property of the same type is probably it, renamed.
 */
export function databaseProblems(kind: DatabaseKind, properties: NotionProperties, config: Config, canvas: CanvasTarget): DoctorProblem[] {
  const names = resolvePropertyNames(kind, config.NOTION_PROPERTY_MAP);
  const title = TITLES[kind];
  const claimed = new Set(Object.values(names));
  const problems: DoctorProblem[] = [];
  for (const spec of SCHEMAS[kind]) {
    // The relation exists only when a Canvas database is configured (setup creates it then).
    if (spec.type === "relation" && !config.NOTION_CANVAS_DATABASE_ID) continue;
    const name = names[spec.name]!;
    const subject = `${title} database, property "${name}"`;
    const mapKey = `${title}.${spec.name}`;
    const found = properties[name];
    if (!found) {
      const candidates = Object.entries(properties)
        .filter(([other, p]) => p.type === spec.type && !claimed.has(other))
        .map(([other]) => other);
      const renamed = candidates.length > 0 ? ` A ${spec.type} property "${candidates[0]}" is not used by the sync: if it is this one renamed, map it with NOTION_PROPERTY_MAP {"${mapKey}": "${candidates[0]}"}, or rename it back.` : "";
      problems.push({
        check: kind,
        subject,
        property: name,
        problem: `missing (expected a ${spec.type} property: ${spec.description})`,
        fix: `${renamed ? renamed.trim() : `Rename the property back to "${name}", run \`npm run setup\` to add it, or map your own with NOTION_PROPERTY_MAP {"${mapKey}": "<its name>"}.`}`,
      });
      continue;
    }
    if (found.type !== spec.type) {
      problems.push({
        check: kind,
        subject,
        property: name,
        problem: `is a ${found.type} property, expected ${spec.type}`,
        fix: `change its type to ${spec.type} in Notion, or map ${mapKey} to a ${spec.type} property with NOTION_PROPERTY_MAP`,
      });
      continue;
    }
    if (spec.type === "relation" && found.relation) {
      const target = found.relation;
      const pointsAtCanvas =
        (target.data_source_id !== undefined && normalizeId(target.data_source_id) === normalizeId(canvas.dataSourceId)) ||
        (target.database_id !== undefined && normalizeId(target.database_id) === normalizeId(canvas.databaseId));
      if ((canvas.dataSourceId || canvas.databaseId) && !pointsAtCanvas) {
        problems.push({
          check: kind,
          subject,
          property: name,
          problem: "relates to another database than NOTION_CANVAS_DATABASE_ID",
          fix: "point the relation at the Canvas database in Notion, or set NOTION_CANVAS_DATABASE_ID to the database it relates to",
        });
      }
    }
  }
  return problems;
}

/** Types whose plain text the Canvas and Mail readers understand (see `canvas/notion-page.ts`). */
const TEXT_TYPES = new Set(["phone_number", "email", "rich_text", "title", "url", "formula"]);

function textPropertyProblems(check: "canvas" | "mail", database: string, setting: string, wanted: string[], properties: NotionProperties): DoctorProblem[] {
  const problems: DoctorProblem[] = [];
  for (const name of wanted) {
    const found = properties[name];
    const subject = `${database} database, property "${name}" (${setting})`;
    if (!found) {
      const available = Object.entries(properties).filter(([, p]) => TEXT_TYPES.has(p.type)).map(([n]) => `"${n}"`);
      problems.push({ check, subject, problem: "missing", fix: `fix ${setting}: the text-like properties of this database are ${available.join(", ") || "none"}` });
    } else if (!TEXT_TYPES.has(found.type)) {
      problems.push({ check, subject, problem: `is a ${found.type} property, which holds no text to read`, fix: `name a phone, email, text, title, URL or text-formula property in ${setting}` });
    }
  }
  return problems;
}

export function canvasProblems(properties: NotionProperties, config: Config): DoctorProblem[] {
  const problems = [
    ...textPropertyProblems("canvas", "Canvas", "CANVAS_PHONE_PROPERTIES", config.CANVAS_PHONE_PROPERTIES, properties),
    ...textPropertyProblems("canvas", "Canvas", "CANVAS_EMAIL_PROPERTIES", config.CANVAS_EMAIL_PROPERTIES, properties),
    ...textPropertyProblems("canvas", "Canvas", "CANVAS_TITLE_PROPERTY", config.CANVAS_TITLE_PROPERTY ? [config.CANVAS_TITLE_PROPERTY] : [], properties),
  ];
  const types = Object.values(properties).map((p) => p.type);
  if (config.CANVAS_PHONE_PROPERTIES.length === 0 && !types.includes("phone_number")) {
    problems.push({
      check: "canvas",
      subject: "CANVAS_PHONE_PROPERTIES",
      problem: "not set, and the Canvas database has no phone property to read by default: no call or text is matched to a customer",
      fix: "set CANVAS_PHONE_PROPERTIES to the properties that hold your customers' phone numbers",
    });
  }
  return problems;
}

export function mailProblems(properties: NotionProperties, config: Config, canvas: CanvasTarget): DoctorProblem[] {
  const problems = textPropertyProblems("mail", "Mail", "MAIL_ADDRESS_PROPERTIES", config.MAIL_ADDRESS_PROPERTIES, properties);
  if (config.MAIL_ADDRESS_PROPERTIES.length === 0 && !Object.values(properties).some((p) => p.type === "email")) {
    problems.push({ check: "mail", subject: "MAIL_ADDRESS_PROPERTIES", problem: "not set, and the Mail database has no email property to read by default", fix: "set MAIL_ADDRESS_PROPERTIES to the properties that hold the sender and recipients" });
  }
  const name = config.MAIL_CANVAS_RELATION_PROPERTY;
  const relation = properties[name];
  const subject = `Mail database, property "${name}" (MAIL_CANVAS_RELATION_PROPERTY)`;
  if (!relation) {
    problems.push({ check: "mail", subject, problem: "missing", fix: "add a relation property to the Canvas database in Mail, or set MAIL_CANVAS_RELATION_PROPERTY to its name" });
  } else if (relation.type !== "relation") {
    problems.push({ check: "mail", subject, problem: `is a ${relation.type} property, expected a relation to the Canvas database`, fix: "set MAIL_CANVAS_RELATION_PROPERTY to the relation property that points at the Canvas database" });
  } else if (relation.relation && (canvas.dataSourceId || canvas.databaseId)) {
    const target = relation.relation;
    const ok = normalizeId(target.data_source_id) === normalizeId(canvas.dataSourceId) || (target.database_id !== undefined && normalizeId(target.database_id) === normalizeId(canvas.databaseId));
    if (!ok) problems.push({ check: "mail", subject, problem: "relates to another database than NOTION_CANVAS_DATABASE_ID", fix: "point it at the Canvas database, or set MAIL_CANVAS_RELATION_PROPERTY to the relation that does" });
  }
  return problems;
}

/** A registration as `GET /v1/webhooks` lists it. */
export interface WebhookRegistration {
  id: string;
  url: string;
  events: string[];
  key: string;
  status: string;
  resourceIds?: string[];
}

/** A webhook of the 2026-03-30 system as `GET /webhooks` lists it: no key is ever shown again after creation. */
export interface QuoWebhookRegistration {
  id: string;
  url: string;
  events: string[];
  status: string;
  resourceIds?: string[];
}

export interface WebhookExpectation {
  /** This Worker's origin (PUBLIC_BASE_URL, else the origin the check was asked on). */
  baseUrl: string;
  /** Signing keys the Worker accepts. */
  keys: string[];
  /** How many `whsec_` secrets the Worker has (QUO_WEBHOOK_SECRETS). */
  quoSecrets?: number;
  /** The workspace's lines (phone number ids), to find events not registered for some of them. */
  lineIds: string[];
}

/**
 * The registrations aimed at this Worker, in either webhook system, must be enabled, signed with a key the Worker
 * has, and together cover every event the sync needs on every line. Both systems at once is fine (the sync counts an
 * event once). Registrations for other URLs are not this Worker's business.
 */
export function webhookProblems(webhooks: WebhookRegistration[], expected: WebhookExpectation, quoWebhooks: QuoWebhookRegistration[] = []): DoctorProblem[] {
  const url = `${expected.baseUrl.replace(/\/+$/, "")}${WEBHOOK_PATH}`;
  const ours = webhooks.filter((w) => w.url.replace(/\/+$/, "") === url);
  const oursQuo = quoWebhooks.filter((w) => w.url.replace(/\/+$/, "") === url);
  const problems: DoctorProblem[] = [];
  const add = (subject: string, problem: string, fix: string) => problems.push({ check: "webhooks", subject, problem, fix });
  for (const w of oursQuo) {
    if (w.status !== "enabled") add(`webhook ${w.id} (2026-03-30)`, `is ${w.status}: Quo sends it nothing`, "enable it (PATCH /webhooks/{id} with status enabled), or run `npm run setup` with `--worker-url`");
    else if (!expected.quoSecrets) add(`webhook ${w.id} (2026-03-30)`, "is signed with a whsec_ secret, but QUO_WEBHOOK_SECRETS is empty: every delivery gets 401", "run `npm run setup` with `--worker-url` (it rotates the key and prints it) and put it in QUO_WEBHOOK_SECRETS");
  }
  if (ours.length === 0 && oursQuo.length > 0) {
    // The new system alone: its one webhook must cover every event the sync needs.
    const enabledQuo = oursQuo.filter((w) => w.status === "enabled");
    for (const event of NEEDED_WEBHOOK_EVENTS) {
      if (!enabledQuo.some((w) => w.events.includes(event))) add(`event ${event}`, "no enabled webhook for this Worker sends it", "run `npm run setup` with `--worker-url <this Worker>`, which registers one webhook for every event");
    }
    return problems;
  }
  if (ours.length === 0) {
    const elsewhere = webhooks.filter((w) => w.events.some((e) => NEEDED_WEBHOOK_EVENTS.includes(e))).map((w) => w.url);
    add(
      url,
      `no OpenPhone webhook points at this Worker${elsewhere.length > 0 ? ` (webhooks exist for ${[...new Set(elsewhere)].join(", ")})` : ""}: nothing arrives in real time`,
      "run `npm run setup -- --calls … --messages … --worker-url <this Worker>`, then put the printed keys in OPENPHONE_WEBHOOK_KEYS",
    );
    return problems;
  }
  const enabled = ours.filter((w) => w.status === "enabled");
  for (const w of ours) {
    if (w.status !== "enabled") add(`webhook ${w.id}`, `is ${w.status}: OpenPhone sends it nothing`, "enable it in OpenPhone (Settings → Webhooks), or delete it and run `npm run setup` with `--worker-url`");
    else if (!expected.keys.includes(w.key)) add(`webhook ${w.id}`, "is signed with a key the Worker does not have: every delivery gets 401", "add its key (GET /v1/webhooks, field `key`) to OPENPHONE_WEBHOOK_KEYS and redeploy");
  }
  const enabledQuo = oursQuo.filter((w) => w.status === "enabled");
  for (const event of NEEDED_WEBHOOK_EVENTS) {
    if (enabledQuo.some((w) => w.events.includes(event) && (!w.resourceIds || w.resourceIds.includes("*")))) continue;
    const covering = enabled.filter((w) => w.events.includes(event));
    if (covering.length === 0) {
      add(`event ${event}`, "no enabled webhook for this Worker sends it", "run `npm run setup` with `--worker-url <this Worker>`, which registers the missing webhook, then add its key to OPENPHONE_WEBHOOK_KEYS");
      continue;
    }
    if (covering.some((w) => !w.resourceIds || w.resourceIds.length === 0 || w.resourceIds.includes("*"))) continue;
    const covered = new Set(covering.flatMap((w) => w.resourceIds ?? []));
    const missing = expected.lineIds.filter((id) => !covered.has(id));
    if (missing.length > 0) add(`event ${event}`, `not sent for line(s) ${missing.join(", ")}`, "register the webhook for every line (resourceIds [\"*\"]): delete it and run `npm run setup` with `--worker-url`");
  }
  return problems;
}
