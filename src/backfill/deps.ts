/**
 * What the backfill needs from the Worker, gathered in one place so the job runner and the run starter take plain
 * functions (tests give them a fake queue or a failing ingest without touching bindings).
 *
 * OpenPhone requests go through the shared gate, so backfill and real time spend one budget. Backfill asks with a
 * short maximum wait (`BACKFILL_GATE_MAX_WAIT_MS`): when the gate's queue is longer than that, real-time work is
 * waiting and the backfill step stops, checkpoints and comes back later instead of taking a place in the line.
 * Real-time callers wait up to 30 s, so under load they keep their place and the backfill gets what they leave.
 */
import { getConfig, type Config } from "../config";
import type { RequestCounter } from "../gates/gated-fetch";
import type { IngestResult } from "../line/line-durable-object";
import { currentLineFilter } from "../line-filter/decide";
import type { LineFilter } from "../line-filter/filter";
import { createOpenPhoneClient, type OpenPhoneClient } from "../openphone/client";
import type { BackfillMessage, SyncMessage } from "../queue/messages";

export interface BackfillDeps {
  db: D1Database;
  config: Config;
  /** The Line Durable Object's `ingest`, the same RPC the webhook path uses. */
  ingest: (lineId: string, messages: SyncMessage[]) => Promise<IngestResult>;
  enqueue: (messages: BackfillMessage[], delaySeconds?: number) => Promise<void>;
  openphone: (counter: RequestCounter) => OpenPhoneClient;
  /** SYNC_LINES/SKIP_LINES as they are now: skipped lines are not backfilled. */
  lineFilter: () => Promise<LineFilter>;
  now: () => number;
}

export function backfillOpenPhoneClient(env: Pick<Env, "GATE">, config: Config, counter: RequestCounter): OpenPhoneClient {
  return createOpenPhoneClient(env, config, counter, { maxWaitMs: config.BACKFILL_GATE_MAX_WAIT_MS });
}

export function backfillDeps(env: Env): BackfillDeps {
  const { config } = getConfig(env);
  return {
    db: env.DB,
    config,
    ingest: (lineId, messages) => env.LINE.get(env.LINE.idFromName(lineId)).ingest(messages),
    enqueue: async (messages, delaySeconds) => {
      if (messages.length === 0) return;
      await env.SYNC_QUEUE.sendBatch(messages.map((body) => ({ body, ...(delaySeconds ? { delaySeconds } : {}) })));
    },
    openphone: (counter) => backfillOpenPhoneClient(env, config, counter),
    lineFilter: () => currentLineFilter(env, config),
    now: () => Date.now(),
  };
}
