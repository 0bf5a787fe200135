/**
 * Peak memory of the Worker process while it stores a recording: a 200 MB recording must not need more than twice
 * the memory of a 1 MB one (SPEC, targets), because the bytes are streamed, never held whole.
 *
 * workerd's memory is not visible from inside a Worker, so this runs the built Worker in Miniflare, triggers copies
 * through the admin API (`POST /admin/media/calls/:callId`) and reads the workerd process's resident memory from
 * /proc: the peak (VmHWM, reset before each copy) and the highest VmRSS sampled while it runs.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMediaSourceServer, type MediaSourceServer } from "../media-source-server.ts";

const root = path.resolve(import.meta.dirname, "../..");
const ADMIN_TOKEN = "admin-token-memory-test";
const MB = 1024 * 1024;

let tmp: string;
let source: MediaSourceServer;
let mf: Miniflare;

function workerdPids(): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
      names.set(Number(entry), name);
    } catch {
      // The process ended while we looked.
    }
  }
  const descendsFromUs = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...names].filter(([pid, name]) => name.startsWith("workerd") && descendsFromUs(pid)).map(([pid]) => pid);
}

function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return match ? Number(match[1]) : 0;
}

function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

async function applyMigrations(): Promise<void> {
  const db = await mf.getD1Database("DB");
  for (const file of fs.readdirSync(path.join(root, "migrations")).filter((f) => f.endsWith(".sql")).sort()) {
    const sql = fs.readFileSync(path.join(root, "migrations", file), "utf8").replace(/--.*$/gm, "");
    for (const statement of sql.split(/;\s*$/m).map((s) => s.trim()).filter(Boolean)) await db.prepare(statement).run();
  }
}

/** Stores one recording of `bytes` through the admin API; returns the workerd peak memory in MB while it ran. */
async function storeRecording(callId: string, bytes: number, chunked: boolean): Promise<{ peakMb: number; seconds: number; how: string }> {
  const file = `${callId}.mp3`;
  await fetch(`${source.url}/control/calls/${callId}`, {
    method: "POST",
    body: JSON.stringify({
      call: { id: callId, createdAt: "2026-04-01T12:00:00Z" },
      recordings: [{ id: `CR${callId}`, url: `${source.url}/files/${file}?size=${bytes}${chunked ? "&chunked=1" : ""}`, type: "audio/mpeg", status: "completed", duration: 60, startTime: null }],
      voicemail: null,
    }),
  });
  const pids = workerdPids();
  expect(pids.length).toBeGreaterThan(0);
  const reset = pids.every(resetPeak);
  let sampled = Math.max(...pids.map((pid) => statusKb(pid, "VmRSS")));
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, pids.reduce((sum, pid) => sum + statusKb(pid, "VmRSS"), 0));
  }, 25);
  const started = performance.now();
  try {
    const response = await mf.dispatchFetch(`http://localhost/admin/media/calls/${callId}`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = (await response.json()) as { results: { status: string; size?: number }[] };
    expect(response.status).toBe(200);
    expect(body.results).toEqual([expect.objectContaining({ status: "stored", size: bytes })]);
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const peakKb = reset ? Math.max(sampled, pids.reduce((sum, pid) => sum + statusKb(pid, "VmHWM"), 0)) : sampled;
  // Miniflare's R2 proxy is typed loosely under Node's lib; only head() is used.
  const bucket = (await mf.getR2Bucket("MEDIA")) as unknown as { head(key: string): Promise<{ size: number } | null> };
  const object = await bucket.head(`recordings/2026/04/01/${callId}/CR${callId}.mp3`);
  expect(object?.size).toBe(bytes);
  return { peakMb: peakKb / 1024, seconds, how: reset ? "VmHWM after a reset, and VmRSS sampled every 25 ms" : "VmRSS sampled every 25 ms (VmHWM could not be reset)" };
}

describe("memory while storing a recording", () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "media-memory-"));
    await promisify(execFile)(path.join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", path.join(tmp, "dist")], {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
    source = await startMediaSourceServer();
    mf = new Miniflare({
      modules: true,
      scriptPath: path.join(tmp, "dist", "index.js"),
      modulesRoot: path.join(tmp, "dist"),
      compatibilityDate: "2026-04-26",
      compatibilityFlags: ["nodejs_compat"],
      bindings: {
        OPENPHONE_API_KEY: "op-memory-test-key",
        OPENPHONE_API_BASE: source.url,
        ADMIN_TOKEN,
        MEDIA_SIGNING_KEYS: "media-signing-key-memory-0001",
      },
      r2Buckets: ["MEDIA"],
      kvNamespaces: ["FLAGS"],
      d1Databases: { DB: "openphone-notion-sync" },
      durableObjects: { LINE: { className: "LineDurableObject", useSQLite: true }, GATE: { className: "GateDurableObject", useSQLite: true } },
      queueProducers: { SYNC_QUEUE: "sync-events" },
      // Stored objects go to disk, as R2 keeps them off the Worker; in-memory storage would count them as ours.
      defaultPersistRoot: path.join(tmp, "state"),
      host: "127.0.0.1",
      port: 0,
    });
    await mf.ready;
    await applyMigrations();
  }, 180_000);

  afterAll(async () => {
    try {
      await mf?.dispose();
      await source?.close();
    } finally {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("stays within 2 × the 1 MB peak for a 200 MB recording, with and without Content-Length", async () => {
    await storeRecording("ACmemwarm", 1 * MB, false);
    const small = await storeRecording("ACmem1mb", 1 * MB, false);
    const large = await storeRecording("ACmem200mb", 200 * MB, false);
    const chunked = await storeRecording("ACmem200mbchunked", 200 * MB, true);
    console.log(
      [
        `workerd peak resident memory while storing one recording (${small.how}):`,
        `  1 MB (Content-Length):    ${small.peakMb.toFixed(1)} MB in ${small.seconds.toFixed(1)} s`,
        `  200 MB (Content-Length):  ${large.peakMb.toFixed(1)} MB in ${large.seconds.toFixed(1)} s (${(large.peakMb / small.peakMb).toFixed(2)} ×)`,
        `  200 MB (chunked, multipart): ${chunked.peakMb.toFixed(1)} MB in ${chunked.seconds.toFixed(1)} s (${(chunked.peakMb / small.peakMb).toFixed(2)} ×)`,
      ].join("\n"),
    );
    expect(large.peakMb).toBeLessThanOrEqual(2 * small.peakMb);
    expect(chunked.peakMb).toBeLessThanOrEqual(2 * small.peakMb);
  }, 600_000);
});
