/**
 * `GET /admin/stats`: what the dashboard shows. Today's syncs and Canvas hit ratio (D1 views), the Canvas index's
 * size and unmatched participants, every counter of the last 24 hours and the timings among them (processing time per
 * call or text, D1 write p95, R2 upload speed: observability/timings.ts), the open dead letters and the state of the
 * Notion and OpenPhone gates. Then how far behind the sync is: each line's pending items and oldest pending age (asked
 * of its Line Durable Object), webhook → page percentiles, items written per minute, and five-minute series of
 * throughput and lag over the last 24 hours for the dashboard's charts.
 */
import { Hono } from "hono";
import { listOpenIncidents, listRecentIncidents } from "../db/alerts";
import { getConfig } from "../config";
import { getFlags } from "../flags/flags";
import { latestAudit } from "../db/audit-runs";
import { readCanvasIndexStats } from "../db/canvas-index";
import { readContactSyncCounts } from "../db/contact-sync";
import { readContactStoreStats } from "../db/openphone-contacts";
import { countOpenDeadLetters } from "../db/dead-letters";
import { readLagSeries, readSyncedToday, readThroughputSeries, readWorkspaceLag, LAG_BUCKET_MS } from "../db/lag";
import { apiRequestTotals, readCanvasHitRatio, readMetrics } from "../db/metrics";
import { readSyncStatsToday } from "../db/sync-history";
import { timingFigures } from "../observability/timings";
import type { GateStats } from "../gates/gate-durable-object";
import { gateSettings, type GatedApi } from "../gates/gated-fetch";
import { readLineLag } from "./line-lag";

const DAY_MS = 86_400_000;
const GATES: GatedApi[] = ["notion", "openphone"];

export async function collectStats(env: Env, now = Date.now()) {
  const [today, canvas, metrics, openDeadLetters, gates, canvasIndex, audit, lines, syncedToday, workspace, throughput, contactStore, contactSync] = await Promise.all([
    readSyncStatsToday(env.DB),
    readCanvasHitRatio(env.DB),
    readMetrics(env.DB, now - DAY_MS),
    countOpenDeadLetters(env.DB),
    Promise.all(GATES.map((api) => gateStats(env, api))),
    readCanvasIndexStats(env.DB),
    latestAudit(env.DB),
    readLineLag(env, now),
    readSyncedToday(env.DB, now),
    readWorkspaceLag(env.DB, now - DAY_MS, now),
    readThroughputSeries(env.DB, now - DAY_MS),
    readContactStoreStats(env.DB),
    readContactSyncCounts(env.DB),
  ]);
  // After the lines were asked: their answers are the chart's latest point.
  const lag = await readLagSeries(env.DB, now - DAY_MS);
  const [openAlerts, recentAlerts] = await Promise.all([listOpenIncidents(env.DB), listRecentIncidents(env.DB)]);
  return {
    generatedAt: new Date(now).toISOString(),
    today,
    syncedToday,
    lines,
    alertLagSeconds: getConfig(env).config.ALERT_LAG_SECONDS,
    workspace,
    series24h: { bucketSeconds: LAG_BUCKET_MS / 1000, throughput, lag },
    canvas,
    canvasIndex,
    /** OpenPhone contacts kept for callers no customer matches, and the Canvas → OpenPhone sync's counts. */
    contacts: { syncEnabled: (await getFlags(env)).CONTACTS_SYNC, store: contactStore, sync: contactSync },
    metrics24h: metrics,
    /** Every request spent in the last 24 hours (flushes, media, backfill listings, routing, Canvas, admin calls). */
    requests24h: apiRequestTotals(metrics),
    /** The Worker's own timings over the last 24 hours: processing per call or text, D1 write p95, R2 upload speed. */
    timings24h: timingFigures(metrics),
    deadLetters: { open: openDeadLetters },
    gates: Object.fromEntries(GATES.map((api, i) => [api, gates[i]])),
    audit: audit && { lastRunAt: new Date(audit.endedAt).toISOString(), checked: audit.checked, missing: audit.missing, duplicated: audit.duplicated, stale: audit.stale, complete: audit.complete },
    alerts: { open: openAlerts, recent: recentAlerts },
  };
}

async function gateStats(env: Env, api: GatedApi): Promise<GateStats | { error: string }> {
  try {
    const gate = env.GATE.get(env.GATE.idFromName(api));
    // A gate that has been idle may have been evicted and forgotten its settings; show the configured ones.
    await gate.configure(gateSettings(getConfig(env).config, api));
    return await gate.stats();
  } catch (error) {
    // One unreachable gate should not hide the rest of the figures.
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export const statsAdmin = new Hono<{ Bindings: Env }>().get("/", async (c) => c.json(await collectStats(c.env), 200, { "Cache-Control": "no-store" }));
