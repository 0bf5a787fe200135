import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { readLinesLiveness } from "../../src/line/liveness";
import type { LineStorage } from "../../src/line/storage";
import type { WebhookMessage } from "../../src/queue/messages";
import { FREQUENT_CRON } from "../../src/scheduled";
import { notion, openphone } from "./emulators";
import { line, type Line } from "./line-harness";

function completedCall(callId: string, lineId: string): WebhookMessage {
  const object = { id: callId, object: "call", direction: "incoming", participants: ["+12125550101"], phoneNumberId: lineId, userId: "US1", createdAt: "2026-03-02T10:00:00.000Z", status: "completed", answeredAt: null, completedAt: "2026-03-02T10:01:00.000Z", duration: 0 };
  const eventId = `EV${callId}`;
  return { type: "webhook", lineId, eventId, eventType: "call.completed", receivedAt: Date.now(), envelope: { id: eventId, object: "event", apiVersion: "v4", createdAt: new Date().toISOString(), type: "call.completed", data: { object } } };
}

/**
 * The workspace's line `index` (a line of this test's own) and its object, which has a minute's coalescing window, so
 * its alarm runs when the test runs it, not on its own.
 */
async function slowLine(index: number): Promise<{ stub: Line; lineId: string }> {
  const { id } = await openphone.line(index);
  return { stub: line(id), lineId: id };
}

/** Brings every waiting call forward to `at` (their coalescing window or backoff is over). */
const dueAt = (stub: Line, at = 0) => runInDurableObject(stub, (_i, state) => void state.storage.sql.exec("UPDATE resources SET due_at = ? WHERE dirty = 1", at));

const alarmOf = (stub: Line) => runInDurableObject(stub, (_i, state) => state.storage.getAlarm());

beforeEach(() => notion.resetCounters());
afterEach(() => notion.clearScript());

describe("a line that cannot stall", () => {
  it("sets its alarm again when getAlarm() still reports a failed alarm's past time", async () => {
    const { stub, lineId } = await slowLine(20);
    // The state the runtime leaves after a failed alarm whose retry has not begun: no alarm will fire, and getAlarm()
    // reports the failed alarm's time, eight minutes ago.
    const staleAt = Date.now() - 480_000;
    await runInDurableObject(stub, async (instance, state) => {
      await state.storage.deleteAlarm();
      const storage = (instance as unknown as { ctx: DurableObjectState }).ctx.storage;
      const real = storage.getAlarm.bind(storage);
      storage.getAlarm = async (options) => (await real(options)) ?? staleAt;
    });
    await stub.ingest([completedCall("ACstale1", lineId)]);
    const armed = await runInDurableObject(stub, async (instance) => {
      const storage = (instance as unknown as { ctx: DurableObjectState }).ctx.storage;
      const at = await storage.getAlarm();
      delete (storage as { getAlarm?: unknown }).getAlarm;
      return at;
    });
    expect(armed).toBeGreaterThan(Date.now());
    await dueAt(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await notion.pagesWith("Call ID", "ACstale1")).toHaveLength(1);
  });

  it("keeps writing when bringing the media notes up to date fails, and says so in its liveness", async () => {
    const { stub, lineId } = await slowLine(21);
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { store: LineStorage }).store.media.dueNotices = () => {
        throw new Error("SQLITE_BUSY: database is locked");
      };
    });
    await stub.ingest([completedCall("ACnote1", lineId)]);
    await dueAt(stub);
    await expect(runDurableObjectAlarm(stub)).resolves.toBe(true);
    expect(await notion.pagesWith("Call ID", "ACnote1")).toHaveLength(1);

    // A call that arrives after the failed alarm is armed and written as well.
    await stub.ingest([completedCall("ACnote2", lineId)]);
    expect(await alarmOf(stub)).toBeGreaterThan(Date.now());
    await dueAt(stub);
    await expect(runDurableObjectAlarm(stub)).resolves.toBe(true);
    expect(await notion.pagesWith("Call ID", "ACnote2")).toHaveLength(1);

    const report = await stub.liveness();
    expect(report).toMatchObject({ pending: 0, oldestDueAt: null, lastWriteAt: expect.any(Number), lastError: { at: expect.any(Number), message: "SQLITE_BUSY: database is locked" } });
  });

  it("abandons a flush Notion does not answer, writes the line's other calls meanwhile, and retries it", async () => {
    const { stub, lineId } = await slowLine(22);
    await runInDurableObject(stub, (instance) => {
      const bounded = instance as unknown as { bounds: Record<string, number> };
      bounded.bounds = { ...bounded.bounds, flushMs: 1000 };
    });
    // The first create hangs for 3 s (longer than the flush may take), then fails without writing.
    await notion.script({ operation: "pages.create", status: 503, hangMs: 3000 });
    await stub.ingest([completedCall("AChang1", lineId), completedCall("AChang2", lineId)]);
    await dueAt(stub);
    await expect(runDurableObjectAlarm(stub)).resolves.toBe(true);
    const written = (await notion.pagesWith("Call ID", "AChang1")).length + (await notion.pagesWith("Call ID", "AChang2")).length;
    expect(written).toBe(1);
    const report = await stub.liveness();
    expect(report.pending).toBe(1);
    expect(report.lastError?.message).toMatch(/did not finish within 1 s/);
    expect(report.alarmAt).not.toBeNull();

    // The retry is due after a backoff, and the abandoned create's claim makes it look for the page first, after a
    // while; bring both forward.
    await runInDurableObject(stub, (_i, state) => void state.storage.sql.exec("UPDATE resources SET due_at = 0, claimed_at = 0 WHERE dirty = 1"));
    await expect(runDurableObjectAlarm(stub)).resolves.toBe(true);
    expect(await notion.pagesWith("Call ID", "AChang1")).toHaveLength(1);
    expect(await notion.pagesWith("Call ID", "AChang2")).toHaveLength(1);
    expect(await stub.liveness()).toMatchObject({ pending: 0, oldestDueAt: null });
    // The create Notion held is answered at last: a 503, with nothing written (one page per call still).
    await vi.waitFor(async () => expect((await notion.requests()).filter((r) => r.operation === "pages.create" && r.status === 503)).toHaveLength(1), { timeout: 30_000, interval: 200 });
    expect((await notion.pagesWith("Call ID", "AChang1")).length + (await notion.pagesWith("Call ID", "AChang2")).length).toBe(2);
  });
});

