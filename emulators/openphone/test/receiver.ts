/** A webhook receiver for the emulator's delivery tests: it keeps what arrives and can refuse the next requests. */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Delivery<Envelope> {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  envelope: Envelope;
}

export class WebhookReceiver<Envelope> {
  readonly received: Delivery<Envelope>[] = [];
  /** Status to answer for the next requests (shifted off), then 200. */
  failures: number[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const status = this.failures.shift() ?? 200;
      if (status === 200) this.received.push({ path: req.url ?? "", headers: req.headers, raw, envelope: JSON.parse(raw) as Envelope });
      res.writeHead(status).end(status === 200 ? "ok" : "refused");
    });
  });

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Waits (bounded) until `count` deliveries arrived or `until` holds; answers what arrived either way. */
  async waitFor(until: number | ((received: Delivery<Envelope>[]) => boolean), timeoutMs = 20_000): Promise<Delivery<Envelope>[]> {
    const done = typeof until === "number" ? (r: Delivery<Envelope>[]) => r.length >= until : until;
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.received;
  }
}
