import { describe, expect, it } from "vitest";
import { AuditBudget, AuditBudgetSpent } from "../../src/audit/budget";
import { propertiesToMove, writableBlock } from "../../src/audit/duplicates";
import { decodePosition, encodePosition, planConversations } from "../../src/audit/listing";
import type { NotionPageView } from "../../src/audit/notion-index";
import { callPageLacks, messagePageLacks } from "../../src/audit/stale";
import { resolvePropertyNames } from "../../src/notion/schema";
import type { Message } from "../../src/openphone/client";

const callNames = resolvePropertyNames("calls", {});
const page = (properties: NotionPageView["properties"]): NotionPageView => ({ id: "p1", createdTime: "2026-01-01T00:00:00.000Z", properties });
const text = (content: string) => ({ type: "rich_text", rich_text: content ? [{ type: "text", plain_text: content, text: { content } }] : [] });

describe("what a page lacks", () => {
  it("asks about recording, transcript and summary for an answered call, voicemail only for an unanswered incoming one", () => {
    const empty = page({ Recording: { type: "url", url: null }, Summary: text(""), "Transcript Status": { type: "select", select: null }, Voicemail: { type: "url", url: null } });
    expect(callPageLacks({ answeredAt: "2026-01-01T00:00:10Z", direction: "incoming" }, empty, callNames)).toEqual(["recording", "transcript", "summary"]);
    expect(callPageLacks({ answeredAt: null, direction: "incoming" }, empty, callNames)).toEqual(["voicemail"]);
    expect(callPageLacks({ answeredAt: null, direction: "outgoing" }, empty, callNames)).toEqual([]);
    const full = page({ Recording: { type: "url", url: "https://x/r" }, Summary: text("Talked"), "Transcript Status": { type: "select", select: { name: "completed" } } });
    expect(callPageLacks({ answeredAt: "2026-01-01T00:00:10Z", direction: "outgoing" }, full, callNames)).toEqual([]);
  });

  it("reads renamed properties through NOTION_PROPERTY_MAP", () => {
    const names = resolvePropertyNames("calls", { "Calls.Summary": "AI summary" });
    const p = page({ Recording: { type: "url", url: "https://x/r" }, "AI summary": text("Talked"), "Transcript Status": { type: "select", select: { name: "completed" } } });
    expect(callPageLacks({ answeredAt: "2026-01-01T00:00:10Z", direction: "incoming" }, p, names)).toEqual([]);
  });

  it("finds a text's media missing from its page", () => {
    const names = resolvePropertyNames("messages", {});
    const message = { id: "AC1", media: [{ url: "https://m/1", type: "image/png" }] } as unknown as Message;
    expect(messagePageLacks(message, page({ Media: text("") }), names)).toEqual(["media"]);
    expect(messagePageLacks(message, page({ Media: text("Media 1") }), names)).toEqual([]);
  });
});

describe("duplicate merge", () => {
  it("moves only the properties the kept page lacks, in the shape Notion accepts", () => {
    const kept = page({ Name: { type: "title", title: [{ plain_text: "Hi", text: { content: "Hi" } }] }, Summary: text(""), Duration: { type: "number", number: null } });
    const later = page({ Name: { type: "title", title: [{ plain_text: "Other", text: { content: "Other" } }] }, Summary: text("Talked"), Duration: { type: "number", number: 42 }, Status: { type: "select", select: { id: "x", name: "completed", color: "green" } } });
    expect(propertiesToMove(kept, later)).toEqual({
      Summary: { rich_text: [{ type: "text", text: { content: "Talked" } }] },
      Duration: { number: 42 },
      Status: { select: { name: "completed" } },
    });
  });

  it("re-creates the blocks the sync writes and refuses ones it cannot copy", () => {
    expect(writableBlock({ type: "to_do", id: "b", to_do: { rich_text: [{ plain_text: "Call back", text: { content: "Call back" } }], checked: true } })).toEqual({ type: "to_do", to_do: { rich_text: [{ type: "text", text: { content: "Call back" } }], checked: true } });
    expect(writableBlock({ type: "audio", audio: { type: "external", external: { url: "https://x/a" }, caption: [] } })).toEqual({ type: "audio", audio: { type: "external", external: { url: "https://x/a" }, caption: [] } });
    expect(writableBlock({ type: "child_database", child_database: {} })).toBeUndefined();
  });
});

describe("audit budget", () => {
  it("stops at the request budget and at the deadline", () => {
    const budget = new AuditBudget(2, 1000, () => 0);
    budget.take("notion");
    budget.take("openphone");
    expect(() => budget.take("notion")).toThrow(AuditBudgetSpent);
    let now = 0;
    const timed = new AuditBudget(10, 100, () => now);
    timed.take("openphone");
    now = 100;
    expect(() => timed.take("openphone")).toThrow("time budget");
  });
});

describe("audit parts", () => {
  it("lists each number's calls once: in its own conversation, else in the first group it is in", () => {
    const units = planConversations(
      [
        { id: "CN3", participants: ["+15550000002", "+15550000001", "+19990000000"] },
        { id: "CN1", participants: ["+15550000001", "+19990000000"] },
        { id: "CN2", participants: ["+15550000003", "+15550000002"] },
        { id: "CN4", participants: ["+19990000000"] },
      ],
      "+19990000000",
    );
    expect(units.map((u) => u.id)).toEqual(["CN1", "CN2", "CN3"]);
    expect(units.map((u) => u.callsOf)).toEqual([["+15550000001"], ["+15550000002", "+15550000003"], []]);
  });

  it("round-trips a position and refuses anything else", () => {
    const position = { since: "2026-01-01T00:00:00.000Z", until: 1_770_000_000_000, line: 1, conversation: 7 };
    expect(decodePosition(encodePosition(position))).toEqual(position);
    expect(decodePosition("not base64 json")).toBeNull();
    expect(decodePosition(btoa(JSON.stringify(["2026-01-01", 1, -1, 0])))).toBeNull();
  });
});
