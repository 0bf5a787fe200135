import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { canvasProblems, databaseProblems, mailProblems, type NotionProperties, settingsProblems, webhookProblems } from "../../src/doctor/checks";
import { doctorReport, formatDoctorReport } from "../../src/doctor/report";
import { CALL_PROPERTIES } from "../../src/notion/schema";
import { NEEDED_WEBHOOK_EVENTS, WEBHOOK_FAMILIES } from "../../src/openphone/webhook-families";

const settings = {
  OPENPHONE_API_KEY: "op-key-123",
  NOTION_TOKEN: "ntn_abcdefghijklmnop",
  ADMIN_TOKEN: "admin-token-123",
  NOTION_CALLS_DATABASE_ID: "0123456789abcdef0123456789abcdef",
  NOTION_MESSAGES_DATABASE_ID: "fedcba9876543210fedcba9876543210",
  NOTION_CANVAS_DATABASE_ID: "11111111111111111111111111111111",
  OPENPHONE_WEBHOOK_KEYS: "a2V5LW9uZQ==,a2V5LXR3bw==",
  MEDIA_SIGNING_KEYS: "a-long-enough-media-signing-key",
  PUBLIC_BASE_URL: "https://sync.example.com",
};
const config = (extra: Record<string, string> = {}) => loadConfig({ ...settings, ...extra }).config;
const CANVAS_DS = "22222222-2222-2222-2222-222222222222";

function callsDatabase(): NotionProperties {
  return Object.fromEntries(CALL_PROPERTIES.map((p) => [p.name, p.type === "relation" ? { type: "relation", relation: { data_source_id: CANVAS_DS } } : { type: p.type }]));
}

describe("databaseProblems", () => {
  it("finds nothing in a database made from the schema", () => {
    expect(databaseProblems("calls", callsDatabase(), config(), { dataSourceId: CANVAS_DS })).toEqual([]);
  });

  it("names a renamed property and suggests the mapping to the unused one of its type", () => {
    const properties = callsDatabase();
    properties["Length"] = properties["Duration"]!;
    delete properties["Duration"];
    const [problem, ...rest] = databaseProblems("calls", properties, config(), { dataSourceId: CANVAS_DS });
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ check: "calls", property: "Duration", subject: 'Calls database, property "Duration"' });
    expect(problem!.fix).toContain('NOTION_PROPERTY_MAP {"Calls.Duration": "Length"}');
  });

  it("names a retyped property, and honours NOTION_PROPERTY_MAP", () => {
    const properties = callsDatabase();
    properties["Duration"] = { type: "rich_text" };
    expect(databaseProblems("calls", properties, config(), { dataSourceId: CANVAS_DS })[0]).toMatchObject({ property: "Duration", problem: "is a rich_text property, expected number" });
    properties["Seconds"] = { type: "number" };
    expect(databaseProblems("calls", properties, config({ NOTION_PROPERTY_MAP: '{"Calls.Duration":"Seconds"}' }), { dataSourceId: CANVAS_DS })).toEqual([]);
  });

  it("wants the Canvas relation only with a Canvas database, and pointing at it", () => {
    const properties = callsDatabase();
    expect(databaseProblems("calls", properties, config(), { dataSourceId: "33333333-3333-3333-3333-333333333333" })[0]).toMatchObject({ property: "Canvas", problem: "relates to another database than NOTION_CANVAS_DATABASE_ID" });
    delete properties["Canvas"];
    expect(databaseProblems("calls", properties, config({ NOTION_CANVAS_DATABASE_ID: "" }), {})).toEqual([]);
  });
});

describe("canvas and mail settings", () => {
  it("names configured properties the Canvas lacks or cannot read", () => {
    const canvas: NotionProperties = { Name: { type: "title" }, Phone: { type: "phone_number" }, Stage: { type: "select" } };
    const problems = canvasProblems(canvas, config({ CANVAS_PHONE_PROPERTIES: "Phone, Mobile, Stage", CANVAS_EMAIL_PROPERTIES: "" }));
    expect(problems.map((p) => [p.subject, p.problem])).toEqual([
      ['Canvas database, property "Mobile" (CANVAS_PHONE_PROPERTIES)', "missing"],
      ['Canvas database, property "Stage" (CANVAS_PHONE_PROPERTIES)', "is a select property, which holds no text to read"],
    ]);
    expect(canvasProblems({ Name: { type: "title" } }, config())[0]?.subject).toBe("CANVAS_PHONE_PROPERTIES");
  });

  it("wants the Mail relation to be a relation to the Canvas", () => {
    const mail: NotionProperties = { From: { type: "email" }, Canvas: { type: "rich_text" } };
    expect(mailProblems(mail, config({ MAIL_ADDRESS_PROPERTIES: "From" }), { dataSourceId: CANVAS_DS }).map((p) => p.problem)).toEqual(["is a rich_text property, expected a relation to the Canvas database"]);
    mail["Canvas"] = { type: "relation", relation: { data_source_id: CANVAS_DS.replace(/-/g, "") } };
    expect(mailProblems(mail, config({ MAIL_ADDRESS_PROPERTIES: "From" }), { dataSourceId: CANVAS_DS })).toEqual([]);
  });

  it("reports Canvas and Mail settings that cannot take effect, and a missing PUBLIC_BASE_URL", () => {
    const loaded = loadConfig({ ...settings, NOTION_CANVAS_DATABASE_ID: "", PUBLIC_BASE_URL: "", CANVAS_PHONE_PROPERTIES: "Phone", NOTION_MAIL_DATABASE_ID: "44444444444444444444444444444444" });
    expect(settingsProblems(loaded.config, loaded.problems).map((p) => p.subject)).toEqual(["PUBLIC_BASE_URL", "CANVAS_PHONE_PROPERTIES", "NOTION_MAIL_DATABASE_ID"]);
  });

  it("turns each malformed setting into a problem with a fix, never quoting the value", () => {
    const loaded = loadConfig({ ...settings, OPENPHONE_WEBHOOK_KEYS: "not base64!!", NOTION_TOKEN: "" });
    const problems = settingsProblems(loaded.config, loaded.problems);
    expect(problems.map((p) => p.subject)).toEqual(["OPENPHONE_WEBHOOK_KEYS", "NOTION_TOKEN", "OPENPHONE_WEBHOOK_KEYS"]);
    expect(problems.every((p) => p.fix.length > 0 && !JSON.stringify(p).includes("not base64"))).toBe(true);
  });

  it("catches tokens pasted with more than the token", () => {
    const loaded = loadConfig({ ...settings, NOTION_TOKEN: "Bearer ntn_abc", OPENPHONE_API_KEY: '"op-key"' });
    expect(settingsProblems(loaded.config, loaded.problems).map((p) => p.subject)).toEqual(["OPENPHONE_API_KEY", "NOTION_TOKEN"]);
  });
});

