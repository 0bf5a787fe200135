/**
 * Past activity for `/_emulator/seed`: calls and texts spread over the last `days` days, everything already
 * processed (recordings, transcripts and summaries available), no webhooks. Same seed, same ids and content.
 */
import { createRandom } from "../shared/roster.ts";
import { buildCall } from "./call-builder.ts";
import { buildMessage } from "./message-builder.ts";
import type { EmulatorStore } from "./store.ts";

export interface HistoryOptions {
  seed: number;
  days: number;
  callsPerDay: number;
  messagesPerDay: number;
  /** End of the history; defaults to now. */
  now?: Date;
  /** Size of recorded audio per second; defaults to the live calls' (about 32 kbit/s). */
  audioBytesPerSecond?: number;
}

const DAY_MS = 86_400_000;
const READY = { recording: 0, transcript: 0, summary: 0, voicemail: 0 };

export function generateHistory(store: EmulatorStore, baseUrl: string, options: HistoryOptions): { callIds: string[]; messageIds: string[] } {
  store.random = createRandom(options.seed ^ 0x4157);
  const random = store.random;
  const end = (options.now ?? new Date()).getTime();
  const callIds: string[] = [];
  const messageIds: string[] = [];
  for (let day = options.days - 1; day >= 0; day--) {
    const dayStart = end - (day + 1) * DAY_MS;
    const times = (count: number) => Array.from({ length: count }, () => dayStart + Math.floor(random() * DAY_MS)).sort((a, b) => a - b);
    for (const at of times(options.callsPerDay)) {
      const record = buildCall(store, baseUrl, { audioBytesPerSecond: options.audioBytesPerSecond }, new Date(Math.min(at, end - 1000)), READY);
      store.addCall(record);
      callIds.push(record.call.id);
    }
    for (const at of times(options.messagesPerDay)) {
      const record = buildMessage(store, {}, new Date(Math.min(at, end - 1000)));
      store.addMessage(record);
      messageIds.push(record.message.id);
    }
  }
  return { callIds, messageIds };
}
