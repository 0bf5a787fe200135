/**
 * Counters gathered in memory and written to D1 `metrics` together, after the response has gone out.
 *
 * The first request of a quiet spell opens a batch that is due a moment later; every request that arrives meanwhile
 * adds to it. Each request keeps itself alive (`waitUntil`) until the batch is due, and whichever gets there first
 * writes it: one D1 round trip per batch, and no batch is stranded if the request that opened it was cut short.
 * Counts still pending when the isolate is evicted are lost; these are dashboard figures, not the sync's state.
 */
import { incrementMetrics } from "../db/metrics";
import { createLogger } from "./logger";

export const COUNTER_FLUSH_DELAY_MS = 250;

interface CounterBatch {
  counts: Map<string, number>;
  dueAt: number;
}

const openBatches = new Map<D1Database, CounterBatch>();

export function addCounts(
  db: D1Database,
  counts: Record<string, number>,
  waitUntil: (promise: Promise<unknown>) => void,
  delayMs = COUNTER_FLUSH_DELAY_MS,
): void {
  let batch = openBatches.get(db);
  if (!batch) {
    batch = { counts: new Map(), dueAt: Date.now() + delayMs };
    openBatches.set(db, batch);
  }
  for (const [name, n] of Object.entries(counts)) batch.counts.set(name, (batch.counts.get(name) ?? 0) + n);
  waitUntil(flushWhenDue(db, batch));
}

async function flushWhenDue(db: D1Database, batch: CounterBatch): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, batch.dueAt - Date.now())));
  // Another request's timer may have written this batch already.
  if (openBatches.get(db) !== batch) return;
  openBatches.delete(db);
  try {
    await incrementMetrics(db, Object.fromEntries(batch.counts));
  } catch (error) {
    createLogger().warn("could not write counters", { counters: [...batch.counts.keys()], error });
  }
}
