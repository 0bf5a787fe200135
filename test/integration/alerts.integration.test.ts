import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { evaluateAlerts, evaluateAlertsIfDue } from "../../src/alerts/evaluate";
import { listRecentIncidents } from "../../src/db/alerts";
import { loadConfig } from "../../src/config";
import { recordDeadLetters } from "../../src/db/dead-letters";
import { gateSettings } from "../../src/gates/gated-fetch";
import { collectStats } from "../../src/http/admin-stats";
import type { WebhookMessage } from "../../src/queue/messages";
import { notion, openphone, plain } from "./emulators";
import { flush, line } from "./line-harness";

const MINUTE = 60_000;
const MEDIA_SOURCE = env.MEDIA_SOURCE_BASE;
/** This test's alert receiver on the test media source (test/media-source-server.ts). */
let receiver: string;
/** The Worker's settings with this test's alert receiver as ALERT_WEBHOOK_URL. */
let alertEnv: Env;

interface Received {
  text: string;
}

/** Every alert POSTed to this test's receiver, oldest first. */
async function received(): Promise<Received[]> {
  const response = await fetch(`${MEDIA_SOURCE}/control/alerts/${receiver}`);
  return ((await response.json()) as { received: Received[] }).received;
}

function completedCall(callId: string, lineId: string): WebhookMessage {
  const object = {
    id: callId,
    object: "call",
    direction: "incoming",
    participants: ["+12125550101"],
    phoneNumberId: lineId,
    userId: "US1",
    createdAt: "2026-03-02T10:00:00.000Z",
    status: "completed",
    answeredAt: "2026-03-02T10:00:04.000Z",
    answeredBy: "US1",
    completedAt: "2026-03-02T10:03:00.000Z",
    duration: 176,
  };
  const eventId = `EV${callId}c`;
  return { type: "webhook", lineId, eventId, eventType: "call.completed", receivedAt: Date.now(), envelope: { id: eventId, object: "event", apiVersion: "v4", createdAt: new Date().toISOString(), type: "call.completed", data: { object } } };
}

beforeEach(async () => {
  receiver = crypto.randomUUID();
  alertEnv = { ...env, ALERT_WEBHOOK_URL: `${MEDIA_SOURCE}/alerts/${receiver}` } as Env;
  await env.DB.batch(["alerts", "alert_evaluations", "sync_history", "dead_letters"].map((t) => env.DB.prepare(`DELETE FROM ${t}`)));
});

afterEach(() => notion.clearScript());

const callPages = async (ids: string[]) => (await notion.pages()).filter((p) => ids.includes(plain(p.properties["Call ID"])));

