/** Bearer-token check for the admin surfaces: constant-time, and closed when no token is configured. */

const encoder = new TextEncoder();

export function hasBearerToken(authorization: string | undefined | null, expected: string | undefined): boolean {
  if (!expected) return false;
  const match = authorization?.match(/^Bearer\s+(.+)$/i);
  if (!match) return false;
  const given = encoder.encode(match[1]!.trim());
  const wanted = encoder.encode(expected);
  // Compare equal-length buffers so the time does not depend on where they differ (nor leak the length much).
  if (given.byteLength !== wanted.byteLength) {
    crypto.subtle.timingSafeEqual(wanted, wanted);
    return false;
  }
  return crypto.subtle.timingSafeEqual(given, wanted);
}
