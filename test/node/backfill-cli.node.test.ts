import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { parseBackfillArgs, renderProgress, runBackfillCli, UsageError, type Progress } from "../../scripts/lib/backfill-client.ts";

function progress(overrides: Partial<Progress>): Progress {
  return {
    id: "run1",
    status: "running",
    trigger: "cli",
    since: "2026-01-01T00:00:00.000Z",
    lines: [
      { id: "PNa", status: "running", conversations: 25, listed: 4, items: 180, error: null },
      { id: "PNb", status: "completed", conversations: 15, listed: 6, items: 120, error: null },
    ],
    planned: 40,
    listed: 10,
    fetched: 300,
    handed: 280,
    written: 270,
    skipped: 20,
    failed: 0,
    requests: { openphone: 90, notion: 0 },
    error: null,
    startedAt: "2026-02-01T10:00:00.000Z",
    endedAt: null,
    elapsedSeconds: 12.5,
    ...overrides,
  };
}

describe("npm run backfill arguments", () => {
  it("defaults to the sandbox and takes lines after --line", () => {
    expect(parseBackfillArgs(["--since", "2026-01-01", "--line", "PNa", "PNb"])).toEqual({
      url: "http://127.0.0.1:8787",
      token: "sandbox-admin-token",
      since: "2026-01-01",
      lines: ["PNa", "PNb"],
      intervalMs: 1000,
    });
    expect(parseBackfillArgs(["--url", "https://sync.example.com/", "--token", "t"], {})).toMatchObject({ url: "https://sync.example.com", token: "t", lines: [] });
    expect(parseBackfillArgs([], { ADMIN_TOKEN: "from-env" }).token).toBe("from-env");
  });

  it("says what is wrong with bad arguments", () => {
    expect(() => parseBackfillArgs(["2026-01-01"])).toThrow(UsageError);
    expect(() => parseBackfillArgs(["--url", "localhost:8787"])).toThrow(/--url must start with http/);
  });
});

describe("the progress bar", () => {
  it("shows conversations listed over planned, items and requests", () => {
    expect(renderProgress(progress({}), 10)).toBe(
      "[###.......]  25% lines 1/2 · conversations 10/40 · items 300 (handed 280, written 270, skipped 20, failed 0) · OpenPhone requests 90 · 12.5 s",
    );
    expect(renderProgress(progress({ status: "completed", listed: 40 }), 4)).toMatch(/^\[####\] 100%/);
  });
});

describe("following a run", () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serve(states: Progress[], start: { status: number; body: object } = { status: 202, body: { id: "run1" } }) {
    const seen: { method: string; url: string; auth?: string; body: string }[] = [];
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
        const reply = req.method === "POST" ? start : { status: 200, body: states.length > 1 ? states.shift()! : states[0]! };
        res.writeHead(reply.status, { "Content-Type": "application/json" }).end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
  }

  it("starts a run, prints progress until it completes and exits 0", async () => {
    const { url, seen } = await serve([progress({}), progress({ listed: 30 }), progress({ status: "completed", listed: 40, fetched: 500, handed: 480, written: 470 })]);
    let printed = "";
    const code = await runBackfillCli({ url, token: "tok", since: "2026-01-01", lines: ["PNa"], intervalMs: 50 }, { write: (t) => (printed += t), isTTY: true }, async () => {});
    expect(code).toBe(0);
    expect(seen[0]).toMatchObject({ method: "POST", url: "/admin/backfill", auth: "Bearer tok", body: JSON.stringify({ since: "2026-01-01", lines: ["PNa"] }) });
    expect(seen.slice(1).every((s) => s.url === "/admin/backfill/run1")).toBe(true);
    expect(printed).toContain("Backfill run run1 started");
    expect(printed).toContain("conversations 30/40");
    expect(printed).toContain("Run run1 completed in 12.5 s: 480 handed to the lines, 470 written to Notion, 20 skipped, 0 failed, 90 OpenPhone requests");
    expect(printed).toContain("10 item(s) still waiting to be written by their line");
  });

  it("exits 1 when the run failed, with its last error", async () => {
    const { url } = await serve([progress({ status: "failed", error: "PNa: OpenPhone refused the API key" })], { status: 200, body: { id: "run1", alreadyRunning: true } });
    let printed = "";
    const code = await runBackfillCli({ url, token: "tok", lines: [], intervalMs: 50 }, { write: (t) => (printed += t), isTTY: false }, async () => {});
    expect(code).toBe(1);
    expect(printed).toContain("already running: following run run1");
    expect(printed).toContain("Last error: PNa: OpenPhone refused the API key");
  });

  it("exits 2 with the server's reason when the request is refused", async () => {
    const { url } = await serve([], { status: 400, body: { error: "request_error", message: "since is in the future: 2030-01-01" } });
    let printed = "";
    const code = await runBackfillCli({ url, token: "tok", since: "2030-01-01", lines: [], intervalMs: 50 }, { write: (t) => (printed += t), isTTY: false });
    expect(code).toBe(2);
    expect(printed).toBe("backfill refused (400): since is in the future: 2030-01-01\n");
  });
});
