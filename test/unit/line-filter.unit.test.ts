import { describe, expect, it } from "vitest";
import { lineFilterOf, lineVerdict, unmatchedEntries } from "../../src/line-filter/filter";
import { FLAG_REGISTRY } from "../../src/flags/registry";
import { applyFlagUpdate, resolveFlags } from "../../src/flags/resolve";

const filter = (sync: string[], skip: string[] = []) => lineFilterOf({ SYNC_LINES: sync, SKIP_LINES: skip }, "US");
const main = { id: "PNmain", number: "+14155550100" };
const shop = { id: "PNshop", number: "+14155550199" };

describe("the line filter", () => {
  it("syncs every line when neither list names one", () => {
    expect(lineVerdict(filter([]), main)).toBe("synced");
  });

  it("matches a line by id or by its number in any format", () => {
    for (const entry of ["PNmain", "+1 (415) 555-0100", "415.555.0100", "4155550100"]) {
      expect(lineVerdict(filter([entry]), main)).toBe("synced");
      expect(lineVerdict(filter([entry]), shop)).toBe("skipped");
      expect(lineVerdict(filter([], [entry]), main)).toBe("skipped");
    }
  });

  it("lets SKIP_LINES win over SYNC_LINES", () => {
    expect(lineVerdict(filter(["PNmain"], ["415-555-0100"]), main)).toBe("skipped");
  });

  it("cannot decide a line whose number is unknown against number entries, and can against ids", () => {
    expect(lineVerdict(filter(["+14155550100"]), { id: "PNnew", number: null })).toBe("undecided");
    expect(lineVerdict(filter(["PNmain"]), { id: "PNnew", number: null })).toBe("skipped");
    expect(lineVerdict(filter([], ["+14155550100"]), { id: "PNnew", number: null })).toBe("undecided");
  });

  it("names the entries no known line matches", () => {
    expect(unmatchedEntries(filter(["PNmain", "PNgone"], ["+1 212 555 0100"]), [main, shop]).map((u) => `${u.list}:${u.entry.text}`)).toEqual(["SYNC_LINES:PNgone", "SKIP_LINES:+1 212 555 0100"]);
  });
});

describe("runtime flag values", () => {
  it("parses each kind and refuses what it cannot be, without echoing it", () => {
    expect(FLAG_REGISTRY.COALESCE_MS.parse(" 0 ")).toEqual({ ok: true, value: 0 });
    expect(FLAG_REGISTRY.COALESCE_MS.parse("1.5")).toMatchObject({ ok: false });
    expect(FLAG_REGISTRY.COALESCE_MS.parse("600001")).toMatchObject({ ok: false });
    expect(FLAG_REGISTRY.ALERTS_ENABLED.parse("OFF")).toEqual({ ok: true, value: false });
    expect(FLAG_REGISTRY.ALERTS_ENABLED.parse("maybe")).toEqual({ ok: false, error: "expected on or off (true/false, yes/no, 1/0)" });
    expect(FLAG_REGISTRY.SYNC_LINES.parse("PN1, +1 415 555 0100,")).toEqual({ ok: true, value: ["PN1", "+1 415 555 0100"] });
    expect(FLAG_REGISTRY.SYNC_LINES.parse("PN1, the shop")).toMatchObject({ ok: false, error: expect.stringMatching(/^entry 2 /) });
  });

  it("takes KV over the var over the default", () => {
    const { flags, reports } = resolveFlags({ COALESCE_MS: "2000", BACKFILL_ENABLED: "false" }, { COALESCE_MS: "0" });
    expect(flags.COALESCE_MS).toBe(0);
    expect(flags.BACKFILL_ENABLED).toBe(false);
    expect(flags.CANVAS_CREATE_UNKNOWN).toBe(false);
    expect(reports.find((r) => r.name === "COALESCE_MS")).toMatchObject({ source: "kv", var: "2000", kv: "0" });
    expect(reports.find((r) => r.name === "BACKFILL_ENABLED")).toMatchObject({ source: "var" });
  });

  it("applies a change whole or not at all, in canonical form", () => {
    expect(applyFlagUpdate({}, { ALERTS_ENABLED: "off", COALESCE_MS: 0 })).toEqual({ ok: true, overrides: { ALERTS_ENABLED: "false", COALESCE_MS: "0" }, changes: [{ name: "ALERTS_ENABLED", from: null, to: "false" }, { name: "COALESCE_MS", from: null, to: "0" }] });
    const refused = applyFlagUpdate({}, { ALERTS_ENABLED: "off", COALESCE_MS: { ms: 0 } });
    expect(refused).toEqual({ ok: false, errors: [{ name: "COALESCE_MS", error: "expected a string, number or boolean (or null to remove the override)" }] });
  });
});
