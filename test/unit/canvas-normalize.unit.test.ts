import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { extractEmails, extractPhones, normalizeEmail, normalizeParticipant, normalizePhone } from "../../src/canvas/normalize";

describe("normalizePhone", () => {
  it.each([
    ["(555) 123-4567", "+15551234567"],
    ["555.123.4567", "+15551234567"],
    ["+1 555 123 4567", "+15551234567"],
    ["555-123-4567", "+15551234567"],
    ["5551234567", "+15551234567"],
    ["1 (555) 123-4567", "+15551234567"],
    ["+44 20 7946 0958", "+442079460958"],
    ["+33 1 42 68 53 00", "+33142685300"],
    ["0049 30 901820", "+4930901820"],
    ["+81 3-3589-9900", "+81335899900"],
  ])("reads %s as %s", (typed, e164) => {
    expect(normalizePhone(typed, "US")).toBe(e164);
  });

  it("drops the extension", () => {
    expect(normalizePhone("555-123-4567 x12", "US")).toBe("+15551234567");
    expect(normalizePhone("(555) 123-4567 ext. 9", "US")).toBe("+15551234567");
  });

  it("uses the default region for numbers without a country code", () => {
    expect(normalizePhone("020 7946 0958", "GB")).toBe("+442079460958");
    expect(normalizePhone("030 901820", "DE")).toBe("+4930901820");
  });

  it("refuses text that is not a possible number", () => {
    for (const typed of ["", "  ", "call me", "12", "555 1234", "+1 555 123 45678", "n/a"]) {
      expect(normalizePhone(typed, "US")).toBeNull();
    }
  });

  it("maps any US number, however it is formatted, to the same E.164", () => {
    const digits = fc.stringMatching(/^[2-9]\d{2}[2-9]\d{6}$/);
    const formats = [
      (d: string) => `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`,
      (d: string) => `${d.slice(0, 3)}.${d.slice(3, 6)}.${d.slice(6)}`,
      (d: string) => `+1 ${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}`,
      (d: string) => `1-${d.slice(0, 3)}-${d.slice(3, 6)}-${d.slice(6)} x${d.slice(7)}`,
      (d: string) => d,
    ];
    fc.assert(
      fc.property(digits, fc.constantFrom(...formats), (d, format) => {
        expect(normalizePhone(format(d), "US")).toBe(`+1${d}`);
      }),
    );
  });

  it("is idempotent on its own output", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[2-9]\d{2}[2-9]\d{6}$/), (d) => {
        const once = normalizePhone(d, "US")!;
        expect(normalizePhone(once, "US")).toBe(once);
        expect(normalizePhone(once, "GB")).toBe(once);
      }),
    );
  });

  it("never throws, whatever the text", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const result = normalizePhone(s, "US");
        expect(result === null || /^\+\d{6,15}$/.test(result)).toBe(true);
      }),
    );
  });
});

describe("extractPhones", () => {
  it("splits two numbers in one field on commas, semicolons, slashes, newlines and 'or'", () => {
    const both = ["+15551234567", "+442079460958"];
    for (const text of [
      "(555) 123-4567, +44 20 7946 0958",
      "555.123.4567; +44 20 7946 0958",
      "555-123-4567 / +44 20 7946 0958",
      "555-123-4567\n+44 20 7946 0958",
      "555 123 4567 or +44 20 7946 0958",
    ]) {
      expect(extractPhones(text, "US")).toEqual({ values: both, problems: [] });
    }
  });

  it("keeps a slash typed inside one number", () => {
    expect(extractPhones("030/901820", "DE")).toEqual({ values: ["+4930901820"], problems: [] });
  });

  it("reports what it cannot read and keeps the rest", () => {
    expect(extractPhones("555-123-4567 x12, ask reception", "US")).toEqual({ values: ["+15551234567"], problems: ["ask reception"] });
  });

  it("lists a number typed twice once", () => {
    expect(extractPhones("(555) 123-4567, 555.123.4567", "US").values).toEqual(["+15551234567"]);
  });

  it("finds every number of a list, whatever separators join them", () => {
    const number = fc.stringMatching(/^[2-9]\d{2}[2-9]\d{6}$/);
    fc.assert(
      fc.property(fc.uniqueArray(number, { minLength: 1, maxLength: 4 }), fc.constantFrom(", ", "; ", " / ", "\n", " or "), (numbers, separator) => {
        const text = numbers.map((d) => `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`).join(separator);
        expect(extractPhones(text, "US")).toEqual({ values: numbers.map((d) => `+1${d}`), problems: [] });
      }),
    );
  });
});

describe("e-mail addresses", () => {
  it("trims and lower-cases", () => {
    expect(normalizeEmail("  Ann.Lee@Example.COM ")).toBe("ann.lee@example.com");
    expect(normalizeEmail("mailto:ann@example.com")).toBe("ann@example.com");
    expect(normalizeEmail("not an address")).toBeNull();
    expect(normalizeEmail("ann@")).toBeNull();
  });

  it("reads display names and several addresses", () => {
    expect(extractEmails('Ann Lee <Ann@Example.com>, "Lee, Bob" <bob@example.com>; carl@example.org')).toEqual({
      values: ["ann@example.com", "bob@example.com", "carl@example.org"],
      problems: [],
    });
  });

  it("reports pieces that hold no address", () => {
    expect(extractEmails("ann@example.com, the front desk")).toEqual({ values: ["ann@example.com"], problems: ["the front desk"] });
  });
});

describe("normalizeParticipant", () => {
  it("normalises phones and addresses alike", () => {
    expect(normalizeParticipant("+1 (555) 123-4567", "US")).toBe("+15551234567");
    expect(normalizeParticipant(" Ann@Example.com", "US")).toBe("ann@example.com");
    expect(normalizeParticipant("anonymous", "US")).toBeNull();
  });
});
