/**
 * Gate Durable Object: one instance per external API ("notion", "openphone"), so every isolate, queue consumer and
 * Line Durable Object draws from the same budget.
 *
 * The budget is a token bucket kept as GCRA (a single "theoretical arrival time"): `acquire()` reserves the next
 * slot and tells the caller how long to wait for it, so callers queue without polling. A 429 pauses everyone for
 * its Retry-After; when such episodes (the 429s of one pause count once) are more than a rare burst edge (see
 * MISCONFIGURED_SHARE) each also lowers the rate by a quarter, and the rate creeps back to the configured one after
 * a quiet minute. Consecutive failures (5xx, timeouts) open a circuit breaker for a cool-down, during which `acquire()`
 * refuses at once so queue messages are retried later instead of burning their attempts.
 *
 * All of this lives in memory, never in storage. It is pacing state that is right for seconds to minutes, read and
 * changed on every outbound request, and a storage write per permit would put a write on every request's path.
 * When the object is evicted or restarted, every field starts over at its most permissive value: a full bucket (no
 * reserved slots), no pause, the configured rate, a closed breaker. The worst that follows is one burst at the
 * configured rate: if the API answers it with 429s, they are reported here and pause everyone again, and the gated
 * fetch retries them (its Retry-After, else its backoff); a 5xx streak opens the breaker again. Nothing the sync
 * must not lose is kept here. The counts `stats()` reports (permits, 429s, breaker openings) count since the object
 * started, and say so.
 */
import { DurableObject } from "cloudflare:workers";

export interface GateSettings {
  ratePerSecond: number;
  burst: number;
  breakerFailures: number;
  breakerCooldownMs: number;
}

export type Permit = { ok: true; waitMs: number } | { ok: false; retryAfterMs: number; reason: string };

export type GateReport =
  | { outcome: "success" }
  | { outcome: "rate_limited"; retryAfterMs: number }
  | { outcome: "failure" };

export interface GateStats {
  rate: number;
  configuredRate: number;
  pausedUntil: number;
  breakerOpenUntil: number;
  /** When the breaker last opened (epoch ms, 0 = never since the object started), so a cool-down shorter than the
   * alert evaluation's interval is still seen. */
  breakerOpenedAt: number;
  /** How many times the breaker has opened since the object started. */
  breakerTrips: number;
  consecutiveFailures: number;
  granted: number;
  rateLimited: number;
  failures: number;
}

const RECOVERY_QUIET_MS = 60_000;
const MIN_RATE_SHARE = 0.25;
/**
 * More 429s than this share of the permits granted over the last minute or two means the configured rate is too
 * high (SPEC: at most 0.5 % with a misconfigured limit). Fewer are burst edges: requests that left late and
 * together after an isolate was busy, which a pause absorbs without slowing everyone for minutes.
 */
const MISCONFIGURED_SHARE = 0.005;

export class GateDurableObject extends DurableObject<Env> {
  private settings: GateSettings = { ratePerSecond: 3, burst: 3, breakerFailures: 5, breakerCooldownMs: 30_000 };
  private rate = this.settings.ratePerSecond;
  private tat = 0;
  private pausedUntil = 0;
  private breakerOpenUntil = 0;
  private breakerOpenedAt = 0;
  private breakerTrips = 0;
  private consecutiveFailures = 0;
  private last429At = 0;
  private granted = 0;
  private rateLimited = 0;
  /** 429 episodes and permits in the current minute and the one before, to tell burst edges from a rate set too high. */
  private window = { startedAt: 0, grantedAtStart: 0, limited: 0, previousGranted: 0, previousLimited: 0 };
  private failures = 0;

  /** Applies settings from the caller's config; the rate resets only when the configured rate changes. */
  configure(settings: GateSettings): void {
    if (settings.ratePerSecond !== this.settings.ratePerSecond) this.rate = settings.ratePerSecond;
    this.settings = settings;
  }