describe("alerts", () => {
  it("sends one alert while Notion fails, none for the repeats, a resolved when it recovers, and loses nothing", async () => {
    const lineId = (await openphone.line(26)).id;
    const stub = line(lineId);
    const calls = ["AC9001", "AC9002", "AC9003"];
    await notion.script(...calls.map(() => ({ operation: "pages.create", status: 503 })));
    await stub.ingest(calls.map((id) => completedCall(id, lineId)));
    await flush(stub);
    expect(await callPages(calls)).toHaveLength(0);

    const start = Date.now();
    const first = await evaluateAlerts(alertEnv, start);
    expect(first.opened).toEqual(["notion"]);
    let alerts = await received();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.text).toContain("Notion writes failing");
    // With what Notion answered.
    expect(alerts[0]!.text).toContain("Public API service is temporarily unavailable");

    // Still failing a minute later: the incident stays open and nothing more is sent.
    const repeat = await evaluateAlerts(alertEnv, start + MINUTE);
    expect(repeat).toMatchObject({ opened: [], resolved: [], sent: 0 });
    expect(await received()).toHaveLength(1);

    // Notion answers again: the retries write every page.
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE resources SET due_at = 0, claimed_at = 0, claim_unknown_at = 0"));
    await flush(stub);
    expect(await callPages(calls)).toHaveLength(3);
    expect(await stub.pendingEvents()).toBe(0);

    const later = await evaluateAlerts(alertEnv, Date.now() + 3 * MINUTE);
    expect(later.resolved).toEqual(["notion"]);
    alerts = await received();
    expect(alerts).toHaveLength(2);
    expect(alerts[1]!.text).toMatch(/^:white_check_mark: Resolved after \d+ min/);
    expect(alerts[1]!.text).toContain("Notion writes failing");

    const stats = await collectStats(alertEnv);
    expect(stats.alerts.open).toEqual([]);
    expect(stats.alerts.recent).toMatchObject([{ key: "notion", openStatus: "sent", resolvedStatus: "sent", sendAttempts: 2 }]);
  });

  it("records a failed send and sends it at the next evaluation", async () => {
    await recordDeadLetters(env.DB, [{ messageId: "m1", queue: "sync-events", resourceId: "AC9100", body: { type: "webhook" }, reason: "Notion 400: Duration is not a property that exists.", attempts: 1 }]);
    await fetch(`${MEDIA_SOURCE}/control/alerts/${receiver}`, { method: "POST", body: JSON.stringify({ failNext: 1 }) });
    const now = Date.now();

    const failed = await evaluateAlerts(alertEnv, now);
    expect(failed).toMatchObject({ opened: ["dead-letters"], sent: 0, failedSends: 1 });
    const [incident] = await listRecentIncidents(env.DB);
    expect(incident).toMatchObject({ key: "dead-letters", openStatus: "failed", lastSendError: expect.stringContaining("HTTP 500") });

    const retried = await evaluateAlerts(alertEnv, now + MINUTE);
    expect(retried).toMatchObject({ opened: [], sent: 1, failedSends: 0 });
    const alerts = await received();
    // The receiver saw the failed attempt and the retry, with the same message; the incident is delivered once.
    expect(alerts).toHaveLength(2);
    expect(alerts[1]!.text).toBe(alerts[0]!.text);
    expect(alerts[1]!.text).toContain("1 dead letter(s) waiting");
    expect(alerts[1]!.text).toContain("Duration is not a property that exists");
    expect(await listRecentIncidents(env.DB)).toMatchObject([{ openStatus: "sent" }]);

    await evaluateAlerts(alertEnv, now + 2 * MINUTE);
    expect(await received()).toHaveLength(2);

    // Replayed: the incident clears.
    await env.DB.prepare("UPDATE dead_letters SET replayed_at = ?1").bind(now).run();
    expect((await evaluateAlerts(alertEnv, now + 3 * MINUTE)).resolved).toEqual(["dead-letters"]);
    expect((await received()).at(-1)!.text).toContain("Resolved");
  });

  it("keeps the incident without a receiver, marked as not sent", async () => {
    await recordDeadLetters(env.DB, [{ queue: "sync-events", body: {}, reason: "bad", attempts: 1 }]);
    expect((await evaluateAlerts(env)).opened).toEqual(["dead-letters"]);
    expect(await listRecentIncidents(env.DB)).toMatchObject([{ key: "dead-letters", openStatus: "unconfigured", lastSendError: "ALERT_WEBHOOK_URL is not set" }]);
    expect(await received()).toHaveLength(0);
  });

  it("evaluates from the queue consumer at most once a minute", async () => {
    const now = Date.now();
    expect(await evaluateAlertsIfDue(alertEnv, now)).not.toBeNull();
    expect(await evaluateAlertsIfDue(alertEnv, now + 30_000)).toBeNull();
    expect(await evaluateAlertsIfDue(alertEnv, now + 61_000)).not.toBeNull();
    // The cron evaluates whatever the last evaluation was.
    expect(await evaluateAlerts(alertEnv, now + 62_000)).toMatchObject({ checkErrors: [] });
  });

  it("alerts once when the OpenPhone circuit breaker opens and resolves when it has closed", async () => {
    const { config } = loadConfig(alertEnv);
    const gate = env.GATE.get(env.GATE.idFromName("openphone"));
    await gate.configure(gateSettings(config, "openphone"));
    for (let i = 0; i < config.BREAKER_FAILURES; i++) await gate.report({ outcome: "failure" });
    const now = Date.now();
    expect((await evaluateAlerts(alertEnv, now)).opened).toEqual(["breaker:openphone"]);
    const [alert] = await received();
    expect(alert!.text).toContain("OpenPhone requests failing: the circuit breaker open until");
    // After the cool-down, and no opening since the last evaluation.
    const after = now + config.BREAKER_COOLDOWN_MS + 1000;
    expect((await evaluateAlerts(alertEnv, after)).resolved).toEqual(["breaker:openphone"]);
    expect(await received()).toHaveLength(2);
  });
});
