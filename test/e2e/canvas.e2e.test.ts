/**
 * Canvas matching and Mail linking against the Notion emulator's demo Canvas and Mail, with the product's code in
 * workerd. Request counts come from the emulator's `/_emulator/stats`; the figures are printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateRoster, SANDBOX_ROSTER_SIZE, SANDBOX_SEED } from "../../emulators/shared/roster.ts";
import { startCanvasSandbox, type CanvasSandbox } from "./canvas-sandbox.ts";

interface DumpPage {
  id: string;
  parent: { data_source_id?: string };
  in_trash?: boolean;
  properties: Record<string, { type: string; [k: string]: unknown }>;
}

const roster = generateRoster(SANDBOX_SEED, SANDBOX_ROSTER_SIZE);
const OUR_LINE = "+12125550100";
let sandbox: CanvasSandbox;
/** Roster e-mail (lower case) → its Canvas page. */
let pageByEmail: Map<string, string>;

const EXTRA_CUSTOMERS = 100;
const extraPages: { id: string; phone: string }[] = [];
const extraNumber = (i: number) => `+1303555${String(1000 + i).padStart(4, "0")}`;
const extraNumberTyped = (i: number) => [`(303) 555-${1000 + i}`, `303.555.${1000 + i}`, `+1 303 555 ${1000 + i}`, `303-555-${1000 + i} x7`][i % 4]!;

const text = (content: string) => [{ type: "text" as const, text: { content } }];

async function dumpPages(dataSourceId: string): Promise<DumpPage[]> {
  const dump = (await (await fetch(`${sandbox.notion.url}/_emulator/dump`)).json()) as { pages: DumpPage[] };
  return dump.pages.filter((p) => p.parent.data_source_id === dataSourceId && !p.in_trash);
}

/** What a line's flush asks: `seenAt` is when its calls and texts reached the Worker. */
async function match(keys: string[], line = "PNtest", seenAt?: number): Promise<Record<string, string | null>> {
  return sandbox.call("/match", { line, keys, seenAt });
}

async function spent<T>(work: () => Promise<T>): Promise<{ result: T; requests: number }> {
  const before = await sandbox.notionRequests();
  const result = await work();
  return { result, requests: (await sandbox.notionRequests()) - before };
}

/** Every counter the Worker keeps, summed over every hour (`readMetrics`); the dashboard's hit ratio reads `canvas.lookup.*`. */
const counters = () => sandbox.call<Record<string, number>>("/metrics");

function unknownNumbers(count: number): string[] {
  const known = new Set(roster.flatMap((p) => [p.phone, p.secondPhone].filter(Boolean)));
  const numbers: string[] = [];
  for (let i = 0; numbers.length < count; i++) {
    const n = `+1907555${String(1000 + i).padStart(4, "0")}`;
    if (!known.has(n)) numbers.push(n);
  }
  return numbers;
}

beforeAll(async () => {
  sandbox = await startCanvasSandbox({ CANVAS_REFRESH_OVERLAP_SECONDS: "1" });
  // 100 more customers than the demo's, so the Canvas spans two query pages as a real one would. They stand for
  // people typing in Notion, which spends none of the integration's budget: written with the emulator's rate limit
  // lifted. (Written within it, they left the token's bucket empty and the build's first query answered 429.)
  const limit = await sandbox.notionRateLimit();
  await sandbox.setNotionRateLimit({ perSecond: 100_000, burst: 100_000 });
  for (let i = 0; i < EXTRA_CUSTOMERS; i++) {
    const page = await sandbox.sdk.pages.create({
      parent: { type: "data_source_id", data_source_id: sandbox.notion.demo!.canvas.dataSourceId },
      properties: { Name: { title: text(`Extra Customer ${i}`) }, Phone: { phone_number: extraNumberTyped(i) } },
    });
    extraPages.push({ id: page.id, phone: extraNumber(i) });
  }
  await sandbox.setNotionRateLimit(limit);
  await sandbox.db.prepare("INSERT INTO lines (phone_number_id, number, name, updated_at) VALUES ('PNtest', ?1, 'Main line', 0)").bind(OUR_LINE).run();
  const canvas = await dumpPages(sandbox.notion.demo!.canvas.dataSourceId);
  pageByEmail = new Map(canvas.filter((p) => p.properties.Email?.email).map((p) => [String(p.properties.Email!.email).toLowerCase(), p.id]));
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
});

