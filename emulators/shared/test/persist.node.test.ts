/**
 * `--state FILE` (what `npm start -- --persist DIR` gives both emulators): a restarted emulator answers with the
 * calls, texts, pages and webhooks it had, and the ids it makes next are new ones, so a page id the Worker remembers
 * still names the page it was given for.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "@notionhq/client";
import { afterAll, describe, expect, it } from "vitest";
import { startNotionEmulator } from "../../notion/server.ts";
import { startOpenPhoneEmulator } from "../../openphone/server.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-state-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("emulator state across a restart", () => {
  it("OpenPhone keeps calls, texts and webhooks, and never repeats an id", async () => {
    const file = path.join(dir, "openphone.json");
    const key = "state-test-key";
    const api = (url: string, p: string, init: RequestInit = {}) => fetch(`${url}${p}`, { ...init, headers: { Authorization: key, "Content-Type": "application/json", ...init.headers } });

    const first = await startOpenPhoneEmulator({ port: 0, key, stateFile: file });
    const call = first.emulator.createCall({ ringing: false });
    const message = first.emulator.createMessage({});
    const created = await api(first.url, "/v1/webhooks/calls", { method: "POST", body: JSON.stringify({ url: "http://127.0.0.1:9/hook", events: ["call.completed"] }) });
    expect(created.status).toBe(201);
    const webhook = ((await created.json()) as { data: { id: string; key: string } }).data;
    await first.close();

    const second = await startOpenPhoneEmulator({ port: 0, key, stateFile: file });
    try {
      const calls = await api(second.url, `/v1/calls/${call.callId}`);
      expect(calls.status).toBe(200);
      expect(((await calls.json()) as { data: { id: string } }).data.id).toBe(call.callId);
      const message2 = await api(second.url, `/v1/messages/${message.messageId}`);
      expect(message2.status).toBe(200);
      const hooks = (await (await api(second.url, "/v1/webhooks")).json()) as { data: { id: string; key: string }[] };
      expect(hooks.data.map((h) => [h.id, h.key])).toContainEqual([webhook.id, webhook.key]);
      const next = second.emulator.createCall({ ringing: false });
      expect(next.callId).not.toBe(call.callId);
      expect(second.emulator.store.calls.size).toBe(2);
    } finally {
      await second.close();
    }
  });

  it("Notion keeps databases and pages, and the next page gets a new id", async () => {
    const file = path.join(dir, "notion.json");
    const token = "state-test-token";
    const first = await startNotionEmulator({ port: 0, token, demoData: true, stateFile: file });
    const client = (url: string) => new Client({ auth: token, baseUrl: url, notionVersion: "2025-09-03" });
    const database = (await client(first.url).databases.create({
      parent: { type: "page_id", page_id: first.rootPageId },
      title: [{ type: "text", text: { content: "Calls" } }],
      initial_data_source: { properties: { Name: { title: {} } } },
    })) as { id: string; data_sources: { id: string }[] };
    const dataSourceId = database.data_sources[0]!.id;
    const page = await client(first.url).pages.create({ parent: { type: "data_source_id", data_source_id: dataSourceId }, properties: { Name: { title: [{ text: { content: "first" } }] } } });
    const demo = first.demo;
    await first.close();

    const second = await startNotionEmulator({ port: 0, token, demoData: true, stateFile: file });
    try {
      expect(second.rootPageId).toBe(first.rootPageId);
      expect(second.demo).toEqual(demo);
      const again = (await client(second.url).pages.retrieve({ page_id: page.id })) as unknown as { properties: { Name: { title: { plain_text: string }[] } } };
      expect(again.properties.Name.title[0]!.plain_text).toBe("first");
      const next = await client(second.url).pages.create({ parent: { type: "data_source_id", data_source_id: dataSourceId }, properties: { Name: { title: [{ text: { content: "second" } }] } } });
      expect(next.id).not.toBe(page.id);
      const rows = await client(second.url).dataSources.query({ data_source_id: dataSourceId });
      expect(rows.results.map((r) => r.id).sort()).toEqual([page.id, next.id].sort());
    } finally {
      await second.close();
    }
  });

  it("refuses a state file that is not JSON instead of starting empty", async () => {
    const file = path.join(dir, "broken.json");
    fs.writeFileSync(file, "{ half");
    await expect(startNotionEmulator({ port: 0, stateFile: file })).rejects.toThrow(/not a valid state snapshot/);
  });
});
