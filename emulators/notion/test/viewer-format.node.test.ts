/** The viewer shows dates, numbers and file blocks the way Notion shows them. */
import { describe, expect, it } from "vitest";
import { notionDate, notionNumber, renderValue } from "../viewer/html.ts";

describe("viewer values", () => {
  it("shows dates as Notion does: month name, day, year, and a 12-hour time", () => {
    expect(notionDate("2026-12-02")).toBe("December 2, 2026");
    expect(notionDate("2026-12-02T13:05:09.000Z")).toBe("December 2, 2026 1:05 PM UTC");
    expect(notionDate("2026-01-05T00:30:00Z")).toBe("January 5, 2026 12:30 AM UTC");
    expect(String(renderValue("date", { start: "2026-03-01T09:00:00Z", end: "2026-03-01T13:00:00Z" }, () => ""))).toBe("March 1, 2026 9:00 AM UTC → March 1, 2026 1:00 PM UTC");
  });

  it("shows numbers in their property's format", () => {
    expect(notionNumber(14400)).toBe("14400");
    expect(notionNumber(14400, "number_with_commas")).toBe("14,400");
    expect(notionNumber(0.25, "percent")).toBe("25%");
    expect(notionNumber(12.5, "dollar")).toBe("$12.50");
    expect(String(renderValue("number", 312, () => "", "number_with_commas"))).toBe("312");
  });
});