describe("Canvas index", () => {
  it("is built by paging through the whole Canvas, 100 pages per request", async () => {
    const { result, requests } = await spent(() => sandbox.call<{ mode: string; pagesRead: number; notionRequests: number }>("/refresh", { mode: "full" }));
    const stats = await sandbox.call<{ pages: number; keys: number; unparsed: number }>("/stats");
    console.log(`full build: ${result.pagesRead} Canvas pages, ${stats.keys} keys, ${stats.unparsed} unreadable values, ${requests} Notion requests (1 data source lookup + ${result.notionRequests} queries)`);
    expect(result.mode).toBe("full");
    expect(stats.pages).toBe(pageByEmail.size + EXTRA_CUSTOMERS);
    expect(result.notionRequests).toBe(Math.ceil(result.pagesRead / 100));
    expect(requests).toBe(result.notionRequests + 1);
  });

  it("matches every participant that has a customer, however the number was typed, and no other", async () => {
    const expected: Record<string, string | null> = {};
    for (const person of roster) {
      const page = pageByEmail.get(person.email) ?? null;
      expected[person.phone] = page;
      if (person.secondPhone) expected[person.secondPhone] = page;
      expected[person.email] = page;
    }
    for (const [i, page] of extraPages.entries()) expected[extraNumberTyped(i)] = page.id;
    for (const n of unknownNumbers(5)) expected[n] = null;
    const got = await match(Object.keys(expected), "PNcheck");
    expect(got).toEqual(expected);
    const linked = Object.values(got).filter(Boolean).length;
    const international = roster.filter((p) => !p.phone.startsWith("+1") && pageByEmail.has(p.email)).length;
    console.log(`matched ${linked} of ${Object.keys(expected).length} participants (${international} international customers); the rest have no Canvas page`);
    expect(international).toBeGreaterThan(0);
  });

  it("never matches the workspace's own numbers, even when a Canvas page lists one", async () => {
    await sandbox.sdk.pages.create({
      parent: { type: "data_source_id", data_source_id: sandbox.notion.demo!.canvas.dataSourceId },
      properties: { Name: { title: text("Front desk") }, Phone: { phone_number: "(212) 555-0100" } },
    });
    await sandbox.call("/refresh", { mode: "incremental" });
    expect(await match([OUR_LINE, "+1 212 555 0100"], "PNown")).toEqual({ [OUR_LINE]: null, "+1 212 555 0100": null });
  });
  it("refreshes after 3 edits with 1 request, not a full scan", async () => {
    // Notion gives last_edited_time to the minute: let the minute of the earlier edits pass, mark the new minute
    // with one edit and refresh, so the watermark sits past the bulk of the Canvas.
    const minute = 60_000;
    await new Promise((resolve) => setTimeout(resolve, minute - (Date.now() % minute) + 1500));
    const [marker, ...edited] = extraPages.slice(10, 14).map((p) => p.id);
    await sandbox.sdk.pages.update({ page_id: marker!, properties: { Name: { title: text("Extra Customer (renamed)") } } });
    await sandbox.call("/refresh", { mode: "incremental" });
    for (const [i, id] of edited.entries()) await sandbox.sdk.pages.update({ page_id: id, properties: { Name: { title: text(`Edited customer ${i}`) } } });
    const stats = await sandbox.call<{ pages: number }>("/stats");
    const { result, requests } = await spent(() => sandbox.call<{ mode: string; pagesRead: number; pagesChanged: number }>("/refresh", { mode: "incremental" }));
    console.log(`incremental refresh after 3 edits: ${requests} Notion request, ${result.pagesRead} pages read (${result.pagesChanged} changed) of ${stats.pages} in the index; a full scan costs ${Math.ceil(stats.pages / 100)}`);
    expect(result.mode).toBe("incremental");
    expect(requests).toBe(1);
    expect(result.pagesChanged).toBe(3);
    expect(result.pagesRead).toBeLessThan(10);
  }, 120_000);
});

