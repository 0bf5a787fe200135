import { describe, expect, it } from "vitest";
import { retryAfterMs } from "../../src/retry/retry-after";

/** Sun, 06 Nov 1994 08:49:37 GMT, the RFC's own example date. */
const NOW = Date.UTC(1994, 10, 6, 8, 49, 37);

describe("a Retry-After header", () => {
  it("in whole seconds is that many seconds, zero included", () => {
    expect(retryAfterMs("120", NOW)).toBe(120_000);
    expect(retryAfterMs("1", NOW)).toBe(1000);
    expect(retryAfterMs("0", NOW)).toBe(0);
    expect(retryAfterMs(" 30 ", NOW)).toBe(30_000);
  });

  it("that is a fraction, negative, or not a number is not read", () => {
    for (const value of ["1.5", "-5", "+5", "1e3", "0x10", "soon", "12 s", "Infinity", "NaN"]) expect(retryAfterMs(value, NOW), value).toBeUndefined();
  });

  it("as an HTTP date in the future is the time until then", () => {
    expect(retryAfterMs("Sun, 06 Nov 1994 08:50:07 GMT", NOW)).toBe(30_000);
    // The obsolete forms a recipient must still accept.
    expect(retryAfterMs("Sunday, 06-Nov-94 08:51:37 GMT", NOW)).toBe(120_000);
    expect(retryAfterMs("Sun Nov  6 08:49:47 1994", NOW)).toBe(10_000);
  });

  it("as an HTTP date already past asks for no wait", () => {
    expect(retryAfterMs("Sun, 06 Nov 1994 08:49:36 GMT", NOW)).toBe(0);
    expect(retryAfterMs("Sat, 05 Nov 1994 08:49:37 GMT", NOW)).toBe(0);
  });

  it("as a date in another shape is not read", () => {
    for (const value of ["1994-11-06T08:50:07Z", "Sun, 06 Nov 1994 08:50:07 +0100", "06 Nov 1994 08:50:07 GMT", "Sun, 06 Nov 1994"]) expect(retryAfterMs(value, NOW), value).toBeUndefined();
  });

  it("that is missing or empty is not read", () => {
    expect(retryAfterMs(null, NOW)).toBeUndefined();
    expect(retryAfterMs(undefined, NOW)).toBeUndefined();
    expect(retryAfterMs("", NOW)).toBeUndefined();
    expect(retryAfterMs("   ", NOW)).toBeUndefined();
  });
});
