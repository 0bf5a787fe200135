/**
 * What the sandbox decides before it starts and says before it stops: `--set` accepts only settings the Worker
 * reads, a busy port is found before anything runs, and Ctrl-C's count comes from the Worker's per-line figures (or
 * says plainly that it cannot be known).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { countUnsynced, freePort, parseSettingOverrides, portsInUse } from "../../scripts/lib/sandbox-control.ts";

const CONFIG = "ALERT_WEBHOOK_URL: url(),\n  ALERT_LAG_SECONDS: int(300),";

describe("--set NAME=VALUE", () => {
  it("takes settings the Worker reads, values with '=' included", () => {
    expect(parseSettingOverrides(["ALERT_WEBHOOK_URL=http://127.0.0.1:9000/?a=b", "ALERT_LAG_SECONDS=60"], CONFIG)).toEqual({ ALERT_WEBHOOK_URL: "http://127.0.0.1:9000/?a=b", ALERT_LAG_SECONDS: "60" });
  });

  it("refuses a missing '=', a lower-case name and a name the Worker never reads", () => {
    expect(() => parseSettingOverrides(["ALERT_LAG_SECONDS"], CONFIG)).toThrow(/NAME=VALUE/);
    expect(() => parseSettingOverrides(["alert_lag_seconds=1"], CONFIG)).toThrow(/NAME=VALUE/);
    expect(() => parseSettingOverrides(["ALERT_LAG=1"], CONFIG)).toThrow(/no setting ALERT_LAG/);
  });
});

describe("ports and the unsynced count", () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  function serve(status: number, body: unknown): Promise<string> {
    server = http.createServer((req, res) => {
      expect(req.headers.authorization).toBe("Bearer token");
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    return new Promise((resolve) => server!.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`)));
  }

  it("names the ports something listens on", async () => {
    const url = await serve(200, {});
    const busy = Number(new URL(url).port);
    const free = await freePort();
    expect(await portsInUse([["--port", busy], ["--notion-port", free]])).toEqual([["--port", busy]]);
  });

  it("sums the lines' pending items and names the lines that hold them", async () => {
    const url = await serve(200, {
      lines: [
        { lineId: "PN1", name: "Main line", pending: 0, oldestPendingSeconds: 0, lastWriteAt: null, lastError: null },
        { lineId: "PN2", name: "Sales", pending: 47, oldestPendingSeconds: 480, lastWriteAt: null, lastError: null },
        { lineId: "PN3", name: "Support", pending: 38, oldestPendingSeconds: 660, lastWriteAt: null, lastError: null },
      ],
    });
    expect(await countUnsynced(url, "token", 2000)).toEqual({ known: true, pending: 85, detail: "Sales: 47, Support: 38" });
  });

  it("says the count is unknown when the Worker has no per-line figures or refuses", async () => {
    const url = await serve(200, { today: [] });
    expect(await countUnsynced(url, "token", 2000)).toMatchObject({ known: false, reason: expect.stringMatching(/no per-line figures/) });
    server!.close();
    const refused = await serve(401, {});
    expect(await countUnsynced(refused, "token", 2000)).toEqual({ known: false, reason: "GET /admin/stats answered 401" });
  });
});
