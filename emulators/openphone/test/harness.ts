/** Starts an emulator on a free loopback port for one test file, and small helpers to call it. */
import { startOpenPhoneEmulator, type RunningOpenPhoneEmulator, type StartOptions } from "../server.ts";

export const TEST_KEY = "test-openphone-key";

export interface Harness {
  running: RunningOpenPhoneEmulator;
  url: string;
  api(path: string, init?: RequestInit & { key?: string | null }): Promise<Response>;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export async function startHarness(options: Partial<StartOptions> = {}): Promise<Harness> {
  const running = await startOpenPhoneEmulator({ key: TEST_KEY, port: 0, ...options });
  // Most tests make more than 10 requests a second; the rate limit has its own test.
  if (options.config?.rateLimitPerSecond === undefined) running.emulator.updateConfig({ rateLimitPerSecond: 0 });
  const url = running.url;
  return {
    running,
    url,
    api(path, init = {}) {
      const { key = TEST_KEY, headers, ...rest } = init;
      const allHeaders = new Headers(headers);
      if (key !== null) allHeaders.set("Authorization", key);
      if (rest.body !== undefined) allHeaders.set("Content-Type", "application/json");
      return fetch(url + path, { ...rest, headers: allHeaders });
    },
    async control(method, path, body) {
      const response = await fetch(url + path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = (await response.json()) as unknown;
      if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${JSON.stringify(json)}`);
      return json as never;
    },
  };
}

/** `?a=1&b=x&b=y` with arrays as repeated keys. */
export function query(params: Record<string, string | number | boolean | (string | number)[] | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(name, String(item));
  }
  return `?${search.toString()}`;
}
