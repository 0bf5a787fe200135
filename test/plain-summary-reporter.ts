/**
 * Prints `N passed, N failed, N skipped` as the very last line of the run, after workerd's own shutdown noise, so CI
 * and people read one plain closing line.
 */
import fs from "node:fs";
import type { Reporter, TestModule } from "vitest/node";

export default class PlainSummaryReporter implements Reporter {
  private counts = { passed: 0, failed: 0, skipped: 0 };
  private registered = false;

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    for (const module of testModules) {
      let failedTests = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") this.counts.passed++;
        else if (state === "failed") failedTests++;
        else this.counts.skipped++;
      }
      // A file that failed to load, or whose beforeAll/afterAll failed, leaves its tests unrun or skipped;
      // it still fails the run, so it counts as one failure.
      this.counts.failed += failedTests > 0 ? failedTests : module.state() === "failed" ? 1 : 0;
    }
    this.counts.failed += unhandledErrors.length;
    if (this.registered) return;
    this.registered = true;
    process.once("exit", () => {
      const { passed, failed, skipped } = this.counts;
      fs.writeSync(1, `\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    });
  }
}
