import { createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { callEvent } from "../../src/backfill/envelope";
import type { LineDurableObject } from "../../src/line/line-durable-object";
import type { LineLivenessReport } from "../../src/line/liveness";
import type { Call } from "../../src/openphone/client";
import { notion, openphone } from "./emulators";
import { endCoalescing } from "./line-harness";

const MINUTE = 60_000;

async function call(testEnv: Env, path: string) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`http://worker${path}`, { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } }), testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function knownLine(lineId: string, name: string) {
  await env.DB.batch([
    env.DB.prepare("INSERT OR IGNORE INTO line_objects (name, first_seen_at) VALUES (?1, ?2)").bind(lineId, Date.now()),
    env.DB.prepare("INSERT OR REPLACE INTO lines (phone_number_id, name, updated_at) VALUES (?1, ?2, ?3)").bind(lineId, name, Date.now()),
  ]);
}

/** A LINE namespace whose objects report what `reports` says (and never answer for a line missing from it). */
function linesReporting(reports: Record<string, LineLivenessReport>) {
  return {
    idFromName: (name: string) => name,
    get: (name: string) => ({
      liveness: () => (reports[name] ? Promise.resolve(reports[name]) : Promise.reject(new Error("Durable Object reset because its code was updated"))),
    }),
  } as unknown as Env["LINE"];
}

const completedCall = (id: string, lineId: string): Call =>
  ({
    id,
    object: "call",
    direction: "incoming",
    participants: ["+12125550101"],
    phoneNumberId: lineId,
    userId: "US1",
    status: "completed",
    createdAt: "2026-03-02T10:00:00.000Z",
    answeredAt: "2026-03-02T10:00:04.000Z",
    completedAt: "2026-03-02T10:03:00.000Z",
    duration: 176,
  }) as unknown as Call;

beforeEach(async () => {
  await env.DB.batch(["line_objects", "lag_samples", "sync_history", "backfill_runs"].map((t) => env.DB.prepare(`DELETE FROM ${t}`)));
});

describe("lag in /admin/stats and /health", () => {
  it("lists every line's pending items and oldest age, and /health is 503 degraded naming the line that is behind", async () => {
    const now = Date.now();
    await knownLine("PNlagSales", "Sales");
    await knownLine("PNlagMain", "Main");
    await knownLine("PNlagGone", "Support");
    const testEnv = {
      ...env,
      ALERT_LAG_SECONDS: "300",
      LINE: linesReporting({
        PNlagSales: { pending: 47, oldestDueAt: now - 8 * MINUTE, alarmAt: now - 8 * MINUTE, lastWriteAt: now - 10 * MINUTE, lastError: { at: now - 9 * MINUTE, message: "Notion timed out after 30 s" } },
        PNlagMain: { pending: 2, oldestDueAt: now - 20_000, alarmAt: now + 1000, lastWriteAt: now - 5_000, lastError: null },
      }),
    } as Env;

    const stats = await call(testEnv, "/admin/stats");
    expect(stats.status).toBe(200);
    const byId = Object.fromEntries((stats.body.lines as { lineId: string }[]).map((l) => [l.lineId, l]));
    expect(byId.PNlagSales).toMatchObject({ name: "Sales", pending: 47, lastWriteAt: new Date(now - 10 * MINUTE).toISOString(), answered: true });
    expect((byId.PNlagSales as unknown as { oldestPendingSeconds: number }).oldestPendingSeconds).toBeGreaterThanOrEqual(480);
    expect((byId.PNlagSales as unknown as { lastError: string }).lastError).toContain("Notion timed out after 30 s");
    expect(byId.PNlagMain).toMatchObject({ name: "Main", pending: 2, lastError: null, answered: true });
    expect(byId.PNlagGone).toMatchObject({ name: "Support", answered: false });
    expect(stats.body.alertLagSeconds).toBe(300);
    // The stats read left a sample per line in the lag chart's current bucket; a silent line is marked as such.
    const lag = stats.body.series24h.lag as { lineId: string; pending: number; oldestPendingSeconds: number }[];
    expect(lag.find((p) => p.lineId === "PNlagSales")).toMatchObject({ pending: 47 });
    expect(lag.find((p) => p.lineId === "PNlagGone")).toMatchObject({ oldestPendingSeconds: -1 });

    const health = await call(testEnv, "/health");
    expect(health.status).toBe(503);
    expect(health.body.status).toBe("degraded");
    expect(health.body.components["line:PNlagSales"]).toMatchObject({ ok: false });
    expect(health.body.components["line:PNlagSales"].detail).toMatch(/^Sales \(PNlagSales\): 47 item\(s\) pending, the oldest overdue by \d+ s \(limit 300 s\)$/);
    expect(health.body.components["line:PNlagGone"].detail).toContain("Support (PNlagGone): did not answer");
    expect(health.body.components["line:PNlagMain"]).toBeUndefined();
    expect(health.body.components.lines).toEqual({ ok: false, detail: "2 of 3 line(s) behind" });
  });

  it("is 200 again once no line is behind", async () => {
    const now = Date.now();
    await knownLine("PNlagSales", "Sales");
    const testEnv = { ...env, LINE: linesReporting({ PNlagSales: { pending: 0, oldestDueAt: null, alarmAt: null, lastWriteAt: now, lastError: null } }) } as Env;
    const health = await call(testEnv, "/health");
    expect(health.body.components.lines).toMatchObject({ ok: true });
    expect(health.body.components["line:PNlagSales"]).toBeUndefined();
  });

  it("names a real line whose item is overdue with no alarm set (the stall) in /health and /admin/stats", async () => {
    const lineId = (await openphone.line(24)).id;
    await knownLine(lineId, "Sales");
    // Its coalescing window is a minute: the call waits, and its alarm does not fire while the test runs.
    const stub = env.LINE.get(env.LINE.idFromName(lineId));
    expect(await stub.ingest([callEvent(lineId, "webhook", completedCall("AClag1", lineId), Date.now())])).toMatchObject({ accepted: 1 });
    // What the stalled lines held: a dirty item due ten minutes ago, and no alarm that will ever write it.
    await runInDurableObject(stub, async (_i, state) => {
      await state.storage.deleteAlarm();
      state.storage.sql.exec("UPDATE resources SET due_at = ? WHERE dirty = 1", Date.now() - 10 * MINUTE);
    });
    const testEnv = env;
    const health = await call(testEnv, "/health");
    expect(health.status).toBe(503);
    expect(health.body.status).toBe("degraded");
    expect(health.body.components[`line:${lineId}`].detail).toContain(`Sales (${lineId})`);
    const stats = await call(testEnv, "/admin/stats");
    expect((stats.body.lines as { lineId: string }[]).find((l) => l.lineId === lineId)).toMatchObject({ name: "Sales" });
  });
});

