import { describe, expect, it } from "vitest";
import { ablationRow, benchExitCode, benchRow, formatBenchTable, latencyP50Target, meetsTarget, percentile } from "../../scripts/lib/bench-report";

describe("percentile", () => {
  it("takes the nearest rank of the sorted samples", () => {
    const samples = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 95)).toBe(10);
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile(samples, 100)).toBe(10);
    expect(percentile([4.2], 95)).toBe(4.2);
  });

  it("is NaN without samples, and leaves the samples unsorted", () => {
    expect(percentile([], 50)).toBeNaN();
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe("meetsTarget", () => {
  it("compares the figure with an upper bound, a lower bound or an exact value", () => {
    expect(meetsTarget(1.2, "≤ 1.2")).toBe(true);
    expect(meetsTarget(1.21, "≤ 1.2")).toBe(false);
    expect(meetsTarget(50, "≥ 50")).toBe(true);
    expect(meetsTarget(49.9, ">= 50")).toBe(false);
    expect(meetsTarget(0, "0")).toBe(true);
    expect(meetsTarget(1, "0")).toBe(false);
    expect(meetsTarget(0.99, "< 1")).toBe(true);
    expect(meetsTarget(1, "< 1")).toBe(false);
    expect(meetsTarget(1.01, "> 1")).toBe(true);
    expect(meetsTarget(1, "> 1")).toBe(false);
  });

  it("lets a comparison row pass, fails a figure that is not a number, and refuses a target it cannot read", () => {
    expect(meetsTarget(4.1, "—")).toBe(true);
    expect(meetsTarget(Number.NaN, "≤ 1.2")).toBe(false);
    expect(() => meetsTarget(1, "about 1")).toThrow(/not "about 1"/);
  });
});

describe("rows and exit code", () => {
  it("computes pass from the figure and the target, and exits 1 when any row misses", () => {
    const within = benchRow("requests per call", 1.05, "requests/call", "≤ 1.2");
    const over = benchRow("requests per text", 1.4, "requests/text", "≤ 1.2");
    expect(within).toEqual({ name: "requests per call", figure: 1.05, unit: "requests/call", target: "≤ 1.2", pass: true });
    expect(over.pass).toBe(false);
    expect(benchExitCode([within])).toBe(0);
    expect(benchExitCode([within, over])).toBe(1);
  });

  it("sets the p50 latency target at the coalescing window plus 1.5 s", () => {
    expect(latencyP50Target(10_000)).toBe("≤ 11.5");
    expect(latencyP50Target(2_000)).toBe("≤ 3.5");
  });

  it("prints each row and what was not measured", () => {
    const table = formatBenchTable({ rows: [benchRow("429s", 2, "responses", "0")], notMeasured: ["intake (timed out)"] });
    expect(table).toMatch(/429s\s+2\s+responses\s+0\s+FAIL/);
    expect(table).toContain("not measured: intake (timed out)");
  });

  it("shows an ablation's figure with the optimisation off beside the figure with it on, in one run", () => {
    const ablation = ablationRow("Canvas index — Notion queries per call", 0, 1.17, "queries/call");
    expect(ablation).toEqual({ name: "Canvas index — Notion queries per call", figure: 0, off: 1.17, unit: "queries/call", target: "—", pass: true });
    const table = formatBenchTable({ rows: [benchRow("429s", 0, "responses", "0"), ablation], notMeasured: [] });
    const [header, , plain, row] = table.split("\n");
    expect(header).toMatch(/^measure\s+figure \(on\)\s+off\s+unit\s+target\s+result$/);
    expect(plain).toMatch(/^429s\s+0\s+responses\s+0\s+pass$/);
    expect(row).toMatch(/^Canvas index — Notion queries per call\s+0\s+1\.17\s+queries\/call\s+—\s+pass$/);
    // Without ablation rows the table keeps its columns.
    expect(formatBenchTable({ rows: [benchRow("429s", 0, "responses", "0")], notMeasured: [] })).not.toContain("off");
  });
});
