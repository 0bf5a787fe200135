/**
 * The pure part of `npm run bench`: percentiles of measured samples, targets written as text ("≤ 1.2", "≥ 50",
 * "< 1", "0", "—") and whether a figure meets one, the rows of the report, its table and the exit code. No I/O, so
 * the unit tests hold it to its word.
 */

export interface BenchRow {
  name: string;
  figure: number;
  unit: string;
  /** "≤ 1.2", "≥ 50", "< 1", "> 1", "0" (exactly), or "—" for a row shown for comparison only. */
  target: string;
  pass: boolean;
  /**
   * An ablation row: the same figure measured in the same run with the optimisation turned off. `figure` is the
   * product as configured (on), and only it is held to the target.
   */
  off?: number;
}

export interface BenchReport {
  rows: BenchRow[];
  /** What this run could not measure, each with the reason. */
  notMeasured: string[];
}

/** Nearest-rank percentile (`p` in 0–100) of the samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * sorted.length);
  return sorted[Math.max(rank, 1) - 1]!;
}

const TARGET = /^(≤|<=|≥|>=|<|>|=)?\s*(-?\d+(?:\.\d+)?)$/;

/** Whether a figure meets a target; a comparison-only target ("—") is always met, a figure that is not a number never. */
export function meetsTarget(figure: number, target: string): boolean {
  const text = target.trim();
  if (text === "—") return true;
  const match = TARGET.exec(text);
  if (!match) throw new Error(`a bench target reads "≤ N", "≥ N", "< N", "> N", "= N", "N" or "—", not "${target}"`);
  if (!Number.isFinite(figure)) return false;
  const bound = Number(match[2]);
  switch (match[1]) {
    case "≤":
    case "<=":
      return figure <= bound;
    case "≥":
    case ">=":
      return figure >= bound;
    case "<":
      return figure < bound;
    case ">":
      return figure > bound;
    default:
      return figure === bound;
  }
}

/** A row whose `pass` is the comparison of its figure with its target. */
export function benchRow(name: string, figure: number, unit: string, target: string): BenchRow {
  return { name, figure, unit, target, pass: meetsTarget(figure, target) };
}

/** An ablation row: `on` is the figure with the optimisation on (held to `target`), `off` the same figure with it off. */
export function ablationRow(name: string, on: number, off: number, unit: string, target = "—"): BenchRow {
  return { ...benchRow(name, on, unit, target), off };
}

/** The p50 latency target of the spec: the coalescing window plus 1.5 s. */
export function latencyP50Target(coalesceMs: number): string {
  return `≤ ${round(coalesceMs / 1000 + 1.5)}`;
}

/** 1 when any row misses its target, else 0. */
export function benchExitCode(rows: readonly BenchRow[]): number {
  return rows.every((row) => row.pass) ? 0 : 1;
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The report as a plain-text table, then the "not measured" line. */
export function formatBenchTable(report: BenchReport): string {
  // The "off" column (an ablation's figure with the optimisation off) appears only when some row has one.
  const withOff = report.rows.some((row) => row.off !== undefined);
  const cells = report.rows.map((row) => [row.name, String(row.figure), ...(withOff ? [row.off === undefined ? "" : String(row.off)] : []), row.unit, row.target, row.pass ? "pass" : "FAIL"]);
  const header = ["measure", withOff ? "figure (on)" : "figure", ...(withOff ? ["off"] : []), "unit", "target", "result"];
  const numeric = new Set(withOff ? [1, 2] : [1]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (numeric.has(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join("  ").trimEnd();
  const lines = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
  lines.push("", `not measured: ${report.notMeasured.length > 0 ? report.notMeasured.join("; ") : "none"}`);
  return lines.join("\n");
}