describe("lookups", () => {
  it("costs no Notion request for 200 calls from 40 known customers once the index is warm", async () => {
    // The demo's 35 roster customers and 5 more: 40 customers, each with a page.
    const customers = [...roster.filter((p) => pageByEmail.has(p.email)).map((p) => p.phone), ...extraPages.slice(0, 5).map((p) => p.phone)];
    expect(customers).toHaveLength(40);
    const participants = Array.from({ length: 200 }, (_, i) => customers[i % customers.length]!);
    const { result, requests } = await spent(async () => {
      const answers: (string | null)[] = [];
      // One lookup per call, four lines at a time, as Line Durable Objects flush.
      for (let i = 0; i < participants.length; i += 4) {
        const batch = await Promise.all(participants.slice(i, i + 4).map((p, j) => match([p], `PNwarm${j}`).then((r) => r[p] ?? null)));
        answers.push(...batch);
      }
      return answers;
    });
    console.log(`200 calls from ${new Set(participants).size} known customers: ${requests} Notion requests, ${result.filter(Boolean).length} linked`);
    expect(result.every((id) => id !== null)).toBe(true);
    expect(requests).toBe(0);
  });

  it("costs 1 Notion request for a burst of 200 unknown numbers, however far apart the lines ask", async () => {
    const numbers = unknownNumbers(205).slice(5);
    const seenAt = Date.now();
    // Eight lines flush their texts: four at once, the other four after the first refresh has finished.
    const burst = (from: number) => Promise.all(numbers.filter((_, i) => i % 8 >= from && i % 8 < from + 4).map((n, i) => match([n], `PNburst${(i % 4) + from}`, seenAt)));
    const { result, requests } = await spent(async () => [...(await burst(0)), ...(await burst(4))]);
    console.log(`200 unknown numbers in a burst over 8 lines: ${requests} Notion requests`);
    expect(result).toHaveLength(200);
    expect(result.every((r) => Object.values(r)[0] === null)).toBe(true);
    expect(requests).toBe(1);
    const again = await spent(() => match(numbers.slice(0, 50), "PNlater"));
    console.log(`the same 50 unknown numbers again (negative cache): ${again.requests} Notion requests`);
    expect(again.requests).toBe(0);
  });

  it("answers history's unknown numbers from its recent refresh at no Notion request, and the dashboard counts them as hits", async () => {
    const numbers = unknownNumbers(260).slice(210);
    const history = (keys: string[]) => sandbox.call<Record<string, string | null>>("/match", { line: "PNhistory", keys, acceptRefreshWithinMs: 5 * 60_000 });
    const first = await spent(() => history(numbers.slice(0, 25)));
    expect(Object.values(first.result).every((id) => id === null)).toBe(true);
    // Unknown to the index: a refresh (its incremental query, or the build when this test runs alone).
    expect(first.requests).toBeGreaterThan(0);
    const before = await counters();
    const rest = await spent(() => history(numbers.slice(25)));
    const after = await counters();
    const moved = (answer: string) => (after[`canvas.lookup.${answer}`] ?? 0) - (before[`canvas.lookup.${answer}`] ?? 0);
    console.log(`25 more unknown numbers of history after a refresh: ${rest.requests} Notion requests`);
    expect(Object.values(rest.result)).toEqual(Array(25).fill(null));
    expect(rest.requests).toBe(0);
    // Answered by the index, as the negative cache's answers are: hits, not misses that needed a refresh.
    expect({ d1: moved("d1"), miss: moved("miss"), notion: moved("notion") }).toEqual({ d1: 25, miss: 0, notion: 0 });
  });

  it("matches a customer added to Canvas a moment before the call", async () => {
    const created = await sandbox.sdk.pages.create({
      parent: { type: "data_source_id", data_source_id: sandbox.notion.demo!.canvas.dataSourceId },
      properties: { Name: { title: text("Walk-in Customer") }, Phone: { phone_number: "646.555.0199" }, Email: { email: "walk-in@example.com" } },
    });
    // The call reaches the Worker after the burst's refresh above: that refresh cannot answer for it.
    const { result, requests } = await spent(() => match(["+16465550199"], "PNfresh", Date.now()));
    console.log(`customer added a moment before: matched with ${requests} Notion request(s)`);
    expect(result).toEqual({ "+16465550199": created.id });
    expect(requests).toBe(1);
  });
});

describe("Mail linking", () => {
  it("links Mail pages by sender and recipient addresses and changes no other property", async () => {
    const mailDs = sandbox.notion.demo!.mail.dataSourceId;
    const before = await dumpPages(mailDs);
    const { result, requests } = await spent(() => sandbox.call<{ mail: { linked: number; unmatched: number; pagesRead: number } }>("/cron"));
    const after = await dumpPages(mailDs);
    console.log(`Mail linking: ${result.mail.linked} of ${before.length} pages linked, ${result.mail.unmatched} with no customer, ${requests} Notion requests for the whole cron pass`);
    for (const page of after) {
      const earlier = before.find((p) => p.id === page.id)!;
      const addresses = [page.properties.From?.email, ...(page.properties.To?.rich_text as { plain_text: string }[]).map((t) => t.plain_text)]
        .join(",")
        .toLowerCase()
        .split(/[,\s]+/)
        .filter((a) => a.includes("@"));
      const expected = [...new Set(addresses.map((a) => pageByEmail.get(a)).filter((id): id is string => Boolean(id)))];
      expect(((page.properties.Canvas?.relation ?? []) as { id: string }[]).map((r) => r.id).sort()).toEqual(expected.sort());
      const { Canvas: _a, ...rest } = page.properties;
      const { Canvas: _b, ...restBefore } = earlier.properties;
      expect(JSON.stringify(rest)).toBe(JSON.stringify(restBefore));
    }
    expect(result.mail.linked).toBeGreaterThan(0);
    expect(result.mail.unmatched).toBeGreaterThan(0);

    const again = await spent(() => sandbox.call<{ mail: { pagesRead: number; remembered: number } }>("/cron"));
    console.log(`next cron pass: ${again.result.mail.pagesRead} Mail pages looked up again, ${again.requests} Notion requests`);
    expect(again.result.mail.pagesRead).toBe(0);
  });
});

