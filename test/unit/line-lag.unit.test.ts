import { describe, expect, it } from "vitest";
import { apiRequestTotals } from "../../src/db/metrics";
import { laggingLines, lineLabel, type LineLag } from "../../src/http/line-lag";

const line = (overrides: Partial<LineLag>): LineLag => ({ lineId: "PN1", name: "Sales", pending: 0, oldestPendingSeconds: 0, lastWriteAt: null, lastError: null, answered: true, ...overrides });

describe("laggingLines", () => {
  it("names lines overdue past the limit and lines that did not answer, and nothing else", () => {
    const lagging = laggingLines(
      [
        line({ lineId: "PNok", pending: 3, oldestPendingSeconds: 300 }),
        line({ lineId: "PNlate", pending: 47, oldestPendingSeconds: 301 }),
        line({ lineId: "PNsilent", answered: false, lastError: "did not answer: no answer within 5 s" }),
      ],
      300,
    );
    expect(lagging.map((l) => [l.line.lineId, l.reason])).toEqual([
      ["PNlate", "47 item(s) pending, the oldest overdue by 301 s (limit 300 s)"],
      ["PNsilent", "did not answer: no answer within 5 s"],
    ]);
  });

  it("labels a line by its name and id, or its id alone", () => {
    expect(lineLabel({ lineId: "PN1", name: "Sales" })).toBe("Sales (PN1)");
    expect(lineLabel({ lineId: "unknown", name: null })).toBe("unknown");
  });
});

describe("apiRequestTotals", () => {
  it("adds every source's requests to each API's total and nothing that only sounds alike", () => {
    const totals = apiRequestTotals({
      "notion.requests": 9,
      "notion.requests.canvas": 2,
      "notion.requests.mail": 1,
      "notion.rate_limited": 5,
      "media.notion_requests": 4,
      "openphone.requests": 4,
      "openphone.requests.backfill": 30,
      "openphone.requests.routing": 2,
      "canvas.refresh.requests": 2,
    });
    expect(totals).toEqual({ notion: 12, openphone: 36 });
  });
});
