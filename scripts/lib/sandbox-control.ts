/**
 * What the sandbox checks before it starts and asks before it stops: that its ports are free (a second `npm start`
 * must not run setup against the first one's emulators), which Worker settings `--set` overrides, and how many calls
 * and texts the Worker still holds unwritten. `npm run soak` reads the same per-line figures.
 */
import net from "node:net";
import type { LineLiveness } from "../../src/line/liveness-types.ts";

/** The ports (with the flag that chose each) something already listens on at 127.0.0.1. */
export async function portsInUse(ports: readonly (readonly [string, number])[]): Promise<[string, number][]> {
  const busy: [string, number][] = [];
  for (const [flag, port] of ports) if (!(await portIsFree(port))) busy.push([flag, port]);
  return busy;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port nothing listens on now (for a soak run beside another sandbox). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const SETTING_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * `--set NAME=VALUE` pairs as settings. A name the Worker never reads would be a setting that silently does nothing,
 * so only names that appear in `src/config.ts` (where every setting is parsed) or `src/flags/registry.ts` (where every
 * runtime flag is declared) are accepted; `configSource` is their text.
 */
export function parseSettingOverrides(pairs: readonly string[], configSource: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    const name = at < 0 ? pair : pair.slice(0, at);
    if (at < 0 || !SETTING_NAME.test(name)) throw new Error(`--set expects NAME=VALUE with NAME in capitals (e.g. --set ALERT_WEBHOOK_URL=http://127.0.0.1:9000/), got "${pair}"`);
    if (!new RegExp(`\\b${name}\\b`).test(configSource)) throw new Error(`--set ${name}: the Worker has no setting ${name} (see the configuration table in README.md)`);
    settings[name] = pair.slice(at + 1);
  }
  return settings;
}

/** One line as `GET /admin/stats` reports it in `lines`. */
export type LineFigures = LineLiveness;

export type LineFiguresResult = { ok: true; lines: LineFigures[] } | { ok: false; reason: string };

/** The per-line figures of `GET /admin/stats`, within `timeoutMs`. */
export async function readLineFigures(workerUrl: string, adminToken: string, timeoutMs: number): Promise<LineFiguresResult> {
  let body: unknown;
  try {
    const response = await fetch(`${workerUrl}/admin/stats`, { headers: { Authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return { ok: false, reason: `GET /admin/stats answered ${response.status}` };
    body = await response.json();
  } catch (error) {
    return { ok: false, reason: `GET /admin/stats did not answer within ${timeoutMs / 1000} s (${error instanceof Error ? error.message : String(error)})` };
  }
  const lines = (body as { lines?: unknown }).lines;
  if (!Array.isArray(lines)) return { ok: false, reason: "this Worker's GET /admin/stats has no per-line figures (`lines`)" };
  return { ok: true, lines: lines as LineFigures[] };
}

export type UnsyncedCount = { known: true; pending: number; detail: string } | { known: false; reason: string };

/** How many calls and texts the Worker's lines hold that are not written to Notion yet. */
export async function countUnsynced(workerUrl: string, adminToken: string, timeoutMs: number): Promise<UnsyncedCount> {
  const figures = await readLineFigures(workerUrl, adminToken, timeoutMs);
  if (!figures.ok) return { known: false, reason: figures.reason };
  const silent = figures.lines.filter((line) => line.answered === false);
  const pending = figures.lines.reduce((sum, line) => sum + (Number.isFinite(line.pending) ? line.pending : 0), 0);
  const detail = figures.lines
    .filter((line) => line.pending > 0 || line.answered === false)
    .map((line) => `${line.name ?? line.lineId}: ${line.answered === false ? "did not answer" : line.pending}`)
    .join(", ");
  if (silent.length === figures.lines.length && silent.length > 0) return { known: false, reason: "no line answered in time" };
  return { known: true, pending, detail: detail || "none" };
}