describe("relinking", () => {
  it("links earlier calls and texts when their number is added to a Canvas page, keeping a link made by hand, touching nothing else", async () => {
    const number = "+17205550123";
    const root = sandbox.notion.rootPageId;
    const canvasDs = sandbox.notion.demo!.canvas.dataSourceId;
    const calls = (await sandbox.sdk.databases.create({
      parent: { type: "page_id", page_id: root },
      title: text("Calls"),
      initial_data_source: {
        properties: { Name: { title: {} }, Participant: { phone_number: {} }, Canvas: { relation: { data_source_id: canvasDs, single_property: {} } } },
      },
    })) as { data_sources: { id: string }[] };
    const callsDs = calls.data_sources[0]!.id;
    const made = [];
    for (const [i, kind] of (["call", "call", "message", "call"] as const).entries()) {
      const page = await sandbox.sdk.pages.create({
        parent: { type: "data_source_id", data_source_id: callsDs },
        properties: { Name: { title: text(`Earlier ${kind} ${i}`) }, Participant: { phone_number: number } },
      });
      made.push({ id: page.id, kind, resource: `AC${i}relink` });
    }
    await sandbox.db.batch(
      made.map((m, i) =>
        sandbox.db.prepare("INSERT INTO resources (resource_id, kind, phone_number_id, participant, notion_page_id, occurred_at, updated_at) VALUES (?1, ?2, 'PNtest', ?3, ?4, ?5, 0)").bind(m.resource, m.kind, number, m.id, i),
      ),
    );
    expect(await match([number], "PNrelink")).toEqual({ [number]: null });
    // Meanwhile someone linked the last call by hand, to another customer: that choice is kept.
    const chosen = pageByEmail.get(roster[1]!.email)!;
    const byHand = made[3]!;
    await sandbox.sdk.pages.update({ page_id: byHand.id, properties: { Canvas: { relation: [{ id: chosen }] } } });
    const before = await dumpPages(callsDs);

    const customer = pageByEmail.get(roster[0]!.email)!;
    await sandbox.sdk.pages.update({ page_id: customer, properties: { "Other phones": { rich_text: text("mobile (720) 555-0123") } } });
    const { result, requests } = await spent(() => sandbox.call<{ refresh: { keysGained: unknown[] }; relink: { linked: number; kept: number } }>("/cron"));
    console.log(
      `cron pass after a number was added: ${result.relink.linked} earlier calls/texts linked, ${result.relink.kept} linked by hand kept, ${requests} Notion requests (refresh, trash sweep, a read and a write per relink, Mail linking)`,
    );
    expect(result.relink).toMatchObject({ linked: 3, kept: 1 });

    const after = await dumpPages(callsDs);
    for (const page of after) {
      expect(page.properties.Canvas).toMatchObject({ relation: [{ id: page.id === byHand.id ? chosen : customer }] });
      const earlier = before.find((p) => p.id === page.id)!;
      const { Canvas: _a, ...rest } = page.properties;
      const { Canvas: _b, ...restBefore } = earlier.properties;
      expect(JSON.stringify(rest)).toBe(JSON.stringify(restBefore));
    }
    const rows = await sandbox.db.prepare("SELECT resource_id, canvas_page_id FROM resources WHERE participant = ?1 ORDER BY resource_id").bind(number).all();
    expect((rows.results as { canvas_page_id: string }[]).map((r) => r.canvas_page_id)).toEqual([customer, customer, customer, chosen]);
    const relinks = await sandbox.db.prepare("SELECT COUNT(*) AS n FROM canvas_relinks WHERE status = 'linked'").first<{ n: number }>();
    expect(relinks?.n).toBe(4);
  });
});
