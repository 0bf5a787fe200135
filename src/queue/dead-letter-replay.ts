/**
 * Replay of dead letters: each one's original queue message body goes back onto `sync-events`, in `sendBatch` calls
 * that stay within the Queues limits (100 messages and 256 KB per batch), and is marked replayed once sent. A letter
 * is only marked after its batch was accepted, so a failure part-way leaves the rest open for the next replay.
 */
import { countOpenDeadLetters, getDeadLetters, listOpenDeadLetters, markDeadLettersReplayed, type DeadLetter } from "../db/dead-letters";

export const SEND_BATCH_MAX_MESSAGES = 100;
/** Queues accept 256 KB per batch; the margin covers per-message overhead. */
export const SEND_BATCH_MAX_BYTES = 240_000;
/** Letters replayed by one request when no ids are given; the answer says how many remain. */
export const REPLAY_ALL_LIMIT = 1000;

export interface ReplayResult {
  replayed: number[];
  notFound: number[];
  alreadyReplayed: number[];
  /** Open dead letters left after this replay. */
  remaining: number;
  /** Set when a batch could not be sent; the letters from that batch on stay open. */
  error?: string;
}

/** Splits items into batches of at most `maxCount` items and `maxBytes` (an item larger than that goes alone). */
export function chunkForSendBatch<T>(items: T[], sizeOf: (item: T) => number, maxCount = SEND_BATCH_MAX_MESSAGES, maxBytes = SEND_BATCH_MAX_BYTES): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export async function replayDeadLetters(env: Pick<Env, "DB" | "SYNC_QUEUE">, ids?: number[]): Promise<ReplayResult> {
  const requested = ids ? [...new Set(ids)] : undefined;
  const letters = requested ? await getDeadLetters(env.DB, requested) : await listOpenDeadLetters(env.DB, REPLAY_ALL_LIMIT);
  const found = new Set(letters.map((l) => l.id));
  const open = letters.filter((l) => l.replayedAt === null);
  const result: ReplayResult = {
    replayed: [],
    notFound: requested ? requested.filter((id) => !found.has(id)) : [],
    alreadyReplayed: letters.filter((l) => l.replayedAt !== null).map((l) => l.id),
    remaining: 0,
  };

  const encoder = new TextEncoder();
  const sizeOf = (l: DeadLetter) => encoder.encode(JSON.stringify(l.body)).byteLength;
  for (const chunk of chunkForSendBatch(open, sizeOf)) {
    try {
      await env.SYNC_QUEUE.sendBatch(chunk.map((l) => ({ body: l.body })));
    } catch (error) {
      result.error = `could not queue dead letters ${chunk[0]!.id}…${chunk.at(-1)!.id}: ${error instanceof Error ? error.message : String(error)}`;
      break;
    }
    const sentIds = chunk.map((l) => l.id);
    result.replayed.push(...sentIds);
    try {
      await markDeadLettersReplayed(env.DB, sentIds);
    } catch (error) {
      // Queued but still open: a later replay sends them again, which the Line Durable Object deduplicates.
      result.error = `queued dead letters ${sentIds[0]}…${sentIds.at(-1)} but could not mark them replayed: ${error instanceof Error ? error.message : String(error)}`;
      break;
    }
  }
  result.remaining = await countOpenDeadLetters(env.DB);
  return result;
}
