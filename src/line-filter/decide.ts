/**
 * The line filter as the intake applies it: whether a verified webhook's line is synced or skipped. A skipped
 * line's webhook is answered 202 and never queued, so it costs no OpenPhone or Notion request.
 *
 * Numbers in the filter need the line's number. It is known in this isolate, or read from D1 `lines`; failing
 * that, OpenPhone's list of lines is read into D1 (one request, at most once per LINE_LIST_REFRESH_MS per isolate).
 * A line whose number still cannot be learnt is synced, with a warning: an event is never dropped on a guess.
 */
import { refreshOwnNumbers } from "../canvas/own-numbers";
import type { Config } from "../config";
import { readLineNumber, rememberSeenLine } from "../db/lines";
import { incrementMetrics } from "../db/metrics";
import { getFlags } from "../flags/flags";
import { newRequestCounter } from "../gates/gated-fetch";
import type { Logger } from "../observability/logger";
import { createOpenPhoneClient } from "../openphone/client";
import { filtersLines, lineFilterOf, lineVerdict, skipReason, type LineFilter } from "./filter";

export const LINE_LIST_REFRESH_MS = 10 * 60_000;

export type LineDecision = { skipped: false } | { skipped: true; reason: string };

type FilterEnv = Pick<Env, "FLAGS" | "DB" | "GATE">;

const numbers = new Map<string, string>();
const seen = new Set<string>();
let lineListReadAt = 0;

export async function currentLineFilter(env: Pick<Env, "FLAGS">, config: Config): Promise<LineFilter> {
  return lineFilterOf(await getFlags(env), config.DEFAULT_REGION);
}

/** The verdict for a routing key; keys that are not lines (`call:AC…`, `unknown`) are never filtered. */
export async function decideLine(env: FilterEnv, config: Config, lineId: string, log: Logger): Promise<LineDecision> {
  if (!lineId.startsWith("PN")) return { skipped: false };
  const filter = await currentLineFilter(env, config);
  if (!filtersLines(filter)) return { skipped: false };
  let number = numbers.get(lineId) ?? null;
  let verdict = lineVerdict(filter, { id: lineId, number });
  if (verdict === "undecided") {
    number = await readLineNumber(env.DB, lineId);
    if (number === null && config.OPENPHONE_API_KEY && Date.now() - lineListReadAt >= LINE_LIST_REFRESH_MS) {
      lineListReadAt = Date.now();
      const counter = newRequestCounter();
      try {
        await refreshOwnNumbers(createOpenPhoneClient(env, config, counter), env.DB, config, { force: true });
        number = await readLineNumber(env.DB, lineId);
      } catch (error) {
        log.warn("could not read OpenPhone's list of lines for the line filter", { error });
      }
      await incrementMetrics(env.DB, { "openphone.requests.routing": counter.openphone });
    }
    if (number !== null) numbers.set(lineId, number);
    verdict = lineVerdict(filter, { id: lineId, number });
  }
  if (verdict === "undecided") {
    log.warn("the line filter names numbers, and this line's number is not known yet: its event is synced", { lineId });
    return { skipped: false };
  }
  if (verdict === "synced") return { skipped: false };
  if (!seen.has(lineId)) {
    await rememberSeenLine(env.DB, lineId, Date.now());
    seen.add(lineId);
  }
  return { skipped: true, reason: skipReason(filter, { id: lineId, number }) };
}
