/**
 * HTTP `Range` for one byte range (RFC 9110 §14). Players ask for `bytes=N-` to seek; a request for several ranges is
 * answered with the whole file, which the RFC allows.
 */

export type RangeRequest =
  | { kind: "none" }
  | { kind: "range"; offset: number; length: number }
  | { kind: "unsatisfiable" };

export function parseRange(header: string | null | undefined, size: number): RangeRequest {
  if (!header) return { kind: "none" };
  const match = header.trim().match(/^bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i);
  if (!match) return { kind: "none" };
  const [, first, last] = match;
  if (first === "" && last === "") return { kind: "none" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    const length = Math.min(suffix, size);
    return { kind: "range", offset: size - length, length };
  }
  const start = Number(first);
  if (start >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return { kind: "none" };
  return { kind: "range", offset: start, length: end - start + 1 };
}
