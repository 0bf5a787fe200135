/**
 * The Line Durable Object's alarm decisions, as pure functions of what its storage holds: what is due, whether to
 * copy media now, and when to wake next. The object's `alarm()` is a shell that reads its storage, asks these, and
 * does the I/O; the rules here are what keep a line from stalling, so they are tested on their own.
 *
 * The two rules that matter most:
 * - an alarm time that is not in the future is not an alarm. The runtime keeps reporting a failed alarm's time
 *   while its retry is pending, and that retry may never come; taking such a time as "armed" is how a line stalls.
 * - after a failed alarm the next one is set anyway, later by a backoff, so a persistent fault costs retries and
 *   errors in the log, never silence.
 */
import { backoffMs, type BackoffPolicy, type RandomSource } from "../retry/backoff";

/** What the object has waiting, read from its storage. */
export interface LineWork {
  /** The earliest due time of a dirty call or text (may be in the past), or null. */
  nextDueAt: number | null;
  /** The earliest due time of a page's media note, or null. */
  nextNoticeAt: number | null;
  /** Whether media copies are waiting. */
  pendingCopies: boolean;
  /** Copies are not due before this (a run holds the lease, or the last run failed). */
  copyNotBefore: number;
}

/** After a failed alarm the next one comes within 5 s, 10 s, 20 s … of the failures in a row, at most 5 minutes. */
export const ALARM_BACKOFF: BackoffPolicy = { baseMs: 5000, capMs: 5 * 60_000 };
/** How long one alarm keeps starting new copy runs; then the next alarm (set at once) takes over. */
export const ALARM_WORK_MS = 60_000;
/** Overdue by more than this, a line is woken by the watchdog. */
export const REVIVE_AFTER_MS = 60_000;

/** When there is next something to do (possibly in the past: it is due now), or null when there is nothing. */
export function nextWorkAt(work: LineWork, now: number): number | null {
  const times = [work.nextDueAt, work.nextNoticeAt, work.pendingCopies ? Math.max(now, work.copyNotBefore) : null];
  const known = times.filter((t): t is number => t !== null);
  return known.length > 0 ? Math.min(...known) : null;
}

/**
 * The alarm time to set, or null to leave the alarm as it is. `existing` is what getAlarm() reports; a time at or
 * before now is treated as no alarm at all (see the header).
 */
export function alarmToSet(next: number | null, existing: number | null, now: number): number | null {
  if (next === null) return null;
  const target = Math.max(next, now);
  const armed = existing !== null && existing > now;
  if (armed && existing <= target) return null;
  return target;
}

/**
 * When to wake after an alarm ended: at the next work, but after a failure no sooner than the backoff, so a fault
 * that fails every alarm does not spin.
 */
export function wakeAfterAlarm(work: LineWork, failures: number, now: number, random: RandomSource = Math.random): number | null {
  const next = nextWorkAt(work, now);
  if (next === null) return null;
  return Math.max(next, now + backoffMs(ALARM_BACKOFF, failures, random));
}

/** Whether the alarm should go on to start another media copy run now rather than leave it to the next alarm. */
export function copyMoreNow(work: LineWork, alarmStartedAt: number, now: number): boolean {
  return work.pendingCopies && work.copyNotBefore <= now && now - alarmStartedAt < ALARM_WORK_MS;
}

/**
 * While a copy run goes on, how long to wait before flushing again: until the next call or text falls due
 * (0: it is due now), or null to wait for the copy to end.
 */
export function waitBeforeNextFlush(nextDueAt: number | null, now: number): number | null {
  return nextDueAt === null ? null : Math.max(0, nextDueAt - now);
}

/** How long the most overdue work has waited past its due time; 0 when nothing is overdue. */
export function overdueMs(oldestDueAt: number | null, now: number): number {
  return oldestDueAt === null ? 0 : Math.max(0, now - oldestDueAt);
}
