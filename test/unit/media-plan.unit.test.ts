import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { verifyMediaSignature } from "../../src/media/links";
import { linkMediaItems, mediaMetadata, planCallMedia, planMessageMedia } from "../../src/media/plan";
import type { CallRecording } from "../../src/openphone/client";

const call = { id: "ACplan01", createdAt: "2026-01-02T23:30:00Z" };

function segment(id: string, status: CallRecording["status"], url: string | null, type: string | null = "audio/mpeg"): CallRecording {
  return { id, status, url, type, duration: 30, startTime: null };
}

describe("planCallMedia", () => {
  it("plans every finished segment, oldest first, and the voicemail, under date-partitioned keys", () => {
    const items = planCallMedia(
      call,
      [
        segment("CR1", "completed", "https://storage.example.com/a.mp3"),
        segment("CR2", "paused", "https://storage.example.com/b.wav", "audio/wav"),
        segment("CR3", "in-progress", "https://storage.example.com/c.mp3"),
        segment("CR4", "completed", null),
        segment("CR5", "deleted", "https://storage.example.com/e.mp3"),
      ],
      { id: "VM1", status: "completed", duration: 8, transcript: null, recordingUrl: "https://storage.example.com/vm.mp3?token=abc" },
    );
    expect(items.map((i) => [i.kind, i.key, i.contentType])).toEqual([
      ["recording", "recordings/2026/01/02/ACplan01/CR1.mp3", "audio/mpeg"],
      ["recording", "recordings/2026/01/02/ACplan01/CR2.wav", "audio/wav"],
      ["voicemail", "voicemails/2026/01/02/ACplan01.mp3", "audio/mpeg"],
    ]);
    expect(mediaMetadata(items[2]!)).toEqual({ kind: "voicemail", callId: "ACplan01", voicemailId: "VM1", durationSeconds: "8", source: "https://storage.example.com/vm.mp3" });
  });

  it("plans nothing for a call without media, and skips a voicemail still processing", () => {
    expect(planCallMedia(call, [], null)).toEqual([]);
    expect(planCallMedia(call, null, { id: "VM2", status: "in-progress", duration: null, transcript: null, recordingUrl: null })).toEqual([]);
  });

  it("gives the same keys when planned twice, so links never change", () => {
    const recordings = [segment("CR1", "completed", "https://storage.example.com/a.mp3?v=1")];
    const again = [segment("CR1", "completed", "https://storage.example.com/a.mp3?v=2")];
    expect(planCallMedia(call, recordings, null)[0]!.key).toBe(planCallMedia(call, again, null)[0]!.key);
  });
});

describe("planMessageMedia", () => {
  it("numbers MMS attachments and takes the type from the payload or the file name", () => {
    const items = planMessageMedia({
      id: "ACmsg01",
      createdAt: "2026-02-03T04:05:06Z",
      media: [{ url: "https://m.example.com/x.jpg", type: "image/jpeg" }, { url: null }, { url: "https://m.example.com/y.png", type: null }],
    });
    expect(items.map((i) => [i.key, i.contentType, i.mediaId])).toEqual([
      ["media/2026/02/03/ACmsg01/0.jpg", "image/jpeg", "0"],
      ["media/2026/02/03/ACmsg01/2.png", "image/png", "2"],
    ]);
    expect(mediaMetadata(items[0]!)).toMatchObject({ kind: "mms", messageId: "ACmsg01", attachment: "0" });
    expect(planMessageMedia({ id: "ACmsg02" })).toEqual([]);
  });
});

describe("linkMediaItems", () => {
  const items = planCallMedia(call, [segment("CR1", "completed", "https://storage.example.com/a.mp3")], null);

  it("signs a Worker link that verifies for its key only", async () => {
    const { config } = loadConfig({ MEDIA_SIGNING_KEYS: "unit-test-signing-key-0001" });
    const [linked] = await linkMediaItems(config, "https://sync.example.com/", items);
    const url = new URL(linked!.url);
    expect(url.pathname).toBe("/media/recordings/2026/01/02/ACplan01/CR1.mp3");
    expect(await verifyMediaSignature(config, items[0]!.key, url.searchParams.get("sig"), null)).toBe(true);
    expect(await verifyMediaSignature(config, "recordings/2026/01/02/ACplan01/CR2.mp3", url.searchParams.get("sig"), null)).toBe(false);
  });

  it("uses MEDIA_PUBLIC_BASE_URL when the bucket has its own domain", async () => {
    const { config } = loadConfig({ MEDIA_PUBLIC_BASE_URL: "https://media.example.com/" });
    const [linked] = await linkMediaItems(config, "https://sync.example.com", items);
    expect(linked!.url).toBe("https://media.example.com/recordings/2026/01/02/ACplan01/CR1.mp3");
  });
});
