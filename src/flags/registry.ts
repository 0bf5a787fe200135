/**
 * Every runtime flag: the settings an operator can change while the Worker runs, through `PUT /admin/flags` or the
 * dashboard, without a deploy. The var of the same name gives the default (wrangler.jsonc, `.dev.vars`,
 * `npm start -- --set NAME=VALUE`); an override in the `FLAGS` KV namespace wins when set. Code reads them with
 * `getFlags(env)` (src/flags/flags.ts), never from `env` or `Config`.
 *
 * Adding a flag is one entry below: a name in capitals, and a kind from ./kinds with its default and a sentence
 * saying what it changes. Its type, the API, the dashboard, validation and the change log follow from the entry.
 * Document it in the README's flags table.
 */
import { integerFlag, linesFlag, switchFlag } from "./kinds";

export const FLAG_REGISTRY = {
  COALESCE_MS: integerFlag(10_000, { min: 0, max: 600_000 }, "How long (ms) a call's events wait for each other before one Notion write; 0 writes at once."),
  CANVAS_INDEX_ENABLED: switchFlag(true, "Link calls and texts to Canvas pages through the Canvas index (off: written without a Canvas relation, the index is not refreshed)."),
  CANVAS_CREATE_UNKNOWN: switchFlag(false, "Create a Canvas page for a number no customer has."),
  CONTACTS_SYNC: switchFlag(false, "Give every Canvas customer with a phone number an OpenPhone contact (one way, on the frequent cron; never deletes, never changes contacts made elsewhere)."),
  MEDIA_COPY_ENABLED: switchFlag(true, "Copy recordings, voicemails and MMS media into R2 (off: they wait, and are copied once it is on again)."),
  MAIL_LINKING_ENABLED: switchFlag(true, "Link Mail pages to Canvas customers by address on the frequent cron."),
  BACKFILL_ENABLED: switchFlag(true, "Run the six-hourly scheduled backfill (a backfill started by hand runs either way)."),
  SWEEP_MINUTES: integerFlag(5, { min: 0, max: 1440 }, "Minutes between sweeps of recent conversations for calls and texts no webhook announced (on the five-minute cron); 0 turns the sweep off."),
  ALERTS_ENABLED: switchFlag(true, "Evaluate alerts and send them to ALERT_WEBHOOK_URL."),
  SYNC_LINES: linesFlag("Sync only these lines (ids or numbers, comma-separated); empty syncs every line."),
  SKIP_LINES: linesFlag("Never sync these lines (ids or numbers, comma-separated); wins over SYNC_LINES."),
  CANVAS_INDEX_LOOKUP_ENABLED: switchFlag(true, "Answer Canvas lookups from the Canvas index (off, for rollback: one Notion query per participant, nothing remembered)."),
  GATES_ENABLED: switchFlag(true, "Spend the Notion and OpenPhone budgets through the shared gates (off, for rollback: each client paces nothing and retries its own 429s with backoff)."),
  MEDIA_STREAMING_ENABLED: switchFlag(true, "Stream recordings and media into R2 (off, for rollback: each file is read whole into memory, then written with one put)."),
  D1_BATCHING_ENABLED: switchFlag(true, "Record each flush in D1 with one batch (off, for rollback: one statement per round trip)."),
} as const;

export type FlagName = keyof typeof FLAG_REGISTRY;

/** The typed value of every flag, as `getFlags(env)` returns them. */
export type Flags = { readonly [K in FlagName]: (typeof FLAG_REGISTRY)[K]["default"] };

export const FLAG_NAMES = Object.keys(FLAG_REGISTRY) as FlagName[];

export function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(FLAG_REGISTRY, name);
}
