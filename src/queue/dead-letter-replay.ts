/**
 * Replay of dead letters: each one's original queue message body goes back onto `sync-events`, in `sendBatch` calls
 * that stay within the Queues limits (100 messages and 256 KB per batch), and is marked replayed once sent. A letter
 * is only marked after its batch was accepted, so a failure part-way leaves the rest open for the next replay.
 */
import { countOpenDeadLetters, getDeadLetters, itemOf, listOpenDeadLetters, markDeadLettersReplayed, openDeadLettersOfItems, type DeadLetter } from "../db/dead-letters";

export const SEND_BATCH_MAX_MESSAGES = 100;
/** Queues accept 256 KB per batch; the margin covers per-message overhead. */
export const SEND_BATCH_MAX_BYTES = 240_000;
/** Letters replayed by one request when no ids are given; the answer says how many remain. */
export const REPLAY_ALL_LIMIT = 1000;

export interface ReplayResult {
  replayed: number[];
  /** Letter ids, or call/text ids with no open letter. */
  notFound: (number | string)[];
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

/** What to replay: letters by id, calls and texts by id (all their open letters), or, with neither, every open letter. */
export interface ReplaySelection {
  ids?: number[];
  items?: string[];
}

export async function replayDeadLetters(env: Pick<Env, "DB" | "SYNC_QUEUE">, selection: ReplaySelection | number[] = {}): Promise<ReplayResult> {
  const { ids, items } = Array.isArray(selection) ? { ids: selection, items: undefined } : selection;
  const requested = ids ? [...new Set(ids)] : undefined;
  const requestedItems = items ? [...new Set(items)] : undefined;
  const everything = !requested && !requestedItems;
  const byId = requested ? await getDeadLetters(env.DB, requested) : [];
  const byItem = requestedItems ? await openDeadLettersOfItems(env.DB, requestedItems) : [];
  const all = everything ? await listOpenDeadLetters(env.DB, REPLAY_ALL_LIMIT) : [];
  const letters = [...new Map([...byId, ...byItem, ...all].map((l) => [l.id, l])).values()].sort((a, b) => a.id - b.id);
  const found = new Set(byId.map((l) => l.id));
  const foundItems = new Set(byItem.map(itemOf));
  const open = letters.filter((l) => l.replayedAt === null);
  const result: ReplayResult = {
    replayed: [],
    notFound: [...(requested ?? []).filter((id) => !found.has(id)), ...(requestedItems ?? []).filter((item) => !foundItems.has(item))],
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