describe("webhookProblems", () => {
  const url = "https://sync.example.com/webhooks/openphone";
  const registered = (key: string) => WEBHOOK_FAMILIES.map((f, i) => ({ id: `WH${i}`, url, events: [...f.events], key, status: "enabled", resourceIds: ["*"] }));
  const expected = { baseUrl: "https://sync.example.com", keys: ["a2V5LW9uZQ=="], lineIds: ["PN1", "PN2"] };

  it("accepts enabled registrations for this Worker that cover every event with known keys", () => {
    expect(webhookProblems(registered("a2V5LW9uZQ=="), expected)).toEqual([]);
  });

  it("names a webhook whose key the Worker lacks, a disabled one, and the events left uncovered", () => {
    const webhooks = registered("a2V5LW9uZQ==");
    webhooks[0]!.key = "b3RoZXI=";
    webhooks[1]!.status = "disabled";
    const problems = webhookProblems(webhooks, expected);
    expect(problems.map((p) => p.subject)).toEqual(["webhook WH0", "webhook WH1", "event message.received", "event message.delivered"]);
  });

  it("says when nothing points at this Worker, and which lines a partial registration misses", () => {
    const elsewhere = registered("a2V5LW9uZQ==").map((w) => ({ ...w, url: "https://old.example.com/webhooks/openphone" }));
    expect(webhookProblems(elsewhere, expected)[0]!.problem).toContain("no OpenPhone webhook points at this Worker (webhooks exist for https://old.example.com/webhooks/openphone)");
    const partial = registered("a2V5LW9uZQ==").map((w) => ({ ...w, resourceIds: ["PN1"] }));
    const problems = webhookProblems(partial, expected);
    expect(problems).toHaveLength(NEEDED_WEBHOOK_EVENTS.length);
    expect(problems[0]!.problem).toBe("not sent for line(s) PN2");
  });
});

describe("webhookProblems: the 2026-03-30 system", () => {
  const url = "https://sync.example.com/webhooks/openphone";
  const quo = (overrides: Record<string, unknown> = {}) => ({ id: "7", url, events: [...NEEDED_WEBHOOK_EVENTS, "call.missed", "message.failed"], status: "enabled", resourceIds: ["*"], ...overrides });
  const legacy = WEBHOOK_FAMILIES.map((f, i) => ({ id: `WH${i}`, url, events: [...f.events], key: "a2V5LW9uZQ==", status: "enabled", resourceIds: ["*"] }));
  const expected = { baseUrl: "https://sync.example.com", keys: ["a2V5LW9uZQ=="], quoSecrets: 1, lineIds: ["PN1"] };

  it("accepts the new system alone, and both systems at once", () => {
    expect(webhookProblems([], expected, [quo()])).toEqual([]);
    expect(webhookProblems(legacy, expected, [quo()])).toEqual([]);
  });

  it("names a disabled webhook, a webhook the Worker has no secret for, and the events the new webhook lacks", () => {
    expect(webhookProblems([], expected, [quo({ status: "disabled" })]).map((p) => p.subject)).toEqual(["webhook 7 (2026-03-30)", ...NEEDED_WEBHOOK_EVENTS.map((e) => `event ${e}`)]);
    expect(webhookProblems([], { ...expected, quoSecrets: 0 }, [quo()])[0]!.problem).toContain("QUO_WEBHOOK_SECRETS is empty");
    expect(webhookProblems([], expected, [quo({ events: ["call.completed"] })]).map((p) => p.subject)).not.toContain("event call.completed");
    // The legacy webhooks still cover what the new one does not.
    expect(webhookProblems(legacy, expected, [quo({ events: ["call.completed"] })])).toEqual([]);
  });
});

describe("formatDoctorReport", () => {
  it("prints each problem with its fix and the count", () => {
    const report = doctorReport([{ name: "calls", status: "problem", summary: "reached", durationMs: 1, problems: [{ check: "calls", subject: 'Calls database, property "Duration"', problem: "missing", fix: "rename it back" }] }], Date.now());
    const text = formatDoctorReport(report);
    expect(report.ok).toBe(false);
    expect(text).toContain('[FAIL] Notion Calls database: reached\n       ✗ Calls database, property "Duration": missing\n         fix: rename it back');
    expect(text).toContain("1 problem(s) found");
  });
});
