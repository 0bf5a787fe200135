/**
 * How long the emulators' delayed answers take, for `npm run bench` (the emulators' own tests assert only what the
 * answers hold, since a loaded machine makes any duration longer). Each emulator runs on its own here, apart from the
 * bench's sandbox, so neither figure disturbs nor is disturbed by the sync's traffic.
 */
import { startNotionEmulator } from "../../emulators/notion/server.ts";
import { startOpenPhoneEmulator } from "../../emulators/openphone/server.ts";
import { percentile } from "./bench-report.ts";

/** The configured latencies, and the lower bounds their emulators' tests used to assert. */
export const NOTION_LATENCY = { p50: 80, p95: 200, atLeastMs: 40 };
export const OPENPHONE_LATENCY = { ms: 150, atLeastMs: 140 };

export interface EmulatorLatency {
  notionP50Ms: number;
  notionP95Ms: number;
  openphoneMinMs: number;
}

async function timed(samples: number, request: () => Promise<Response>): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const response = await request();
    await response.arrayBuffer();
    durations.push(performance.now() - started);
  }
  return durations;
}

export async function measureEmulatorLatency(): Promise<EmulatorLatency> {
  const token = "bench-latency-token";
  const notion = await startNotionEmulator({ port: 0, token, config: { rateLimit: { perSecond: 1000, burst: 1000 }, latencyMs: { p50: NOTION_LATENCY.p50, p95: NOTION_LATENCY.p95 } } });
  const openphone = await startOpenPhoneEmulator({ key: token, port: 0, config: { latencyMs: OPENPHONE_LATENCY.ms, rateLimitPerSecond: 1000 } });
  try {
    const notionMs = await timed(20, () => fetch(`${notion.url}/v1/users/me`, { headers: { Authorization: `Bearer ${token}`, "Notion-Version": "2025-09-03" } }));
    // An answered error is delayed the same way as a success: the emulator's own test does it with errorRate 1.
    const openphoneMs = await timed(5, () => fetch(`${openphone.url}/v1/phone-numbers`, { headers: { Authorization: token } }));
    return { notionP50Ms: percentile(notionMs, 50), notionP95Ms: percentile(notionMs, 95), openphoneMinMs: Math.min(...openphoneMs) };
  } finally {
    await Promise.all([notion.close(), openphone.close()]);
  }
}