describe("the watchdog", () => {
  it("wakes a line whose alarm is gone and whose work is overdue, and counts the revival", async () => {
    const { stub, lineId } = await slowLine(23);
    await stub.ingest([completedCall("ACwoken1", lineId)]);
    // The alarm is lost, and the call has been due for five minutes.
    await runInDurableObject(stub, async (_i, state) => {
      await state.storage.deleteAlarm();
      state.storage.sql.exec("UPDATE resources SET due_at = ?", Date.now() - 300_000);
    });
    const before = (await readLinesLiveness(env)).find((l) => l.lineId === lineId);
    expect(before).toMatchObject({ answered: true, pending: 1, oldestPendingSeconds: expect.any(Number) });
    expect(before!.oldestPendingSeconds).toBeGreaterThanOrEqual(300);
    expect(await alarmOf(stub)).toBeNull();

    // Without the sweep (OpenPhone lists no such call anyway): the watchdog alone must bring the line back.
    await worker.scheduled!(createScheduledController({ scheduledTime: new Date(), cron: FREQUENT_CRON }), { ...env, SWEEP_MINUTES: "0" } as unknown as Env, createExecutionContext());
    // The alarm it set fires on its own, or here.
    for (let i = 0; i < 100 && (await notion.pagesWith("Call ID", "ACwoken1")).length === 0; i++) {
      await runDurableObjectAlarm(stub);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await notion.pagesWith("Call ID", "ACwoken1")).toHaveLength(1);
    const revived = await env.DB.prepare("SELECT SUM(value) AS n FROM metrics WHERE name = 'line.revived'").first<{ n: number }>();
    expect(revived?.n).toBeGreaterThanOrEqual(1);
    const after = (await readLinesLiveness(env)).find((l) => l.lineId === lineId);
    expect(after).toMatchObject({ answered: true, pending: 0, oldestPendingSeconds: 0, lastWriteAt: expect.any(String) });
  });
});
