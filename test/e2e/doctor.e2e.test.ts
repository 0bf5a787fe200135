/**
 * The doctor end to end: `npm run doctor`'s client against the sandbox Worker (wrangler dev) with both emulators.
 * Healthy, it exits 0 and `/health?deep=1` answers 200; after a Calls property is renamed through the Notion API it
 * exits 1 naming that property, `/health` shows the problem before any write fails, and renaming it back clears it.
 * A Notion that does not answer is reported within the run's bound.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDoctorCli } from "../../scripts/lib/doctor-client.ts";
import type { DoctorReport } from "../../src/doctor/report.ts";
import { E2E_ADMIN_TOKEN, E2E_NOTION_TOKEN, type E2ESandbox, startE2ESandbox, waitFor } from "./harness.ts";

let sandbox: E2ESandbox;

beforeAll(async () => {
  sandbox = await startE2ESandbox({ workerSettings: { DOCTOR_AT_START: "true" } });
}, 240_000);

afterAll(async () => {
  await sandbox?.close();
});

async function doctor(): Promise<{ code: number; output: string }> {
  let output = "";
  const code = await runDoctorCli({ url: sandbox.workerUrl, token: E2E_ADMIN_TOKEN, json: false }, (text) => (output += text));
  console.log(output);
  return { code, output };
}

async function health(deep: boolean): Promise<{ status: number; body: { ok: boolean; components: Record<string, { ok: boolean; detail?: string }>; doctor?: DoctorReport } }> {
  const response = await fetch(`${sandbox.workerUrl}/health${deep ? "?deep=1" : ""}`);
  return { status: response.status, body: (await response.json()) as never };
}

/** Renames a property of the Calls data source through the Notion API, as a user editing the database would. */
async function renameCallsProperty(from: string, to: string): Promise<void> {
  const response = await fetch(`${sandbox.notionUrl}/v1/data_sources/${sandbox.sync.notion.calls.dataSourceId}`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${E2E_NOTION_TOKEN}`, "Notion-Version": "2025-09-03", "Content-Type": "application/json" },
    body: JSON.stringify({ properties: { [from]: { name: to } } }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

describe("doctor", () => {
  it("finds no problem on a healthy sandbox: exit 0, deep health 200, and it ran at start", async () => {
    // The Worker's first request (the harness waiting for /health) started the check: setup never lists the lines.
    await waitFor("the start-up check's OpenPhone request", 30_000, async () => {
      const stats = await sandbox.json<{ requests: { byOperation: Record<string, number> } }>(`${sandbox.openphoneUrl}/_emulator/stats`);
      return (stats.requests.byOperation["listPhoneNumbers_v1"] ?? 0) >= 1;
    });
    const { code, output } = await doctor();
    expect(code, output).toBe(0);
    expect(output).toContain("No problems found");

    const deep = await health(true);
    expect(deep.status).toBe(200);
    expect(deep.body.doctor?.ok).toBe(true);
    // Every check ran: the sandbox configures Canvas and Mail too.
    expect(deep.body.doctor?.checks.map((c) => [c.name, c.status])).toEqual([
      ["settings", "ok"],
      ["calls", "ok"],
      ["messages", "ok"],
      ["canvas", "ok"],
      ["mail", "ok"],
      ["openphone", "ok"],
      ["webhooks", "ok"],
    ]);
  });

  it("names a renamed Calls property, shows it on /health before any write, and clears it once renamed back", async () => {
    await renameCallsProperty("Duration", "Length (s)");

    const { code, output } = await doctor();
    expect(code).toBe(1);
    expect(output).toContain('Calls database, property "Duration"');
    expect(output).toContain('NOTION_PROPERTY_MAP {"Calls.Duration": "Length (s)"}');

    // Recorded by the doctor: the plain /health shows it, no page write needed.
    const plain = await health(false);
    expect(plain.status).toBe(503);
    expect(plain.body.components.notion_schema?.detail).toContain('property "Duration"');
    const deep = await health(true);
    expect(deep.status).toBe(503);

    await renameCallsProperty("Length (s)", "Duration");
    const again = await doctor();
    expect(again.code, again.output).toBe(0);
    const cleared = await health(false);
    expect(cleared.body.components.notion_schema).toEqual({ ok: true });
    expect(cleared.status).toBe(200);
  });

  it("gives up on a Notion that does not answer, says so, and leaves /health's schema problems alone", async () => {
    await sandbox.json(`${sandbox.notionUrl}/_emulator/config`, { method: "PUT", body: JSON.stringify({ latencyMs: { p50: 40_000, p95: 40_000 } }) });
    try {
      const { code, output } = await doctor();
      expect(code).toBe(1);
      expect(output).toMatch(/Notion did not answer within 8 s|did not finish within 25 s/);
      expect(output).toContain("[ok  ] OpenPhone API key");
      // Not a finding about the databases: nothing recorded, nothing cleared.
      const plain = await health(false);
      expect(plain.body.components.notion_schema).toEqual({ ok: true });
    } finally {
      await sandbox.json(`${sandbox.notionUrl}/_emulator/config`, { method: "PUT", body: JSON.stringify({ latencyMs: { p50: 0, p95: 0 } }) });
    }
  });
});
