import { describe, expect, it } from "vitest";
import { emptyCall, mergeCall, type TranscriptTurn } from "../../src/line/state";
import { CHILDREN_PER_REQUEST, jsonBytes, planBodyRequests, REQUEST_BUDGET_BYTES } from "../../src/notion/append-plan";
import { buildCallBody, mapCallToProperties, type BodySection } from "../../src/notion/mapping";
import { resolvePropertyNames } from "../../src/notion/schema";

const paragraph = (content: string) => ({ type: "paragraph", paragraph: { rich_text: [{ type: "text", text: { content } }] } });
const section = (key: string, count: number, chars = 10): BodySection => ({ key, blocks: Array.from({ length: count }, (_, i) => paragraph(`${key}-${i}-${"x".repeat(chars)}`)) });

/** A 4-hour call with 2,000 transcript turns, as the mapping builds it. */
function fourHourCall() {
  const dialogue: TranscriptTurn[] = Array.from({ length: 2000 }, (_, i) => ({
    start: i * 7.2,
    end: i * 7.2 + 6,
    content: `Turn ${i + 1}: we went over item ${i + 1} of the plan and agreed on the next part of the work together.`,
    identifier: i % 2 === 0 ? "+14155550100" : "+12125550101",
    userId: i % 2 === 0 ? "US1" : null,
  }));
  return mergeCall(
    emptyCall("AC4H"),
    {
      direction: "incoming", status: "completed", participants: ["+12125550101", "+14155550100"], answeredBy: "US1",
      createdAt: "2026-01-01T08:00:00Z", answeredAt: "2026-01-01T08:00:05Z", completedAt: "2026-01-01T12:00:05Z", duration: 14400,
      transcript: { status: "completed", dialogue },
    },
    { id: "e1", at: 1 },
  );
}

describe("planBodyRequests", () => {
  it("never gives the create or an append more than 100 children, and keeps the sections in order", () => {
    const sections = [section("summary", 3), section("transcript", 100), section("transcript:2", 100), section("transcript:3", 51)];
    const { create, appends } = planBodyRequests(sections, 2_000);
    for (const request of [create!, ...appends]) expect(request.blocks.length).toBeLessThanOrEqual(CHILDREN_PER_REQUEST);
    expect([create!, ...appends].flatMap((r) => r.keys)).toEqual(["summary", "transcript", "transcript:2", "transcript:3"]);
    expect(create!.keys).toEqual(["summary"]);
    expect(appends.map((a) => a.keys)).toEqual([["transcript"], ["transcript:2"], ["transcript:3"]]);
  });

  it("leaves the create without children when the properties fill its request, and keeps each append under the byte budget", () => {
    const big = [section("a", 60, 1900), section("b", 60, 1900), section("c", 60, 1900)];
    const { create, appends } = planBodyRequests(big, REQUEST_BUDGET_BYTES - 1000);
    expect(create!.blocks).toEqual([]);
    expect(appends.map((a) => a.keys)).toEqual([["a"], ["b"], ["c"]]);
    for (const append of appends) expect(jsonBytes(append.blocks)).toBeLessThanOrEqual(REQUEST_BUDGET_BYTES);
  });

  it("puts a 4-hour call's 2,000 turns in one create and the fewest appends the 100-block limit allows", () => {
    const state = fourHourCall();
    const ctx = { names: resolvePropertyNames("calls", {}), userNames: { US1: "Ada Petrov" }, recordingLinks: {}, lineNumber: "+14155550100" };
    const sections = buildCallBody(state, ctx);
    const blocks = sections.flatMap((s) => s.blocks);
    const props = mapCallToProperties(state, ctx);
    const { create, appends } = planBodyRequests(sections, jsonBytes(props));
    const requests = [create!, ...appends];
    expect(requests.length).toBe(Math.ceil(blocks.length / CHILDREN_PER_REQUEST));
    for (const r of requests) {
      expect(r.blocks.length).toBeLessThanOrEqual(CHILDREN_PER_REQUEST);
      expect(jsonBytes(r.blocks) + (r === create ? jsonBytes(props) : 0)).toBeLessThan(REQUEST_BUDGET_BYTES);
    }
    // Every turn, in order, across the requests.
    const text = requests.flatMap((r) => r.blocks).map((b) => ((b[b.type] as { rich_text: { text: { content: string } }[] }).rich_text.map((t) => t.text.content).join(""))).join("\n");
    const order = [...text.matchAll(/Turn (\d+):/g)].map((m) => Number(m[1]));
    expect(order).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  });
});
