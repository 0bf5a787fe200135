import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyCall, emptyMessage, mergeCall, mergeMessage } from "../../src/line/state";
import { buildCallBody, buildMessageBody, mapCallToProperties, mapMessageToProperties, type Block } from "../../src/notion/mapping";
import { CUT_NOTICE, RICH_TEXT_LIMIT, richText, splitText, WORD_BREAK_LOOKBACK } from "../../src/notion/rich-text";
import { resolvePropertyNames } from "../../src/notion/schema";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text made of pieces that stress the cuts: emoji (two UTF-16 units), combined emoji, accents, CJK and spaces. */
const pieces = fc.constantFrom("a", "word", " ", "\n", "😀", "👩‍👩‍👧", "é", "漢字", "\"", "\t", "x".repeat(300));
const text = fc.array(pieces, { maxLength: 3000 }).map((p) => p.join(""));
const anyText = fc.oneof(text, fc.string({ unit: "binary", maxLength: 9000 }));

describe("splitText and richText", () => {
  it("gives back the input exactly, in chunks of at most 2000 UTF-16 units, never leaving half an emoji", () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const chunks = splitText(input);
        expect(chunks.join("")).toBe(input);
        for (const chunk of chunks) {
          expect(chunk.length).toBeGreaterThan(0);
          expect(chunk.length).toBeLessThanOrEqual(RICH_TEXT_LIMIT);
          expect(LONE_SURROGATE.test(chunk)).toBe(false);
        }
        if (input.length <= 100 * RICH_TEXT_LIMIT) expect(richText(input).map((i) => i.text.content).join("")).toBe(input);
      }),
      { numRuns: 200 },
    );
  });

  it("keeps within a byte budget as well when one is given", () => {
    fc.assert(
      fc.property(text, (input) => {
        const chunks = splitText(input, { units: 2000, jsonBytes: 4000 });
        expect(chunks.join("")).toBe(input);
        for (const chunk of chunks) expect(new TextEncoder().encode(JSON.stringify(chunk)).byteLength - 2).toBeLessThanOrEqual(4000);
      }),
      { numRuns: 100 },
    );
  });

  it("ends a chunk after a whitespace when one falls in its last 200 characters", () => {
    const words = Array.from({ length: 800 }, (_, i) => `w${i}`).join(" ");
    const chunks = splitText(words);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.endsWith(" ")).toBe(true);
      expect(chunk.length).toBeGreaterThan(RICH_TEXT_LIMIT - WORD_BREAK_LOOKBACK);
    }
  });

  it("splits an emoji that straddles 2000 units before it, not through it", () => {
    const input = `${"a".repeat(1999)}😀${"b".repeat(10)}`;
    expect(splitText(input)).toEqual(["a".repeat(1999), `😀${"b".repeat(10)}`]);
  });

  it("says so in the last item when a value needs more than 100 items", () => {
    const long = "y".repeat(100 * RICH_TEXT_LIMIT + 1);
    const items = richText(long);
    expect(items).toHaveLength(100);
    expect(items[99]!.text.content).toBe(CUT_NOTICE);
    expect(items.slice(0, 99).map((i) => i.text.content).join("")).toBe(long.slice(0, 99 * RICH_TEXT_LIMIT));
  });
});

/** All the text of some body blocks, in order. */
function bodyText(blocks: Block[]): string {
  return blocks
    .map((b) => ((b[b.type] as { rich_text?: { text: { content: string } }[] }).rich_text ?? []).map((i) => i.text.content).join(""))
    .join("");
}

describe("a value too long for its property", () => {
  const names = resolvePropertyNames("calls", {});
  const ctx = { names, userNames: {}, recordingLinks: {} };
  const huge = Array.from({ length: 30_000 }, (_, i) => `word${i} 😀`).join(" ");

  it("a text's Text property ends with the cut notice and its page body holds the whole text", () => {
    const state = mergeMessage(emptyMessage("ACcut1"), { text: huge, direction: "incoming" }, { id: "EV1", at: 1 });
    const props = mapMessageToProperties(state, { names: resolvePropertyNames("messages", {}), userNames: {}, mediaLinks: [] });
    const items = (props["Text"] as { rich_text: { text: { content: string } }[] }).rich_text;
    expect(items).toHaveLength(100);
    expect(items[99]!.text.content).toBe(CUT_NOTICE);
    const sections = buildMessageBody(state);
    expect(sections.map((s) => s.key).slice(0, 2)).toEqual(["text", "text:2"]);
    for (const s of sections) expect(s.blocks.length).toBeLessThanOrEqual(100);
    expect(bodyText(sections.flatMap((s) => s.blocks).slice(1))).toBe(huge);
  });

  it("a text that fits has no body", () => {
    const state = mergeMessage(emptyMessage("ACcut2"), { text: "short" }, { id: "EV1", at: 1 });
    expect(buildMessageBody(state)).toEqual([]);
  });

  it("a call's summary, next step and voicemail transcript stay whole in the body", () => {
    const state = mergeCall(
      emptyCall("ACcut3"),
      { summary: { status: "completed", summary: [huge, "second point"], nextSteps: [huge] }, voicemail: { url: null, type: null, duration: null, transcript: huge } },
      { id: "EV1", at: 1 },
    );
    const props = mapCallToProperties(state, ctx);
    for (const name of ["Summary", "Next Steps", "Voicemail Transcript"]) {
      const items = (props[name] as { rich_text: { text: { content: string } }[] }).rich_text;
      expect(items[items.length - 1]!.text.content, name).toBe(CUT_NOTICE);
    }
    const sections = buildCallBody(state, ctx);
    for (const s of sections) expect(s.blocks.length, s.key).toBeLessThanOrEqual(100);
    const text = (prefix: string) => bodyText(sections.filter((s) => s.key.split(":")[0] === prefix).flatMap((s) => s.blocks));
    expect(text("summary")).toBe(`Summary${huge}second point`);
    expect(text("next-steps")).toBe(`Next steps${huge}`);
    expect(text("voicemail-transcript")).toBe(`Voicemail transcript${huge}`);
  });

  it("a transcript turn of any length is spread over blocks, all of it kept", () => {
    const dialogue = [
      { start: 1, end: 2, content: huge, identifier: "+12125550101", userId: null },
      { start: 3, end: 4, content: "bye", identifier: "+12125550101", userId: null },
    ];
    const state = mergeCall(emptyCall("ACcut4"), { transcript: { status: "completed", dialogue } }, { id: "EV1", at: 1 });
    const sections = buildCallBody(state, ctx).filter((s) => s.key.startsWith("transcript"));
    expect(sections.length).toBeGreaterThan(1);
    for (const s of sections) expect(s.blocks.length).toBeLessThanOrEqual(100);
    const blocks = sections.flatMap((s) => s.blocks);
    for (const b of blocks.slice(1)) expect(new TextEncoder().encode(JSON.stringify(b)).byteLength).toBeLessThan(4_500);
    expect(bodyText(blocks)).toBe(`Transcript[00:01] +12125550101: ${huge}[00:03] +12125550101: bye`);
  });
});
