/**
 * `npm run setup`: prepares Notion and OpenPhone for the sync.
 *
 *   npm run setup -- --parent <Notion page id or URL> [--canvas <database>] [--worker-url https://…]
 *   npm run setup -- --calls <database> --messages <database> [--canvas <database>] [--worker-url https://…]
 *
 * Reads NOTION_TOKEN and OPENPHONE_API_KEY (and optionally NOTION_API_BASE, OPENPHONE_API_BASE,
 * NOTION_PROPERTY_MAP and the NOTION_*_DATABASE_ID settings) from the environment. Creates the Calls and Messages
 * databases under the parent page, or adds the missing properties to existing ones, and prints the difference;
 * checks the OpenPhone key and lists the lines; with --worker-url, registers the webhooks and prints the signing
 * keys to store:
 * - by default one webhook of the 2026-03-30 system (`/webhooks`), whose `whsec_` secret goes in QUO_WEBHOOK_SECRETS;
 * - with `--webhooks v1`, the legacy `/v1/webhooks` ones, whose keys go in OPENPHONE_WEBHOOK_KEYS;
 * - with `--migrate`, the new webhook is enabled first and then the legacy ones for the same URL are deleted, so no
 *   event falls between the two (the sync counts an event sent through both once).
 */
import { parseArgs } from "node:util";
import { migrateToQuoWebhooks, registerQuoWebhook } from "./lib/quo-webhooks.ts";
import { describeNotionSetup, listOpenPhoneLines, registerOpenPhoneWebhooks, setupNotionDatabases } from "./lib/setup.ts";

const { values } = parseArgs({
  options: {
    parent: { type: "string" },
    calls: { type: "string" },
    messages: { type: "string" },
    canvas: { type: "string" },
    "worker-url": { type: "string" },
    webhooks: { type: "string", default: "quo" },
    migrate: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

/** A Notion id from an id or a URL (32 hex digits, dashes optional). */
function notionId(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const match = value.trim().match(/([0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})(?:[?#].*)?$/i);
  if (!match) throw new Error(`"${value}" is not a Notion id or URL`);
  return match[1]!.replace(/-/g, "").toLowerCase();
}

if (values.help) {
  console.log("Usage: npm run setup -- (--parent <page> | --calls <db> --messages <db>) [--canvas <db>] [--worker-url <url> [--webhooks quo|v1] [--migrate]]");
  process.exit(0);
}
if (values.webhooks !== "quo" && values.webhooks !== "v1") {
  console.error(`setup failed: --webhooks must be quo (the 2026-03-30 webhooks, the default) or v1 (legacy), not ${JSON.stringify(values.webhooks)}`);
  process.exit(2);
}
if (values.migrate && (values.webhooks !== "quo" || !values["worker-url"])) {
  console.error("setup failed: --migrate moves the webhooks of --worker-url to the 2026-03-30 system; it needs --worker-url and cannot be combined with --webhooks v1");
  process.exit(2);
}

const env = process.env;
try {
  const token = env.NOTION_TOKEN?.trim();
  if (!token) throw new Error("NOTION_TOKEN is not set (an internal integration token with access to the parent page)");
  const propertyMap = env.NOTION_PROPERTY_MAP ? (JSON.parse(env.NOTION_PROPERTY_MAP) as Record<string, string>) : {};
  const result = await setupNotionDatabases({
    token,
    baseUrl: env.NOTION_API_BASE || undefined,
    parentPageId: notionId(values.parent),
    callsDatabaseId: notionId(values.calls ?? env.NOTION_CALLS_DATABASE_ID),
    messagesDatabaseId: notionId(values.messages ?? env.NOTION_MESSAGES_DATABASE_ID),
    canvasDatabaseId: notionId(values.canvas ?? env.NOTION_CANVAS_DATABASE_ID),
    propertyMap,
  });
  console.log("Notion:");
  for (const line of describeNotionSetup(result)) console.log(`  ${line}`);
  console.log(`\n  NOTION_CALLS_DATABASE_ID=${result.calls.databaseId}\n  NOTION_MESSAGES_DATABASE_ID=${result.messages.databaseId}`);

  const apiKey = env.OPENPHONE_API_KEY?.trim();
  if (!apiKey) throw new Error("OPENPHONE_API_KEY is not set (OpenPhone → Settings → API)");
  const openphone = { apiKey, baseUrl: env.OPENPHONE_API_BASE || undefined };
  const lines = await listOpenPhoneLines(openphone);
  console.log(`\nOpenPhone: the key works; ${lines.length} line(s)`);
  for (const line of lines) console.log(`  ${line.id}  ${line.number}  ${line.name}`);

  if (values["worker-url"]) {
    const url = `${values["worker-url"].replace(/\/+$/, "")}/webhooks/openphone`;
    // The 2026-03-30 API has its own host; OPENPHONE_API_BASE (an emulator) serves both.
    const quoApi = { apiKey, baseUrl: env.QUO_API_BASE || env.OPENPHONE_API_BASE || undefined };
    console.log(`\nWebhooks → ${url}`);
    if (values.migrate) {
      const report = await migrateToQuoWebhooks({ ...quoApi, url, legacyBaseUrl: env.OPENPHONE_API_BASE || undefined });
      for (const line of report.lines) console.log(`  ${line}`);
      console.log(`\nStore the signing secret:  wrangler secret put QUO_WEBHOOK_SECRETS  (value: ${report.quo.key})`);
      if (report.deletedLegacy.length > 0) console.log("Once it is stored, OPENPHONE_WEBHOOK_KEYS is needed only for webhooks made in the Quo app.");
    } else if (values.webhooks === "v1") {
      const webhooks = await registerOpenPhoneWebhooks({ ...openphone, url });
      for (const w of webhooks) console.log(`  ${w.reused ? "=" : "+"} ${w.id}  ${w.events.join(", ")}  (legacy)`);
      console.log(`\nStore the signing keys:  wrangler secret put OPENPHONE_WEBHOOK_KEYS  (value: ${webhooks.map((w) => w.key).join(",")})`);
    } else {
      const webhook = await registerQuoWebhook({ ...quoApi, url });
      console.log(`  ${webhook.outcome === "created" ? "+" : "~ (key rotated)"} ${webhook.id}  ${webhook.events.join(", ")}  (2026-03-30)`);
      console.log(`\nStore the signing secret:  wrangler secret put QUO_WEBHOOK_SECRETS  (value: ${webhook.key})`);
    }
  } else {
    console.log("\nWebhooks: not registered (pass --worker-url https://<your worker> to register them)");
  }
} catch (error) {
  console.error(`setup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
