/**
 * The gateway's rate limit: N requests per key in fixed one-second windows (Kong `rate-limiting`, `second: 10`,
 * `limit_by: consumer`). Over the limit, the answer says how many seconds remain until the window resets.
 */
export class FixedWindowRateLimiter {
  private readonly windows = new Map<string, { window: number; count: number }>();

  /** `undefined` when allowed, otherwise the Retry-After in seconds. `limit` 0 disables the limit. */
  take(key: string, limit: number, now = Date.now()): number | undefined {
    if (limit <= 0) return undefined;
    const window = Math.floor(now / 1000);
    const entry = this.windows.get(key);
    if (!entry || entry.window !== window) {
      this.windows.set(key, { window, count: 1 });
      return undefined;
    }
    if (entry.count < limit) {
      entry.count++;
      return undefined;
    }
    return Math.max(1, Math.ceil(((window + 1) * 1000 - now) / 1000));
  }

  reset(): void {
    this.windows.clear();
  }
}
