/**
 * `evaluateAlerts(env, now)`: reads every condition, opens, keeps or resolves incidents in D1, then sends what has
 * not been delivered. One alert per incident: a condition that stays true sends nothing more; its end sends
 * "resolved". A send that fails stays recorded as failed and is tried again at the next evaluation.
 *
 * Cadence: the five-minute cron evaluates every time; the queue consumer also asks, at most once a minute (the
 * slot is claimed in D1), so an outage shorter than the cron's interval is still announced within about a minute
 * while webhooks or retries are flowing. Every check is bounded by CHECK_TIMEOUT_MS and fails alone.
 */
import { getConfig } from "../config";
import { createLogger } from "../observability/logger";
import {
  checkAuditDrift,
  checkCanvasLookups,
  checkDeadLetters,
  checkHealth,
  checkLag,
  checkNotion,
  checkOpenPhoneBreaker,
  checkQueueFailures,
  inScope,
  type CheckContext,
  type CheckResult,
} from "./conditions";
import { getFlags } from "../flags/flags";
import { sendAlert } from "./send";
import { applyIncidentChanges, claimEvaluation, listOpenIncidents, listUndelivered, recordDelivery, type IncidentChanges } from "../db/alerts";

export const CHECK_TIMEOUT_MS = 10_000;
/** Incidents delivered per evaluation, so a backlog cannot hold one evaluation for long. */
const MAX_SENDS_PER_EVALUATION = 5;
/** The queue consumer's evaluations are at least this far apart. */
export const QUEUE_EVALUATION_INTERVAL_MS = 60_000;

export interface AlertEvaluation {
  opened: string[];
  resolved: string[];
  sent: number;
  failedSends: number;
  /** Checks that could not be read this time, with why. */
  checkErrors: { check: string; error: string }[];
  /** Why nothing was evaluated (the ALERTS_ENABLED flag is off). */
  skipped?: string;
}

async function bounded<T>(name: string, work: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${name}: no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The cron's evaluation (always runs). */
export async function evaluateAlerts(env: Env, now = Date.now()): Promise<AlertEvaluation> {
  const previous = await claimEvaluation(env.DB, now, 0);
  return evaluate(env, now, previous ?? 0);
}

/** The queue consumer's: runs only when no evaluation happened in the last minute. Never throws. */
export async function evaluateAlertsIfDue(env: Env, now = Date.now()): Promise<AlertEvaluation | null> {
  try {
    const previous = await claimEvaluation(env.DB, now, QUEUE_EVALUATION_INTERVAL_MS);
    if (previous === null) return null;
    return await evaluate(env, now, previous);
  } catch (error) {
    createLogger(getConfig(env).config.LOG_LEVEL).error("alert evaluation failed", { error });
    return null;
  }
}

async function evaluate(env: Env, now: number, previousEvaluation: number): Promise<AlertEvaluation> {
  const { config } = getConfig(env);
  if (!(await getFlags(env)).ALERTS_ENABLED) return { opened: [], resolved: [], sent: 0, failedSends: 0, checkErrors: [], skipped: "ALERTS_ENABLED is off" };
  const log = createLogger(config.LOG_LEVEL, { task: "alerts" });
  const ctx: CheckContext = { env, config, now, previousEvaluation };
  const open = await listOpenIncidents(env.DB);
  const openKeys = new Set(open.map((i) => i.key));
  const result: AlertEvaluation = { opened: [], resolved: [], sent: 0, failedSends: 0, checkErrors: [] };

  const run = async (name: string, check: () => Promise<CheckResult | null>): Promise<CheckResult | null> => {
    try {
      return await bounded(name, check);
    } catch (error) {
      result.checkErrors.push({ check: name, error: error instanceof Error ? error.message : String(error) });
      return null;
    }
  };
  const checks = (
    await Promise.all([
      run("notion", () => checkNotion(ctx, openKeys.has("notion"))),
      run("canvas-lookups", () => checkCanvasLookups(ctx)),
      run("queue-failures", () => checkQueueFailures(ctx)),
      run("dead-letters", () => checkDeadLetters(ctx)),
      run("breaker:openphone", () => checkOpenPhoneBreaker(ctx)),
      run("health", () => checkHealth(ctx)),
      run("lag", () => checkLag(ctx)),
      run("audit-drift", () => checkAuditDrift(ctx)),
    ])
  ).filter((c): c is CheckResult => c !== null);
  for (const e of result.checkErrors) log.warn("alert check could not be read; its incidents are left as they are", e);

  const changes: IncidentChanges = { open: [], stillOpen: [], resolve: [] };
  for (const check of checks) {
    const firing = new Map(check.firing.map((f) => [f.key, f.text]));
    const unknown = new Set(check.unknown ?? []);
    for (const [key, text] of firing) {
      const incident = open.find((i) => i.key === key);
      if (incident) changes.stillOpen.push({ id: incident.id, text });
      else changes.open.push({ key, text });
    }
    for (const incident of open) {
      if (inScope(incident.key, check.scope) && !firing.has(incident.key) && !unknown.has(incident.key)) changes.resolve.push(incident.id);
    }
  }
  await applyIncidentChanges(env.DB, changes, now);
  result.opened = changes.open.map((o) => o.key);
  result.resolved = open.filter((i) => changes.resolve.includes(i.id)).map((i) => i.key);
  for (const key of result.opened) log.warn("alert opened", { alert: key, text: changes.open.find((o) => o.key === key)?.text });
  for (const key of result.resolved) log.info("alert resolved", { alert: key });

  await deliver(env, config.ALERT_WEBHOOK_URL, config.PUBLIC_BASE_URL, now, result, log);
  return result;
}

async function deliver(
  env: Env,
  url: string | undefined,
  base: string | undefined,
  now: number,
  result: AlertEvaluation,
  log: ReturnType<typeof createLogger>,
): Promise<void> {
  const where = base ? ` (${base})` : "";
  for (const incident of await listUndelivered(env.DB, now, MAX_SENDS_PER_EVALUATION)) {
    const messages: { kind: "open" | "resolved"; text: string }[] = [];
    if (incident.openStatus === "pending" || incident.openStatus === "failed") {
      messages.push({ kind: "open", text: `:rotating_light: OpenPhone → Notion sync${where}: ${incident.lastText}` });
    }
    if (incident.resolvedAt !== null && (incident.resolvedStatus === "pending" || incident.resolvedStatus === "failed")) {
      const minutes = Math.max(1, Math.round((incident.resolvedAt - incident.openedAt) / 60_000));
      messages.push({ kind: "resolved", text: `:white_check_mark: Resolved after ${minutes} min, OpenPhone → Notion sync${where}: cleared. Last reported: ${incident.lastText}` });
    }
    for (const message of messages) {
      if (!url) {
        await recordDelivery(env.DB, incident.id, message.kind, "unconfigured", "ALERT_WEBHOOK_URL is not set", now);
        continue;
      }
      const outcome = await sendAlert(url, message.text);
      await recordDelivery(env.DB, incident.id, message.kind, outcome.ok ? "sent" : "failed", outcome.ok ? null : outcome.error, now);
      if (outcome.ok) result.sent++;
      else {
        result.failedSends++;
        log.error("could not send an alert; it is tried again at the next evaluation", { alert: incident.key, message: message.kind, error: outcome.error });
        // The receiver is failing: the rest wait for the next evaluation rather than each waiting out the timeout
        // (and a "resolved" never goes ahead of its "opened").
        return;
      }
    }
  }
}
