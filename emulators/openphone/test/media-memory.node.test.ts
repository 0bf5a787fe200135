/**
 * A 200 MB recording streamed from an emulator running in its own process (as in the sandbox), while the test reads
 * the emulator's resident memory from its stats. Memory must stay flat: the bytes are generated while streaming.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..", "..", "..");
const KEY = "memory-test-key";
const MB = 1024 * 1024;

interface Stats {
  process: { rssBytes: number; heapUsedBytes: number };
}

describe("200 MB recording", () => {
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    child = spawn(process.execPath, ["--import", "tsx", path.join(root, "emulators", "openphone", "main.ts"), "--port", "0", "--key", KEY], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    url = await new Promise<string>((resolve, reject) => {
      let output = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const found = /listening on (http:\/\/[^\s]+)/.exec(output);
        if (found) resolve(found[1]!);
      });
      child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
    });
    // Recordings become available 5 ms after the call instead of 5 s.
    await fetch(`${url}/_emulator/config`, { method: "PUT", body: JSON.stringify({ timeFactor: 1000 }) });
  });

  afterAll(() => {
    child?.kill("SIGTERM");
  });

  async function stats(): Promise<Stats> {
    return (await (await fetch(`${url}/_emulator/stats`)).json()) as Stats;
  }

  async function streamRecording(bytes: number): Promise<{ received: number; peakRss: number; baselineRss: number; seconds: number }> {
    const created = (await (await fetch(`${url}/_emulator/calls`, { method: "POST", body: JSON.stringify({ status: "answered", recording: { segments: 1, bytes } }) })).json()) as { callId: string };
    await new Promise((resolve) => setTimeout(resolve, 50));
    const recordings = (await (await fetch(`${url}/v1/call-recordings/${created.callId}`, { headers: { Authorization: KEY } })).json()) as { data: { url: string | null }[] };
    const mediaUrl = recordings.data[0]!.url;
    expect(mediaUrl).toMatch(/\/media\//);
    const baselineRss = (await stats()).process.rssBytes;
    let peakRss = baselineRss;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, (await stats()).process.rssBytes);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const started = Date.now();
    const response = await fetch(mediaUrl!);
    expect(response.headers.get("content-length")).toBe(String(bytes));
    let received = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) received += chunk.byteLength;
    sampling = false;
    await sampler;
    return { received, peakRss, baselineRss, seconds: (Date.now() - started) / 1000 };
  }

  it("streams every byte while the emulator's memory stays flat", { timeout: 180_000 }, async () => {
    const small = await streamRecording(1 * MB);
    const large = await streamRecording(200 * MB);
    expect(small.received).toBe(1 * MB);
    expect(large.received).toBe(200 * MB);
    const growthMb = (large.peakRss - large.baselineRss) / MB;
    console.log(
      `OpenPhone emulator RSS: 1 MB recording peak ${(small.peakRss / MB).toFixed(1)} MB; 200 MB recording baseline ${(large.baselineRss / MB).toFixed(1)} MB, peak ${(large.peakRss / MB).toFixed(1)} MB (+${growthMb.toFixed(1)} MB), ${(200 / large.seconds).toFixed(0)} MB/s`,
    );
    // Buffering the file would add 200 MB; generated streaming adds a few chunks and GC slack.
    expect(growthMb).toBeLessThan(60);
  });
});
