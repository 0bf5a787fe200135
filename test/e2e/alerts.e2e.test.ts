/**
 * Alerts end to end: the sandbox with a local alert receiver as `ALERT_WEBHOOK_URL`, and every Notion write failing
 * (emulator fault rate 1.0) for a while. One alert arrives naming Notion, none while the outage goes on, one
 * "resolved" after it ends, and every text still gets its page. `ALERTS_E2E_OUTAGE_MS` sets how long Notion
 * fails (default 60 s; the scenario is 180 000). Prints when each alert arrived.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2ESandbox, notionPages, sandboxPeople, startE2ESandbox, waitFor } from "./harness.ts";

const OUTAGE_MS = Number(process.env.ALERTS_E2E_OUTAGE_MS ?? 60_000);

interface Alert {
  text: string;
  at: number;
}

let sandbox: E2ESandbox;
let receiver: http.Server;
const alerts: Alert[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { text: string };
      alerts.push({ text: body.text, at: Date.now() });
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  sandbox = await startE2ESandbox({ workerSettings: { ALERT_WEBHOOK_URL: url }, openphoneConfig: { timeFactor: 20 } });
}, 240_000);

afterAll(async () => {
  await sandbox?.close();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

/** The five-minute cron, fired now (each run evaluates the alerts). */
const cron = () => fetch(`${sandbox.workerUrl}/__scheduled?cron=*/5+*+*+*+*`).then((r) => r.status);
const setFaults = (rate: number) => sandbox.json(`${sandbox.notionUrl}/_emulator/config`, { method: "PUT", body: JSON.stringify({ faults: { rate, statuses: [503], afterWriteRate: 0 } }) });

describe("alerts", () => {
  it("sends one alert for a Notion outage, a resolved when it ends, and loses no text", async () => {
    const people = await sandboxPeople(sandbox);
    const phones = people.customers.slice(0, 5).map((p) => p.phone);
    await setFaults(1);
    const outageStart = Date.now();
    for (const [i, participant] of phones.entries()) {
      await sandbox.json(`${sandbox.openphoneUrl}/_emulator/messages`, { method: "POST", body: JSON.stringify({ participant, direction: "incoming", text: `During the outage ${i}` }) });
    }

    const opened = await waitFor("the outage's alert", 180_000, async () => {
      await cron();
      return alerts.length > 0 ? alerts[0] : undefined;
    });
    expect(opened.text).toContain("Notion writes failing");
    expect(opened.text).toMatch(/503|circuit breaker/);

    // The outage goes on; evaluations keep finding it and send nothing more.
    while (Date.now() - outageStart < OUTAGE_MS) {
      await new Promise((r) => setTimeout(r, 10_000));
      await cron();
    }
    await cron();
    expect(alerts).toHaveLength(1);
    await setFaults(0);
    const outageEnd = Date.now();

    const pages = await waitFor("every text's page", 300_000, async () => {
      const found = await notionPages(sandbox, sandbox.sync.notion.messages.dataSourceId);
      return found.length === phones.length ? found : undefined;
    });
    expect(pages).toHaveLength(phones.length);

    const resolved = await waitFor("the resolved alert", 300_000, async () => {
      await cron();
      return alerts.length > 1 ? alerts[1] : undefined;
    });
    expect(resolved.text).toContain("Resolved");
    expect(resolved.text).toContain("Notion writes failing");
    await cron();
    expect(alerts).toHaveLength(2);

    const stats = await sandbox.admin<{ alerts: { open: unknown[]; recent: { key: string; openStatus: string; resolvedStatus: string }[] } }>("/admin/stats");
    expect(stats.alerts.open).toEqual([]);
    expect(stats.alerts.recent).toEqual([expect.objectContaining({ key: "notion", openStatus: "sent", resolvedStatus: "sent" })]);
    console.log(
      `alerts e2e: Notion failing for ${Math.round((outageEnd - outageStart) / 1000)} s; alert ${Math.round((opened.at - outageStart) / 1000)} s after the outage began; ` +
        `resolved ${Math.round((resolved.at - outageEnd) / 1000)} s after it ended; ${alerts.length} messages in all; ${pages.length}/${phones.length} texts written\n` +
        alerts.map((a) => `  ${a.text}`).join("\n"),
    );
  }, 900_000);
});
