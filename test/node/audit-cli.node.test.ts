import { describe, expect, it } from "vitest";
import { exitCodeFor, mergeReports, parseAuditArgs, renderReport, UsageError } from "../../scripts/lib/audit-client.ts";
import type { AuditReport } from "../../src/audit/types.ts";

const report = (over: Partial<AuditReport> = {}): AuditReport => ({
  id: "a1",
  since: "2026-01-01T00:00:00.000Z",
  checked: 10,
  missing: [],
  duplicated: [],
  stale: [],
  skipped: 0,
  complete: true,
  requests: { openphone: 12, notion: 4 },
  ...over,
});
const item = { id: "AC1", kind: "message" as const, lineId: "PN1", createdAt: "2026-01-02T00:00:00Z" };

describe("npm run audit", () => {
  it("defaults to the sandbox and needs a valid --since", () => {
    expect(parseAuditArgs(["--since", "2026-01-01"])).toMatchObject({ url: "http://127.0.0.1:8787", token: "sandbox-admin-token", repair: false, json: false });
    expect(parseAuditArgs(["--since", "2026-01-01", "--repair", "--json"], { ADMIN_TOKEN: "t" })).toMatchObject({ token: "t", repair: true, json: true });
    expect(() => parseAuditArgs([])).toThrow(UsageError);
    expect(() => parseAuditArgs(["--since", "yesterday"])).toThrow("--since must be a date");
  });

  it("exits 1 on drift, 0 when clean or repaired, 3 when the budget cut it short", () => {
    expect(exitCodeFor(report(), false)).toBe(0);
    expect(exitCodeFor(report({ missing: [item] }), false)).toBe(1);
    expect(exitCodeFor(report({ missing: [item], repaired: { resynced: ["AC1"], duplicatesRepaired: [], failed: [] } }), true)).toBe(0);
    expect(exitCodeFor(report({ missing: [item], repaired: { resynced: [], duplicatesRepaired: [], failed: [{ id: "AC1", reason: "line refused" }] } }), true)).toBe(1);
    expect(exitCodeFor(report({ complete: false, stoppedBy: "request budget" }), false)).toBe(3);
  });

  it("adds a continued part to the earlier ones and ends with the last part's completeness", () => {
    const first = report({ complete: false, stoppedBy: "request budget", next: "pos", missing: [item] });
    const merged = mergeReports(first, report({ id: "a2", checked: 5, requests: { openphone: 3, notion: 4 } }));
    expect(merged).toMatchObject({ id: "a1", checked: 15, complete: true, missing: [item], requests: { openphone: 15, notion: 8 } });
    expect(merged.next).toBeUndefined();
    expect(merged.stoppedBy).toBeUndefined();
  });

  it("names what drifted in the summary", () => {
    const text = renderReport(report({ stale: [{ ...item, kind: "message", pageId: "p", lacks: ["media"] }] }));
    expect(text).toContain("1 stale");
    expect(text).toContain("AC1");
    expect(text).toContain("lacks media");
  });
});
