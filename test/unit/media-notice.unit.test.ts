import { describe, expect, it } from "vitest";
import { mediaLabel } from "../../src/media/line-media";
import { emptyCall, emptyMessage, mergeCall } from "../../src/line/state";
import { mediaNoticeBlock, mediaNoticeText } from "../../src/media/notice";

describe("the page's note about media that could not be copied", () => {
  it("is absent when every file is stored", () => {
    expect(mediaNoticeText([])).toBeNull();
  });

  it("names each missing file as the page does, with the reason, and says the sync tries again", () => {
    const text = mediaNoticeText([
      { label: "Recording 2", reason: "source answered 404 Not Found, also at the fresh URL OpenPhone listed", retrying: true },
      { label: "Voicemail", reason: "source answered 403 Forbidden.", retrying: true },
    ])!;
    expect(text.split("\n")).toEqual([
      "Recording 2 is unavailable: it could not be copied from OpenPhone (source answered 404 Not Found, also at the fresh URL OpenPhone listed).",
      "Voicemail is unavailable: it could not be copied from OpenPhone (source answered 403 Forbidden).",
      "The sync tries again automatically; this note disappears once the files are stored, and their links then play.",
    ]);
    expect(mediaNoticeBlock(text)).toMatchObject({ type: "callout", callout: { rich_text: [{ text: { content: text } }], icon: { emoji: "⚠️" } } });
  });

  it("says so once the sync has stopped retrying, and how an operator tries again", () => {
    expect(mediaNoticeText([{ label: "Recording", reason: "source answered 404 Not Found", retrying: false }])!.split("\n")).toEqual([
      "Recording is unavailable: it could not be copied from OpenPhone (source answered 404 Not Found). The sync has stopped retrying it.",
      'An operator can try again with POST /admin/media/retry {"all": true}; this note disappears once the file is stored.',
    ]);
    // While any file is still retried, the note says the sync tries again.
    const mixed = mediaNoticeText([
      { label: "Recording 1", reason: "source answered 404 Not Found", retrying: false },
      { label: "Recording 2", reason: "source answered 503 Service Unavailable", retrying: true },
    ])!.split("\n");
    expect(mixed[0]).toMatch(/stopped retrying it\.$/);
    expect(mixed[1]).not.toMatch(/stopped retrying/);
    expect(mixed[2]).toMatch(/^The sync tries again automatically/);
  });

  it("labels recordings by their position on the page, the voicemail and MMS media as the page does", () => {
    const recording = (id: string) => ({ id, url: `https://files.example/${id}.mp3`, type: "audio/mpeg", duration: 10 });
    const twoSegments = mergeCall(emptyCall("AC1"), { recordings: [recording("CRa"), recording("CRb")] }, { id: "e1", at: 1 });
    const oneSegment = mergeCall(emptyCall("AC2"), { recordings: [recording("CRa")] }, { id: "e1", at: 1 });
    expect(mediaLabel(twoSegments, { kind: "recording", mediaId: "CRb" })).toBe("Recording 2");
    expect(mediaLabel(oneSegment, { kind: "recording", mediaId: "CRa" })).toBe("Recording");
    expect(mediaLabel(twoSegments, { kind: "voicemail", mediaId: "VM1" })).toBe("Voicemail");
    expect(mediaLabel(emptyMessage("AC3"), { kind: "mms", mediaId: "1" })).toBe("Media 2");
  });
});
