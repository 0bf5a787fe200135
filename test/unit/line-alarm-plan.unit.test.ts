import { describe, expect, it } from "vitest";
import { ALARM_WORK_MS, alarmToSet, copyMoreNow, nextWorkAt, overdueMs, waitBeforeNextFlush, wakeAfterAlarm, type LineWork } from "../../src/line/alarm-plan";

const NOW = 1_800_000_000_000;
const idle: LineWork = { nextDueAt: null, nextNoticeAt: null, pendingCopies: false, copyNotBefore: 0 };

describe("when a line wakes next", () => {
  it("is the earliest of a due flush, a due media note and waiting copies (not before their lease ends)", () => {
    expect(nextWorkAt(idle, NOW)).toBeNull();
    expect(nextWorkAt({ ...idle, nextDueAt: NOW + 5000, nextNoticeAt: NOW + 2000 }, NOW)).toBe(NOW + 2000);
    expect(nextWorkAt({ ...idle, nextDueAt: NOW + 5000, pendingCopies: true, copyNotBefore: NOW + 600_000 }, NOW)).toBe(NOW + 5000);
    expect(nextWorkAt({ ...idle, pendingCopies: true, copyNotBefore: 0 }, NOW)).toBe(NOW);
    // Overdue work is due now: its time stays in the past.
    expect(nextWorkAt({ ...idle, nextDueAt: NOW - 480_000 }, NOW)).toBe(NOW - 480_000);
  });

  it("takes an alarm time in the past as no alarm, so a failed alarm's stale time is set again", () => {
    // The stall: the runtime reports the failed alarm's time, 8 minutes ago, and 47 items wait behind it.
    expect(alarmToSet(NOW + 1000, NOW - 480_000, NOW)).toBe(NOW + 1000);
    expect(alarmToSet(NOW - 480_000, NOW - 480_000, NOW)).toBe(NOW);
    expect(alarmToSet(NOW + 1000, null, NOW)).toBe(NOW + 1000);
    // A future alarm no later than the work is kept; a later one is brought forward.
    expect(alarmToSet(NOW + 5000, NOW + 2000, NOW)).toBeNull();
    expect(alarmToSet(NOW + 5000, NOW + 60_000, NOW)).toBe(NOW + 5000);
    expect(alarmToSet(null, null, NOW)).toBeNull();
  });

  it("after a failed alarm still wakes, later by a jittered backoff doubling up to five minutes", () => {
    const overdue = { ...idle, nextDueAt: NOW - 60_000 };
    const highest = () => 0.999_999;
    expect(wakeAfterAlarm(overdue, 0, NOW, highest)).toBe(NOW);
    expect([1, 2, 3].map((failures) => wakeAfterAlarm(overdue, failures, NOW, highest))).toEqual([NOW + 5000, NOW + 10_000, NOW + 20_000]);
    expect(wakeAfterAlarm(overdue, 12, NOW, highest)).toBe(NOW + 300_000);
    expect(wakeAfterAlarm(overdue, 12, NOW, () => 0.5)).toBe(NOW + 150_000);
    // Work due after the backoff keeps its own time.
    expect(wakeAfterAlarm({ ...idle, nextDueAt: NOW + 60_000 }, 1, NOW, highest)).toBe(NOW + 60_000);
    expect(wakeAfterAlarm(idle, 3, NOW)).toBeNull();
  });
});

describe("what one alarm does", () => {
  it("starts another copy run only while copies wait, their lease is over and the alarm is young", () => {
    const waiting = { ...idle, pendingCopies: true, copyNotBefore: NOW - 1 };
    expect(copyMoreNow(waiting, NOW - 1000, NOW)).toBe(true);
    expect(copyMoreNow(waiting, NOW - ALARM_WORK_MS, NOW)).toBe(false);
    expect(copyMoreNow({ ...waiting, copyNotBefore: NOW + 60_000 }, NOW - 1000, NOW)).toBe(false);
    expect(copyMoreNow(idle, NOW - 1000, NOW)).toBe(false);
  });

  it("while media copies, flushes again when the next call or text falls due", () => {
    expect(waitBeforeNextFlush(null, NOW)).toBeNull();
    expect(waitBeforeNextFlush(NOW + 1500, NOW)).toBe(1500);
    expect(waitBeforeNextFlush(NOW - 1500, NOW)).toBe(0);
  });

  it("reports how long the most overdue item has waited past its due time", () => {
    expect(overdueMs(null, NOW)).toBe(0);
    expect(overdueMs(NOW + 10, NOW)).toBe(0);
    expect(overdueMs(NOW - 660_000, NOW)).toBe(660_000);
  });
});
