import { describe, expect, it } from "vitest";
import { emptyCall, emptyMessage, mergeCall, mergeMessage, messageParticipants } from "../../src/line/state";
import { buildCallBody, buildMessageBody, chunkBlocks, diffProperties, mapCallToProperties, mapMessageToProperties, richText, transcriptBlocks } from "../../src/notion/mapping";
import { propertyFromNotionMessage } from "../../src/notion/errors";
import { CALL_PROPERTIES, MESSAGE_PROPERTIES, resolvePropertyNames } from "../../src/notion/schema";

const callNames = resolvePropertyNames("calls", {});
const completedCall = mergeCall(
  emptyCall("AC1"),
  {
    lineId: "PN1",
    direction: "incoming",
    status: "completed",
    participants: ["+12125550101"],
    answeredBy: "US1",
    createdAt: "2026-01-01T10:00:00Z",
    answeredAt: "2026-01-01T10:00:05Z",
    completedAt: "2026-01-01T10:03:00Z",
    duration: 175,
    recordings: [{ id: "CR1", url: "https://op.example/r.mp3", type: "audio/mpeg", duration: 170 }],
    transcript: { status: "completed", dialogue: [{ start: 1, end: 3, content: "Hello", identifier: "+12125550101", userId: null }, { start: 65, end: 70, content: "Hi Ada", identifier: null, userId: "US1" }] },
    summary: { status: "completed", summary: ["Discussed the quote."], nextSteps: ["Send the contract", "Call back Friday"] },
  },
  { id: "EV1", at: 1 },
);
const ctx = { names: callNames, lineLabel: "Sales (+13055550100)", lineNumber: "+13055550100", userNames: { US1: "Maya Rossi" }, canvasPageId: "canvas-page-1", recordingLinks: { CR1: "https://sync.example/media/r.mp3?sig=x" } };

describe("mapCallToProperties", () => {
  it("fills every Calls property from a complete call", () => {
    const props = mapCallToProperties(completedCall, ctx);
    // Contact is for callers no customer matches; this one is a customer (the Canvas relation is set).
    for (const spec of CALL_PROPERTIES) if (spec.name !== "Synced At" && spec.name !== "Contact" && !spec.name.startsWith("Voicemail")) expect(props, spec.name).toHaveProperty([spec.name]);
    expect(props["Contact"]).toBeUndefined();
    const unknown = mapCallToProperties(completedCall, { ...ctx, canvasPageId: null, participantName: "Hana Rossi", contactLabel: "Hana Rossi (Rossi Design)" });
    expect(unknown["Contact"]).toEqual({ rich_text: richText("Hana Rossi (Rossi Design)") });
    expect(unknown["Canvas"]).toBeUndefined();
    expect(props["Name"]).toEqual({ title: richText("Incoming call from +12125550101 · 2m 55s") });
    expect(props["User"]).toEqual({ rich_text: richText("Maya Rossi") });
    expect(props["Canvas"]).toEqual({ relation: [{ id: "canvas-page-1" }] });
    expect(props["Recording"]).toEqual({ url: "https://sync.example/media/r.mp3?sig=x" });
    expect(props["Next Steps"]).toEqual({ rich_text: richText("Send the contract\nCall back Friday") });
  });

  it("names the customer instead of the number when Canvas knows them, in the title and the transcript", () => {
    const named = { ...ctx, participantName: "Ada Brennan" };
    expect(mapCallToProperties(completedCall, named)["Name"]).toEqual({ title: richText("Incoming call from Ada Brennan · 2m 55s") });
    const lines = JSON.stringify(transcriptBlocks(completedCall.transcript!.dialogue, named, "+12125550101"));
    expect(lines).toContain("[00:01] Ada Brennan: Hello");
    expect(lines).toContain("[01:05] Maya Rossi: Hi Ada");
  });

  it("names a missed call and uses remapped property names", () => {
    const missed = mergeCall(emptyCall("AC2"), { direction: "incoming", status: "missed", answeredAt: null, participants: ["+12125550101"] }, { id: "EV", at: 1 });
    const names = resolvePropertyNames("calls", { "Calls.Status": "Call status", Name: "Title" });
    const props = mapCallToProperties(missed, { ...ctx, names, recordingLinks: {} });
    expect(props["Title"]).toEqual({ title: richText("Missed call from +12125550101") });
    expect(props["Call status"]).toEqual({ select: { name: "missed" } });
    expect(props).not.toHaveProperty("Recording");
  });
});

describe("buildCallBody", () => {
  it("holds summary, next steps as to-dos, the audio block and the timestamped transcript", () => {
    const sections = buildCallBody(completedCall, ctx);
    expect(sections.map((s) => s.key)).toEqual(["summary", "next-steps", "recording:CR1", "transcript"]);
    const todos = sections[1]!.blocks.filter((b) => b.type === "to_do");
    expect(todos).toHaveLength(2);
    expect(sections[2]!.blocks[0]).toMatchObject({ type: "audio", audio: { external: { url: "https://sync.example/media/r.mp3?sig=x" } } });
    const text = JSON.stringify(sections[3]!.blocks);
    expect(text).toContain("[00:01] +12125550101: Hello");
    expect(text).toContain("[01:05] Maya Rossi: Hi Ada");
  });

  it("keeps every rich text item within 2000 characters and appends in chunks of 100", () => {
    const dialogue = Array.from({ length: 400 }, (_, i) => ({ start: i * 10, end: null, content: "word ".repeat(i % 7 === 0 ? 900 : 40), identifier: "+12125550101", userId: null }));
    const blocks = transcriptBlocks(dialogue, ctx);
    for (const block of blocks) {
      for (const item of (block as unknown as { paragraph: { rich_text: { text: { content: string } }[] } }).paragraph.rich_text) expect(item.text.content.length).toBeLessThanOrEqual(2000);
    }
    const joined = blocks.map((b) => (b as unknown as { paragraph: { rich_text: { text: { content: string } }[] } }).paragraph.rich_text.map((r) => r.text.content).join("")).join("\n");
    expect(joined.split("\n").filter((l) => l.startsWith("["))).toHaveLength(400);
    expect(chunkBlocks(blocks).every((c) => c.length <= 100)).toBe(true);
  });
});

