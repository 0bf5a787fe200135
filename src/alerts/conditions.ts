/**
 * The conditions an alert is raised for, each read from what the product already records. A check answers for a
 * scope of incident keys (`lag` answers for every `lag:<line>`): a key of its scope it does not report as firing is
 * resolved, unless the check lists it as unknown (a line that did not answer). A check that fails answers for
 * nothing, so an unreachable D1 or Durable Object never reads as "all clear".
 *
 * Error rates and their default thresholds (the seed document's; `ALERT_ERROR_RATE`, when set, replaces all three):
 * - `notion`: flushes (Notion writes) that failed or were put back for a retry, over all flushes, from
 *   `sync_history`: over 15 minutes to open. While open it stays open only while the last 5 minutes are over the
 *   threshold and an error came in the last 2, so the "resolved" follows about two minutes after the errors stop
 *   and an intermittent fault does not flap. Errors from before the last resolution do not count again, so one
 *   stray error after a "resolved" does not reopen it. Default 1 %.
 * - `canvas-lookups`: Canvas lookups that failed over all lookups, from the hourly `metrics` (this hour and the
 *   one before). Default 5 %.
 * - `queue-failures`: queue messages dead-lettered over webhooks received, this hour and the one before. Default 1 %.
 * Each needs at least MIN_ERRORS errors, so one failure in a quiet spell is not an incident.
 *
 * "Circuit breaker" is the Gate Durable Object's breaker (BREAKER_FAILURES consecutive 5xx or timeouts refuse every
 * request for BREAKER_COOLDOWN_MS); it counts when it is open now or opened since the last evaluation. Notion's is
 * part of the `notion` incident, since it usually trips before the first failed flush is recorded: one outage, one
 * alert, whichever sign comes first. OpenPhone's is `breaker:openphone`.
 */
import type { Config } from "../config";
import { lastResolvedAt } from "../db/alerts";
import { latestAudit } from "../db/audit-runs";
import { readOpenDeadLetterSummary, readQueueFailureCounts } from "../db/dead-letters";
import { hourBucket, readCanvasLookupCounts } from "../db/metrics";
import { readCommonFlushErrors, readFlushErrors } from "../db/sync-history";
import type { GateStats } from "../gates/gate-durable-object";
import { gateSettings, type GatedApi } from "../gates/gated-fetch";
import { healthReport } from "../http/health";
import { readLinesLiveness } from "../line/liveness";
import { DEAD_LETTER_QUEUE } from "../queue/consumer";

export interface Firing {
  key: string;
  text: string;
}

export interface CheckResult {
  /** The key, or the key prefix (`lag` for `lag:<line>`), this check answers for. */
  scope: string;
  firing: Firing[];
  /** Keys of the scope whose state could not be read this time: left as they are. */
  unknown?: string[];
}

export interface CheckContext {
  env: Env;
  config: Config;
  now: number;
  /** When alerts were last evaluated (0 = never). */
  previousEvaluation: number;
}

export const MIN_ERRORS = 3;
const MINUTE = 60_000;
export const DEFAULT_THRESHOLDS = { notion: 0.01, canvas: 0.05, queue: 0.01 } as const;

const pct = (r: number) => `${Math.round(r * 1000) / 10} %`;

export function inScope(key: string, scope: string): boolean {
  return key === scope || key.startsWith(`${scope}:`);
}

/** A gate's breaker, open now or opened since the last evaluation; null when neither. */
function breakerText(ctx: CheckContext, s: GateStats): string | null {
  const openNow = s.breakerOpenUntil > ctx.now;
  const openedSince = s.breakerOpenedAt > 0 && s.breakerOpenedAt > ctx.previousEvaluation;
  if (!openNow && !openedSince) return null;
  const state = openNow ? `open until ${new Date(s.breakerOpenUntil).toISOString()}` : `opened at ${new Date(s.breakerOpenedAt).toISOString()}`;
  return `circuit breaker ${state} after ${ctx.config.BREAKER_FAILURES} failures in a row (5xx or timeout), ${s.breakerTrips} opening(s) since the gate started`;
}

/**
 * Notion failing: the flush error rate, or the Notion breaker, whichever shows first (the breaker often trips before
 * the first failed flush is recorded). `open` tells whether the incident is open now (a shorter window then).
 */
export async function checkNotion(ctx: CheckContext, open: boolean): Promise<CheckResult> {
  const threshold = ctx.config.ALERT_ERROR_RATE ?? DEFAULT_THRESHOLDS.notion;
  const minutes = open ? 5 : 15;
  const [resolved, gate] = await Promise.all([
    lastResolvedAt(ctx.env.DB, "notion"),
    gateStats(ctx.env, ctx.config, "notion"),
  ]);
  const since = Math.max(ctx.now - minutes * MINUTE, open ? 0 : (resolved ?? 0) + 1);
  const { flushes, errors, latestErrorAt } = await readFlushErrors(ctx.env.DB, since);
  const rate = flushes === 0 ? 0 : errors / flushes;
  const recent = latestErrorAt != null && latestErrorAt >= ctx.now - 2 * MINUTE;
  const failing = rate > threshold && (open ? recent : errors >= MIN_ERRORS);
  const breaker = breakerText(ctx, gate);
  if (!failing && !breaker) return { scope: "notion", firing: [] };
  // The commonest errors name the cause; the latest alone is often a consequence (the breaker that opened).
  const common = await readCommonFlushErrors(ctx.env.DB, since, 3);
  const parts = [
    ...(breaker ? [`the Notion ${breaker}`] : []),
    `${errors} of ${flushes} flushes in the last ${minutes} min failed or are waiting for a retry (${pct(rate)}, threshold ${pct(threshold)})`,
    ...(common.length > 0 ? [`errors: ${common.map((c) => `${c.error} (×${c.count})`).join("; ")}`] : []),
  ];
  return { scope: "notion", firing: [{ key: "notion", text: `Notion writes failing: ${parts.join("; ")}. Work is kept and retried.` }] };
}