describe("workspace figures", () => {
  it("counts distinct calls and texts written, webhook → page percentiles and items per minute", async () => {
    const now = Date.now();
    const rows: [string, string, string, string, number | null][] = [
      // resource, kind, source, outcome, latency
      ["AC1", "call", "webhook", "created", 1000],
      ["AC1", "call", "webhook", "updated", 9000], // the recording, later: still one call
      ["AC2", "call", "webhook", "created", 2000],
      ["AC3", "message", "webhook", "created", 3000],
      ["AC4", "message", "backfill", "created", 600_000], // backfilled: not a webhook latency
      ["AC5", "call", "webhook", "failed", null],
      ["AC6", "message", "webhook", "unchanged", null],
    ];
    await env.DB.batch(
      rows.map(([id, kind, source, outcome, latency], i) =>
        env.DB.prepare("INSERT INTO sync_history (resource_id, kind, source, outcome, latency_ms, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)").bind(id, kind, source, outcome, latency, now - i * 1000),
      ),
    );
    const stats = await call(env, "/admin/stats");
    expect(stats.body.syncedToday).toEqual({ calls: 2, texts: 2, newPages: 4 });
    expect(stats.body.workspace).toEqual({ latencyP50Ms: 2000, latencyP95Ms: 9000, latencySamples: 4, itemsPerMinute: Math.round((4 / 60) * 100) / 100 });
    const throughput = stats.body.series24h.throughput as { at: number; items: number }[];
    expect(throughput.reduce((n, p) => n + p.items, 0)).toBeGreaterThanOrEqual(4);
  });

  it("credits a backfill run with an item only once its line has written it to Notion", async () => {
    const lineId = (await openphone.line(25)).id;
    const runId = "run-lag-1";
    await env.DB.prepare("INSERT INTO backfill_runs (id, status, trigger, handed, started_at) VALUES (?1, 'completed', 'admin', 1, ?2)").bind(runId, Date.now()).run();
    const stub = env.LINE.get(env.LINE.idFromName(lineId));
    await stub.ingest([callEvent(lineId, runId, completedCall("AClagBackfill", lineId), Date.now())]);
    const written = async () => (await env.DB.prepare("SELECT written FROM backfill_runs WHERE id = ?1").bind(runId).first<{ written: number }>())!.written;
    for (let i = 0; i < 100 && (await written()) === 0; i++) {
      await endCoalescing(stub as DurableObjectStub<LineDurableObject>);
      await runDurableObjectAlarm(stub as DurableObjectStub<LineDurableObject>);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await written()).toBe(1);
    expect(await notion.pagesWith("Call ID", "AClagBackfill")).toHaveLength(1);
    // A later flush of the same call (its page exists) does not count it again.
    await runDurableObjectAlarm(stub as DurableObjectStub<LineDurableObject>);
    expect(await written()).toBe(1);
  });
});