describe("mapMessageToProperties", () => {
  it("fills every Messages property", () => {
    const message = mergeMessage(emptyMessage("AC9"), { direction: "outgoing", status: "delivered", from: "+13055550100", to: ["+12125550101", "+14155550102"], text: "See you at 3", createdAt: "2026-01-01T11:00:00Z", userId: "US1", lineId: "PN1", media: [{ url: "https://op.example/m.jpg", type: "image/jpeg" }] }, { id: "EV", at: 1 });
    const props = mapMessageToProperties(message, { names: resolvePropertyNames("messages", {}), lineLabel: "Sales", lineNumber: "+13055550100", userNames: { US1: "Maya Rossi" }, canvasPageId: "c1", mediaLinks: ["https://sync.example/media/m.jpg"] });
    for (const spec of MESSAGE_PROPERTIES) if (spec.name !== "Synced At" && spec.name !== "Contact") expect(props, spec.name).toHaveProperty([spec.name]);
    expect(props["Participant"]).toEqual({ phone_number: "+12125550101" });
    expect(props["To"]).toEqual({ rich_text: richText("+12125550101, +14155550102") });
  });

  it("links a group text to every participant who is a customer, the main one first, each once", () => {
    const message = mergeMessage(emptyMessage("AC10"), { direction: "incoming", from: "+14165552250", to: ["+13055550100", "+16045551478", "+17025550199"], text: "Both of us", lineId: "PN1" }, { id: "EV", at: 1 });
    expect(messageParticipants(message, "+13055550100")).toEqual(["+14165552250", "+16045551478", "+17025550199"]);
    const props = mapMessageToProperties(message, { names: resolvePropertyNames("messages", {}), lineNumber: "+13055550100", userNames: {}, canvasPageId: "ada", canvasPageIds: ["ada", "ben"], mediaLinks: [] });
    expect(props["Canvas"]).toEqual({ relation: [{ id: "ada" }, { id: "ben" }] });
    expect(props["To"]).toEqual({ rich_text: richText("+13055550100, +16045551478, +17025550199") });
  });
});

describe("diffProperties and Notion messages", () => {
  it("sends only what changed", () => {
    expect(diffProperties({ A: { number: 1 }, B: { number: 2 } }, { A: { number: 1 }, B: { number: 3 } })).toEqual({ B: { number: 2 } });
  });

  it("finds the property Notion names", () => {
    expect(propertyFromNotionMessage("Call ID is not a property that exists.")).toBe("Call ID");
    expect(propertyFromNotionMessage("body failed validation: body.properties.Status.select.name should be a string")).toBe("Status");
    expect(propertyFromNotionMessage("Duration is expected to be number.")).toBe("Duration");
  });
});

describe("a text's title and attachments", () => {
  const names = resolvePropertyNames("messages", {});
  const title = (props: Record<string, unknown>) => ((props["Name"] as { title: { text: { content: string } }[] }).title.map((t) => t.text.content).join(""));

  it("says who and which way, then the start of the text", () => {
    const incoming = mergeMessage(emptyMessage("AC10"), { direction: "incoming", from: "+12125550101", to: ["+13055550100"], text: "Can we move the appointment to Thursday afternoon, around three or four, if that works for you?" }, { id: "EV", at: 1 });
    const props = mapMessageToProperties(incoming, { names, lineNumber: "+13055550100", userNames: {}, mediaLinks: [], participantName: "Ada Petrov" });
    expect(title(props)).toBe("Text from Ada Petrov: Can we move the appointment to Thursday afternoon, around t…");
    const outgoing = mergeMessage(emptyMessage("AC11"), { direction: "outgoing", from: "+13055550100", to: ["+12125550101"], text: "On my way" }, { id: "EV", at: 1 });
    expect(title(mapMessageToProperties(outgoing, { names, lineNumber: "+13055550100", userNames: {}, mediaLinks: [] }))).toBe("Text to +12125550101: On my way");
  });

  it("shows pictures as image blocks and other files as audio or file blocks, in the text's order", () => {
    const media = [{ url: "https://op.example/a.png", type: "image/png" }, { url: "https://op.example/b.pdf", type: "application/pdf" }, { url: "https://op.example/c.mp3", type: "audio/mpeg" }];
    const message = mergeMessage(emptyMessage("AC12"), { direction: "incoming", from: "+12125550101", text: "", media }, { id: "EV", at: 1 });
    const links = ["https://sync.example/media/0.png?sig=a", "https://sync.example/media/1.pdf?sig=b", undefined];
    const sections = buildMessageBody(message, links);
    expect(sections.map((s) => s.key)).toEqual(["attachment:0", "attachment:1"]);
    expect(sections[0]!.blocks[0]).toMatchObject({ type: "image", image: { external: { url: links[0] } } });
    expect(sections[1]!.blocks[0]).toMatchObject({ type: "file", file: { external: { url: links[1] }, name: "Attachment 2.pdf" } });
    expect(buildMessageBody(message, ["x", "y", "https://sync.example/media/2.mp3"])[2]!.blocks[0]!.type).toBe("audio");
    expect(title(mapMessageToProperties(message, { names, userNames: {}, mediaLinks: [] }))).toBe("3 files from +12125550101");
  });
});
