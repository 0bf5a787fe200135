/**
 * The workspace's own numbers (its OpenPhone lines) are never customers: a call between two of our lines, or a
 * Canvas page that lists our main number, must not link a call to a customer. They come from OpenPhone's phone
 * numbers list and are kept in D1 `lines`, refreshed at most hourly.
 */
import type { Config } from "../config";
import { readCanvasState, writeCanvasState } from "../db/canvas-index";
import { upsertLineStatement } from "../db/lines";
import type { OpenPhoneClient } from "../openphone/client";
import { normalizePhone } from "./normalize";

export const OWN_NUMBERS_MAX_AGE_MS = 3_600_000;

/** Reads the lines from OpenPhone into D1 when the copy is older than an hour (or `force`). Returns whether it did. */
export async function refreshOwnNumbers(
  openphone: OpenPhoneClient,
  db: D1Database,
  config: Config,
  options: { force?: boolean; now?: number } = {},
): Promise<boolean> {
  const now = options.now ?? Date.now();
  if (!config.OPENPHONE_API_KEY) return false;
  const state = await readCanvasState(db, ["own_numbers_at"]);
  if (!options.force && state.own_numbers_at && now - Number(state.own_numbers_at) < OWN_NUMBERS_MAX_AGE_MS) return false;
  const { data } = await openphone.request("listPhoneNumbers_v1", {});
  const statements = data.map((line) =>
    upsertLineStatement(db, { id: line.id, number: normalizePhone(line.number, config.DEFAULT_REGION) ?? line.number, name: line.name ?? null }, now),
  );
  statements.push(writeCanvasState(db, "own_numbers_at", String(now)));
  await db.batch(statements);
  return true;
}
