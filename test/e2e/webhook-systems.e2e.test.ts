/**
 * Both webhook systems at once, end to end: the sandbox registers legacy and 2026-03-30 webhooks (`--webhooks both`),
 * and every event of 20 calls and 10 texts is delivered through both, shuffled. Each call and text gets exactly one
 * complete page, missed calls and the failed text at once (no backfill runs here), the voicemail transcript from
 * `call.voicemail.completed` is on its page, and the Notion requests per item stay within 10 % of the same
 * scenario delivered through the legacy system alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DumpedPage, type E2ESandbox, notionPages, plainText, sandboxPeople, startE2ESandbox, waitFor } from "./harness.ts";

interface NotionStats {
  requests: { total: number; byOperation: Record<string, number> };
}

let sandbox: E2ESandbox;
let customers: string[];

beforeAll(async () => {
  sandbox = await startE2ESandbox({ webhooks: "both", openphoneConfig: { timeFactor: 20, webhook: { shuffle: true } }, workerSettings: { BACKFILL_ENABLED: "false" } });
  const people = await sandboxPeople(sandbox);
  customers = people.customers.slice(0, 10).map((p) => p.phone);
}, 240_000);

afterAll(async () => {
  await sandbox?.close();
});

const notionStats = () => sandbox.json<NotionStats>(`${sandbox.notionUrl}/_emulator/stats`);
const resetNotionStats = () => sandbox.json(`${sandbox.notionUrl}/_emulator/stats`, { method: "DELETE" });
const callPages = () => notionPages(sandbox, sandbox.sync.notion.calls.dataSourceId);
const messagePages = () => notionPages(sandbox, sandbox.sync.notion.messages.dataSourceId);
const post = <T>(path: string, body: unknown) => sandbox.json<T>(`${sandbox.openphoneUrl}${path}`, { method: "POST", body: JSON.stringify(body) });

interface Scenario {
  answered: string[];
  voicemail: string[];
  texts: string[];
  failedText: string;
  groupText: string;
}

/** 20 calls (16 answered with recording, transcript and summary; 4 missed with a voicemail) and 10 texts. */
async function runScenario(tag: string): Promise<Scenario> {
  const answered = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      post<{ callId: string }>("/_emulator/calls", { participant: customers[i % 10], direction: i % 2 ? "outgoing" : "incoming", status: "answered", durationSeconds: 80, recording: { segments: 1 }, transcript: { chars: 600 }, summary: true }),
    ),
  );
  const voicemail = await Promise.all(Array.from({ length: 4 }, (_, i) => post<{ callId: string }>("/_emulator/calls", { participant: customers[(i + 3) % 10], direction: "incoming", status: "voicemail" })));
  const plain = await Promise.all(Array.from({ length: 8 }, (_, i) => post<{ messageId: string }>("/_emulator/messages", { participant: customers[i % 10], direction: "incoming", text: `${tag} text ${i}` })));
  const group = await post<{ messageId: string }>("/_emulator/messages", { participant: customers[1], alsoTo: [customers[2]!, customers[3]!], direction: "outgoing", text: `${tag} group text`, status: "delivered" });
  const failed = await post<{ messageId: string }>("/_emulator/messages", { participant: customers[4], direction: "outgoing", text: `${tag} failed text`, status: "undelivered" });
  return { answered: answered.map((c) => c.callId), voicemail: voicemail.map((c) => c.callId), texts: [...plain.map((m) => m.messageId), group.messageId, failed.messageId], failedText: failed.messageId, groupText: group.messageId };
}

function answeredComplete(page: DumpedPage): boolean {
  const p = page.properties;
  return plainText(p["Summary"]).length > 0 && (p["Transcript Status"]?.select as { name?: string } | undefined)?.name === "completed" && typeof p["Recording"]?.url === "string";
}

const byId = (pages: DumpedPage[], property: string) => {
  const map = new Map<string, DumpedPage[]>();
  for (const page of pages) {
    const id = plainText(page.properties[property]);
    map.set(id, [...(map.get(id) ?? []), page]);
  }
  return map;
};

