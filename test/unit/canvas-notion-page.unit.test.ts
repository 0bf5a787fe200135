import { describe, expect, it } from "vitest";
import { readCanvasPage, readMailAddresses, type NotionPageLike } from "../../src/canvas/notion-page";

const rich = (content: string) => ({ type: "rich_text", rich_text: [{ type: "text", plain_text: content, text: { content } }] });
const settings = { phoneProperties: ["Phone", "Other phones"], emailProperties: ["Email"], defaultRegion: "US" };

function canvasPage(properties: NotionPageLike["properties"], extra: Partial<NotionPageLike> = {}): NotionPageLike {
  return { id: "page-1", last_edited_time: "2026-01-05T09:00:00.000Z", properties, ...extra };
}

describe("readCanvasPage", () => {
  it("indexes every number and address of the configured properties, once each", () => {
    const record = readCanvasPage(
      canvasPage({
        Name: { type: "title", title: [{ plain_text: "Ada Abbott" }] },
        Phone: { type: "phone_number", phone_number: "(555) 123-4567" },
        "Other phones": rich("cell +44 20 7946 0958; office 555.123.4567 x12"),
        Email: { type: "email", email: " Ada@Example.com " },
      }),
      settings,
    );
    expect(record.title).toBe("Ada Abbott");
    expect(record.entries.map((e) => e.key)).toEqual(["phone:+15551234567", "phone:+442079460958", "email:ada@example.com"]);
    expect(record.entries[1]).toEqual({ key: "phone:+442079460958", property: "Other phones", raw: "cell +44 20 7946 0958; office 555.123.4567 x12" });
    expect(record.unparsed).toEqual([]);
    expect(record.removed).toBe(false);
  });

  it("keeps what it cannot read for the user to see", () => {
    const record = readCanvasPage(canvasPage({ Phone: { type: "phone_number", phone_number: "ask at reception" }, "Other phones": rich(""), Email: { type: "email", email: null } }), settings);
    expect(record.entries).toEqual([]);
    expect(record.unparsed).toEqual([{ property: "Phone", raw: "ask at reception" }]);
  });

  it("names configured properties the page does not have, or that hold no text", () => {
    const record = readCanvasPage(canvasPage({ Phone: { type: "number", number: 5 }, Email: { type: "email", email: null } }), settings);
    expect(record.missingProperties).toEqual(["Phone", "Other phones"]);
  });

  it("uses every phone and email property when none is configured", () => {
    const record = readCanvasPage(
      canvasPage({ Mobile: { type: "phone_number", phone_number: "+1 555 987 6543" }, Mail: { type: "email", email: "b@example.com" }, Notes: rich("555-111-2222") }),
      { phoneProperties: [], emailProperties: [], defaultRegion: "US" },
    );
    expect(record.entries.map((e) => e.key)).toEqual(["phone:+15559876543", "email:b@example.com"]);
  });

  it("drops pages in the trash", () => {
    const record = readCanvasPage(canvasPage({ Phone: { type: "phone_number", phone_number: "555-123-4567" } }, { in_trash: true }), settings);
    expect(record.removed).toBe(true);
    expect(record.entries).toEqual([]);
  });
});

describe("readMailAddresses", () => {
  it("reads senders and recipients with display names and several addresses per property", () => {
    const page: NotionPageLike = {
      id: "mail-1",
      properties: {
        From: { type: "email", email: "Ann@Example.com" },
        To: rich('team@company.example, "Lee, Bob" <BOB@example.com>'),
      },
    };
    expect(readMailAddresses(page, ["From", "To"])).toEqual({ addresses: ["ann@example.com", "team@company.example", "bob@example.com"], missingProperties: [] });
    expect(readMailAddresses(page, ["Cc"]).missingProperties).toEqual(["Cc"]);
  });
});