  /**
   * Reserves `cost` requests. The caller waits `waitMs` before sending, or backs off when refused. Passing the
   * caller's settings saves a separate `configure` round trip.
   */
  acquire(cost = 1, maxWaitMs = 60_000, settings?: GateSettings): Permit {
    if (settings) this.configure(settings);
    const now = Date.now();
    if (this.breakerOpenUntil > now) {
      return { ok: false, retryAfterMs: this.breakerOpenUntil - now, reason: "circuit breaker open" };
    }
    this.recover(now);
    this.rollWindow(now);
    const interval = 1000 / this.rate;
    const tolerance = (this.settings.burst - 1) * interval;
    const start = Math.max(now, this.pausedUntil);
    const tat = Math.max(this.tat, start);
    const allowAt = Math.max(start, tat - tolerance);
    const waitMs = Math.max(0, Math.ceil(allowAt - now));
    if (waitMs > maxWaitMs) return { ok: false, retryAfterMs: waitMs, reason: "rate limit queue full" };
    this.tat = tat + interval * cost;
    this.granted += cost;
    return { ok: true, waitMs };
  }

  /** Tells the gate how a request went, so it can pause, slow down or trip the breaker. */
  report(report: GateReport): void {
    const now = Date.now();
    if (report.outcome === "success") {
      this.consecutiveFailures = 0;
      return;
    }
    if (report.outcome === "rate_limited") {
      this.rateLimited++;
      this.last429At = now;
      // 429s that come back while the gate is already paused are requests that left before the pause: the same
      // episode (one window overfilled), not more evidence that the rate is too high.
      const episode = now >= this.pausedUntil;
      this.pausedUntil = Math.max(this.pausedUntil, now + Math.max(0, report.retryAfterMs));
      if (episode && this.countLimited(now)) this.rate = Math.max(this.settings.ratePerSecond * MIN_RATE_SHARE, this.rate * 0.75);
      return;
    }
    this.failures++;
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.settings.breakerFailures) {
      this.breakerOpenUntil = now + this.settings.breakerCooldownMs;
      this.breakerOpenedAt = now;
      this.breakerTrips++;
      this.consecutiveFailures = 0;
    }
  }

  stats(): GateStats {
    return {
      rate: this.rate,
      configuredRate: this.settings.ratePerSecond,
      pausedUntil: this.pausedUntil,
      breakerOpenUntil: this.breakerOpenUntil,
      breakerOpenedAt: this.breakerOpenedAt,
      breakerTrips: this.breakerTrips,
      consecutiveFailures: this.consecutiveFailures,
      granted: this.granted,
      rateLimited: this.rateLimited,
      failures: this.failures,
    };
  }

  /** Starts a new minute of counts when the current one is over (called on every permit and every 429). */
  private rollWindow(now: number): void {
    const w = this.window;
    if (now - w.startedAt < RECOVERY_QUIET_MS) return;
    const adjacent = now - w.startedAt < 2 * RECOVERY_QUIET_MS;
    this.window = { startedAt: now, grantedAtStart: this.granted, limited: 0, previousGranted: adjacent ? this.granted - w.grantedAtStart : 0, previousLimited: adjacent ? w.limited : 0 };
  }

  /** Counts a 429 episode; true when they are frequent enough (two at least) to mean the rate is set too high. */
  private countLimited(now: number): boolean {
    this.rollWindow(now);
    this.window.limited++;
    const limited = this.window.limited + this.window.previousLimited;
    const granted = this.granted - this.window.grantedAtStart + this.window.previousGranted;
    return limited >= 2 && limited > granted * MISCONFIGURED_SHARE;
  }

  /** After a quiet minute without 429s the rate climbs 10 % a minute back to the configured one. */
  private recover(now: number): void {
    if (this.rate >= this.settings.ratePerSecond) return;
    const quiet = now - this.last429At;
    if (quiet < RECOVERY_QUIET_MS) return;
    const steps = Math.floor(quiet / RECOVERY_QUIET_MS);
    this.rate = Math.min(this.settings.ratePerSecond, this.rate * 1.1 ** steps);
    this.last429At = now - (quiet % RECOVERY_QUIET_MS);
  }
}