export async function checkCanvasLookups(ctx: CheckContext): Promise<CheckResult> {
  const threshold = ctx.config.ALERT_ERROR_RATE ?? DEFAULT_THRESHOLDS.canvas;
  const { lookups, failed } = await readCanvasLookupCounts(ctx.env.DB, ctx.now - 60 * MINUTE);
  const rate = lookups > 0 ? failed / lookups : 0;
  return {
    scope: "canvas-lookups",
    firing:
      rate > threshold && failed >= MIN_ERRORS
        ? [{ key: "canvas-lookups", text: `Canvas lookups failing: ${failed} of ${lookups} this hour and the last (${pct(rate)}, threshold ${pct(threshold)}); pages are written without their Canvas relation meanwhile.` }]
        : [],
  };
}

export async function checkQueueFailures(ctx: CheckContext): Promise<CheckResult> {
  const threshold = ctx.config.ALERT_ERROR_RATE ?? DEFAULT_THRESHOLDS.queue;
  const since = hourBucket(ctx.now - 60 * MINUTE);
  const { deadLettered: failed, webhooksReceived: total } = await readQueueFailureCounts(ctx.env.DB, since, DEAD_LETTER_QUEUE);
  const rate = total > 0 ? failed / total : 0;
  return {
    scope: "queue-failures",
    firing:
      rate > threshold && failed >= MIN_ERRORS
        ? [{ key: "queue-failures", text: `Queue failures: ${failed} messages dead-lettered for ${total} webhooks received this hour and the last (${pct(rate)}, threshold ${pct(threshold)}).` }]
        : [],
  };
}

export async function checkDeadLetters(ctx: CheckContext): Promise<CheckResult> {
  const { open: n, newest: last } = await readOpenDeadLetterSummary(ctx.env.DB);
  return {
    scope: "dead-letters",
    firing:
      n > 0 && last
        ? [
            {
              key: "dead-letters",
              text: `${n} dead letter(s) waiting. Newest #${last.id}${last.resourceId ? ` (${last.resourceId})` : ""} from ${last.queue}: ${last.reason.replace(/\.$/, "")}. Fix the cause, then replay them from the dashboard or POST /admin/dead-letters/replay.`,
            },
          ]
        : [],
  };
}

async function gateStats(env: Env, config: Config, api: GatedApi): Promise<GateStats> {
  const gate = env.GATE.get(env.GATE.idFromName(api));
  await gate.configure(gateSettings(config, api));
  return gate.stats();
}

/** The OpenPhone gate's breaker (Notion's is part of `checkNotion`). */
export async function checkOpenPhoneBreaker(ctx: CheckContext): Promise<CheckResult> {
  const breaker = breakerText(ctx, await gateStats(ctx.env, ctx.config, "openphone"));
  return { scope: "breaker:openphone", firing: breaker ? [{ key: "breaker:openphone", text: `OpenPhone requests failing: the ${breaker}. Work is kept and retried when it closes.` }] : [] };
}

export async function checkHealth(ctx: CheckContext): Promise<CheckResult> {
  const report = await healthReport(ctx.env);
  if (report.ok) return { scope: "health", firing: [] };
  const failing = Object.entries(report.components)
    .filter(([, c]) => !c.ok)
    .map(([name, c]) => `${name}${c.detail ? ` (${c.detail})` : ""}`);
  const settings = report.problems.map((p) => `${p.setting}: ${p.problem}`);
  return { scope: "health", firing: [{ key: "health", text: `/health answers 503 degraded: ${[...failing, ...settings].join("; ")}` }] };
}

export async function checkLag(ctx: CheckContext): Promise<CheckResult> {
  const lines = await readLinesLiveness(ctx.env);
  const limit = ctx.config.ALERT_LAG_SECONDS;
  return {
    scope: "lag",
    firing: lines
      .filter((l) => l.answered && l.oldestPendingSeconds > limit)
      .map((l) => ({
        key: `lag:${l.lineId}`,
        text: `Line ${l.name ? `${l.name} (${l.lineId})` : l.lineId} is behind: ${l.pending} item(s) pending, the oldest overdue by ${l.oldestPendingSeconds} s (threshold ${limit} s).${l.lastError ? ` Last error: ${l.lastError}` : ""}`,
      })),
    unknown: lines.filter((l) => !l.answered).map((l) => `lag:${l.lineId}`),
  };
}

/** The latest audit's drift (D1 `audit_runs`, see db/audit-runs.ts): open while the last audit found any. */
export async function checkAuditDrift(ctx: CheckContext): Promise<CheckResult | null> {
  const run = await latestAudit(ctx.env.DB);
  if (!run) return { scope: "audit-drift", firing: [] };
  const { missing, duplicated, stale } = run;
  if (missing + duplicated + stale === 0) return { scope: "audit-drift", firing: [] };
  return {
    scope: "audit-drift",
    firing: [
      {
        key: "audit-drift",
        text: `Notion does not match OpenPhone: the audit at ${new Date(run.endedAt).toISOString()} of ${run.checked} items found ${missing} missing, ${duplicated} duplicated and ${stale} stale page(s). Run \`npm run audit -- --repair\` or POST /admin/audit with repair.`,
      },
    ],
  };
}
