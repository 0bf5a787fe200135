import { APIErrorCode, APIResponseError, type Client } from "@notionhq/client";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { flushResource, type FlushDeps } from "../../src/line/flush";
import { newRecord } from "../../src/line/schedule";
import type { MessageState } from "../../src/line/state";
import type { ResourceRecord } from "../../src/line/storage";
import { resolvePropertyNames } from "../../src/notion/schema";
import type { OpenPhoneClient } from "../../src/openphone/client";

const NOW = Date.UTC(2026, 2, 2, 12, 0, 0);
const config = loadConfig({ PUBLIC_BASE_URL: "https://sync.example.com", MEDIA_SIGNING_KEYS: "flush-test-signing-key" }).config;

const text: MessageState = {
  kind: "message",
  id: "ACmsg1",
  stamps: {},
  lineId: "PN1",
  direction: "incoming",
  status: "received",
  from: "+12125550101",
  to: ["+13055550100"],
  text: "Can you send the quote?",
  createdAt: "2026-03-02T11:59:00.000Z",
  media: [{ url: "https://storage.example.com/photo.png", type: "image/png" }],
};

/** The Notion requests the flush makes, with what Notion answers. */
function fakeNotion(answer: { create?: () => unknown } = {}) {
  const requests: { op: string; args: Record<string, unknown> }[] = [];
  const notion = {
    pages: {
      create: async (args: Record<string, unknown>) => (requests.push({ op: "pages.create", args }), answer.create ? answer.create() : { id: "page-new" }),
      update: async (args: Record<string, unknown>) => (requests.push({ op: "pages.update", args }), { id: args.page_id }),
    },
    blocks: { children: { append: async (args: Record<string, unknown>) => (requests.push({ op: "blocks.append", args }), { results: [] }) } },
  };
  return { notion: notion as unknown as Client, requests };
}

/** Every seam of the flush, faked: no OpenPhone request may be made for a text. */
function deps(notion: Client, claims: string[] = []): FlushDeps {
  return {
    config,
    notion,
    openphone: { request: () => Promise.reject(new Error("no OpenPhone request expected")) } as unknown as OpenPhoneClient,
    parent: async () => ({ type: "data_source_id", data_source_id: "ds-messages" }),
    names: (kind) => resolvePropertyNames(kind, {}),
    userNames: async () => ({}),
    line: async () => ({ label: "Sales", number: "+13055550100" }),
    canvasPageId: "canvas-ada",
    canvasTitle: "Ada Lovelace",
    claim: async (resourceId) => void claims.push(resourceId),
    now: () => NOW,
  };
}

const record = (extra: Partial<ResourceRecord> = {}): ResourceRecord => ({ ...newRecord("ACmsg1", "message", text, NOW - 60_000), ...extra });

describe("flushResource", () => {
  it("claims the create before asking Notion, creates the page once, and plans the copy of the attachment it links", async () => {
    const { notion, requests } = fakeNotion();
    const claims: string[] = [];
    const result = await flushResource(record(), deps(notion, claims));
    expect(result).toMatchObject({ outcome: "created", pageId: "page-new", claimSettled: true, duplicatePrevented: false });
    expect(claims).toEqual(["ACmsg1"]);
    expect(requests.map((r) => r.op)).toEqual(["pages.create"]);
    const create = requests[0]!.args as { parent: unknown; properties: Record<string, unknown> };
    expect(create.parent).toEqual({ type: "data_source_id", data_source_id: "ds-messages" });
    expect(JSON.stringify(create.properties)).toContain("Can you send the quote?");
    expect(JSON.stringify(create.properties)).toContain("canvas-ada");
    expect(result.mediaCopies).toEqual([expect.objectContaining({ kind: "mms", key: "media/2026/03/02/ACmsg1/0.png", resourceId: "ACmsg1", mediaId: "0" })]);
    expect(result.links["media/2026/03/02/ACmsg1/0.png"]).toMatch(/^https:\/\/sync\.example\.com\/media\/media\/2026\/03\/02\/ACmsg1\/0\.png\?sig=/);
  });

  it("writes nothing when the page already holds what the flush would write", async () => {
    const first = await flushResource(record(), deps(fakeNotion().notion));
    const { notion, requests } = fakeNotion();
    const again = await flushResource(record({ pageId: first.pageId, claim: null, writtenProps: first.writtenProps, bodySections: first.bodySections, links: first.links }), deps(notion));
    expect(again.outcome).toBe("unchanged");
    expect(requests).toEqual([]);
  });

  it("fails for good, naming Notion's message, when Notion refuses the page as invalid", async () => {
    const refusal = new APIResponseError({ code: APIErrorCode.ValidationError, status: 400, message: "Channel is not a property that exists.", headers: new Headers(), rawBodyText: "{}" } as unknown as ConstructorParameters<typeof APIResponseError>[0]);
    const { notion } = fakeNotion({
      create: () => {
        throw refusal;
      },
    });
    const result = await flushResource(record(), deps(notion));
    expect(result).toMatchObject({ outcome: "failed", pageId: null });
    expect("message" in result && result.message).toContain("Channel is not a property that exists.");
  });
});
