/**
 * The doctor's reconciliation of `schema_problems` in D1: what it finds is recorded (so `/health` shows it before a
 * write fails) and what it no longer finds is resolved, like an old 401 after the token was replaced.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { reconcileSchemaProblems } from "../../src/db/schema-problems";
import { flushReportStatements, emptyReport, listSchemaProblems } from "../../src/db/sync-history";

beforeEach(async () => {
  await env.DB.prepare("DELETE FROM schema_problems").run();
});

async function recordFromFlush(database: "calls" | "messages", property: string, message: string): Promise<void> {
  const report = emptyReport();
  report.schemaProblems.push({ database, property, message });
  await env.DB.batch(flushReportStatements(env.DB, report, Date.now()));
}

describe("reconcileSchemaProblems", () => {
  it("clears a stale 401 and a fixed property once a full check finds neither", async () => {
    await recordFromFlush("calls", "", "Notion 401 unauthorized: API token is invalid.");
    await recordFromFlush("calls", "Duration", "Notion 400 validation_error: Duration is not a property that exists.");
    await recordFromFlush("messages", "", "Notion 401 unauthorized: API token is invalid.");
    expect(await listSchemaProblems(env.DB)).toHaveLength(3);

    expect(await reconcileSchemaProblems(env.DB, { database: "calls", scope: "properties", problems: [] })).toBe(2);
    // Only the database that was checked: the Messages row waits for its own check.
    expect((await listSchemaProblems(env.DB)).map((p) => [p.database, p.property])).toEqual([["messages", ""]]);
  });

  it("records what it finds and keeps it open, resolving only what is gone", async () => {
    await recordFromFlush("calls", "Status", "Notion 400: Status is expected to be select.");
    const found = { database: "calls" as const, property: "Duration", message: "missing (expected a number property)" };
    expect(await reconcileSchemaProblems(env.DB, { database: "calls", scope: "properties", problems: [found] })).toBe(1);
    expect((await listSchemaProblems(env.DB)).map((p) => [p.property, p.message])).toEqual([["Duration", found.message]]);
    // Found again: still one open row, not resolved.
    expect(await reconcileSchemaProblems(env.DB, { database: "calls", scope: "properties", problems: [found] })).toBe(0);
    expect(await listSchemaProblems(env.DB)).toHaveLength(1);
  });

  it("decides only the database-level row when only access was checked", async () => {
    await recordFromFlush("calls", "Duration", "Notion 400: Duration is not a property that exists.");
    const refused = { database: "calls" as const, property: "", message: "Notion refused NOTION_TOKEN" };
    await reconcileSchemaProblems(env.DB, { database: "calls", scope: "access", problems: [refused] });
    expect((await listSchemaProblems(env.DB)).map((p) => p.property).sort()).toEqual(["", "Duration"]);
  });
});