async function settle(scenario: Scenario, expectFailedText: boolean): Promise<{ calls: Map<string, DumpedPage[]>; texts: Map<string, DumpedPage[]> }> {
  const wantedTexts = scenario.texts.filter((id) => expectFailedText || id !== scenario.failedText);
  await waitFor("every call and text of the scenario complete", 420_000, async () => {
    const [calls, texts] = [byId(await callPages(), "Call ID"), byId(await messagePages(), "Message ID")];
    const answeredDone = scenario.answered.every((id) => calls.get(id)?.length === 1 && answeredComplete(calls.get(id)![0]!));
    const voicemailDone = scenario.voicemail.every((id) => calls.get(id)?.length === 1);
    return answeredDone && voicemailDone && wantedTexts.every((id) => texts.get(id)?.length === 1);
  });
  // Late copies from the other system must not add pages.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  return { calls: byId(await callPages(), "Call ID"), texts: byId(await messagePages(), "Message ID") };
}

describe("both webhook systems at once", () => {
  it("writes one complete page per call and text from events delivered through both systems, for about the requests of one", async () => {
    // The same scenario through the legacy system alone: the figure to compare with.
    await sandbox.json(`${sandbox.openphoneUrl}/_emulator/config`, { method: "PUT", body: JSON.stringify({ webhook: { systems: "v1" } }) });
    await resetNotionStats();
    const legacy = await runScenario("legacy");
    const legacyPages = await settle(legacy, false);
    // Legacy webhooks never announce a failed text: only a sweep or the backfill would write its page.
    const legacyRequests = (await notionStats()).requests.total;
    const legacyItems = 29 + (legacyPages.texts.get(legacy.failedText) ? 1 : 0);

    await sandbox.json(`${sandbox.openphoneUrl}/_emulator/config`, { method: "PUT", body: JSON.stringify({ webhook: { systems: "both" } }) });
    await resetNotionStats();
    const started = Date.now();
    const both = await runScenario("both");
    const { calls, texts } = await settle(both, true);
    const stats = await notionStats();
    const bothItems = 30;

    for (const id of [...both.answered, ...both.voicemail]) expect(calls.get(id), id).toHaveLength(1);
    for (const id of both.texts) expect(texts.get(id), id).toHaveLength(1);
    for (const id of both.voicemail) {
      const page = calls.get(id)![0]!;
      expect(plainText(page.properties["Status"]) || (page.properties["Status"]?.select as { name?: string } | undefined)?.name).toBe("missed");
      expect(plainText(page.properties["Voicemail Transcript"]).length).toBeGreaterThan(0);
    }
    const failed = texts.get(both.failedText)![0]!;
    expect(plainText(failed.properties["Text"])).toBe("both failed text");
    expect((failed.properties["Status"]?.select as { name?: string } | undefined)?.name).toBe("undelivered");
    expect(plainText(texts.get(both.groupText)![0]!.properties["Text"])).toBe("both group text");

    const perItemLegacy = legacyRequests / legacyItems;
    const perItemBoth = stats.requests.total / bothItems;
    console.log(
      `both systems: ${stats.requests.total} Notion requests for ${bothItems} items (${perItemBoth.toFixed(2)} per item) in ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
        `legacy alone: ${legacyRequests} for ${legacyItems} items (${perItemLegacy.toFixed(2)} per item)`,
      JSON.stringify(stats.requests.byOperation),
    );
    expect(perItemBoth).toBeLessThanOrEqual(perItemLegacy * 1.1);
    const dead = await sandbox.admin<{ open: number }>("/admin/dead-letters");
    expect(dead.open).toBe(0);
  }, 900_000);

  it("writes a missed call's and a failed text's pages within the coalescing window plus a few seconds, with no backfill", async () => {
    await sandbox.json(`${sandbox.openphoneUrl}/_emulator/config`, { method: "PUT", body: JSON.stringify({ webhook: { systems: "quo", shuffle: false } }) });
    const missed = await post<{ callId: string }>("/_emulator/calls", { participant: customers[5], direction: "incoming", status: "missed" });
    const failed = await post<{ messageId: string }>("/_emulator/messages", { participant: customers[6], direction: "outgoing", text: "failed at once", status: "undelivered" });
    // COALESCE_MS is 2 s in the e2e sandbox; bounded generously for a loaded machine, and no backfill is enabled.
    await waitFor("the missed call's and the failed text's pages", 60_000, async () => {
      const [calls, texts] = [byId(await callPages(), "Call ID"), byId(await messagePages(), "Message ID")];
      return calls.get(missed.callId)?.length === 1 && texts.get(failed.messageId)?.length === 1;
    });
  }, 120_000);
});
