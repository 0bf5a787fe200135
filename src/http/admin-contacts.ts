/**
 * `/admin/contacts`: the OpenPhone contacts both ways.
 *
 * | route | what |
 * | --- | --- |
 * | `GET /` | the contacts kept in D1, the sync's counts per state, the customers it skipped, found in conflict, failed or saw removed, and its last pass |
 * | `POST /sync?dryRun=1` | one pass of the Canvas → OpenPhone sync; with `dryRun`, what it would create, update or leave alone, and why (nothing is written to OpenPhone) |
 * | `POST /refresh` | lists OpenPhone's contacts into D1 now |
 *
 * A real pass needs the CONTACTS_SYNC flag on (409 otherwise); a dry run works either way.
 */
import { Hono } from "hono";
import { CANVAS_INDEX_OBJECT_NAME } from "../canvas/matcher";
import { getConfig } from "../config";
import { getFlags } from "../flags/flags";
import { readContactSyncCounts, readContactSyncProblems, readLastContactSyncPass } from "../db/contact-sync";
import { readContactStoreStats } from "../db/openphone-contacts";

const canvasObject = (env: Env) => env.CANVAS_INDEX.get(env.CANVAS_INDEX.idFromName(CANVAS_INDEX_OBJECT_NAME));

export async function readContactsOverview(env: Env) {
  const [store, counts, problems, lastPass] = await Promise.all([
    readContactStoreStats(env.DB),
    readContactSyncCounts(env.DB),
    readContactSyncProblems(env.DB),
    readLastContactSyncPass<Record<string, unknown>>(env.DB),
  ]);
  return { syncEnabled: (await getFlags(env)).CONTACTS_SYNC, store, counts, problems, lastPass };
}

export const contactsAdmin = new Hono<{ Bindings: Env }>()
  .get("/", async (c) => c.json(await readContactsOverview(c.env), 200, { "Cache-Control": "no-store" }))
  .post("/sync", async (c) => {
    const { config } = getConfig(c.env);
    const dryRun = ["1", "true", "yes"].includes((c.req.query("dryRun") ?? "").toLowerCase());
    if (!config.OPENPHONE_API_KEY) return c.json({ error: "not_configured", message: "OPENPHONE_API_KEY is not set" }, 409);
    if (!dryRun && !(await getFlags(c.env)).CONTACTS_SYNC) return c.json({ error: "disabled", message: "The contact sync is off: turn the CONTACTS_SYNC flag on (a dry run works without it)" }, 409);
    return c.json(await canvasObject(c.env).syncContacts(dryRun));
  })
  .post("/refresh", async (c) => {
    if (!getConfig(c.env).config.OPENPHONE_API_KEY) return c.json({ error: "not_configured", message: "OPENPHONE_API_KEY is not set" }, 409);
    return c.json({ refreshed: await canvasObject(c.env).refreshContacts(true) });
  });
