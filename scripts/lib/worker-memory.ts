/**
 * Peak memory of the Worker process while it stores a recording, for the memory test
 * (`test/node/media-memory.node.test.ts`) and `npm run bench`.
 *
 * workerd's memory is not visible from inside a Worker, so this builds the Worker (`wrangler deploy --dry-run`), runs
 * it in Miniflare, triggers copies through the admin API (`POST /admin/media/calls/:callId`) from a local media source,
 * and reads the workerd process's resident memory from /proc: its baseline just before each copy (VmRSS), and its peak
 * while the copy runs (VmHWM, reset before each copy, and the highest VmRSS sampled every 25 ms).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Miniflare } from "miniflare";
import { startMediaSourceServer, type MediaSourceServer } from "../../test/media-source-server.ts";

const root = path.resolve(import.meta.dirname, "..", "..");
const ADMIN_TOKEN = "admin-token-memory-test";
export const MB = 1024 * 1024;

export interface StoredRecording {
  /** workerd's resident memory just before the copy, MB. */
  baselineMb: number;
  /** Its peak while the copy ran, MB. */
  peakMb: number;
  seconds: number;
  /** How the peak was read. */
  how: string;
}

export interface MemoryWorker {
  /** Stores one recording of `bytes` (with Content-Length, or chunked); throws unless it was stored whole. */
  storeRecording(callId: string, bytes: number, chunked: boolean): Promise<StoredRecording>;
  close(): Promise<void>;
}

/** The workerd processes started by this process (Miniflare's), found through /proc. */
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

async function applyMigrations(mf: Miniflare): Promise<void> {
  const db = await mf.getD1Database("DB");
  for (const file of fs.readdirSync(path.join(root, "migrations")).filter((f) => f.endsWith(".sql")).sort()) {
    const sql = fs.readFileSync(path.join(root, "migrations", file), "utf8").replace(/--.*$/gm, "");
    for (const statement of sql.split(/;\s*$/m).map((s) => s.trim()).filter(Boolean)) await db.prepare(statement).run();
  }
}

const sum = (pids: number[], field: "VmRSS" | "VmHWM") => pids.reduce((total, pid) => total + statusKb(pid, field), 0);

/** Builds the Worker and starts it in Miniflare with a media source of its own; `close()` stops both. */
export async function startMemoryWorker(): Promise<MemoryWorker> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "media-memory-"));
  let source: MediaSourceServer | undefined;
  let mf: Miniflare | undefined;
  const close = async () => {
    try {
      await mf?.dispose();
      await source?.close();
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  };
  try {
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
        // Only the media copies are measured: no start-up checks of a Notion and webhooks this Worker has none of.
        DOCTOR_AT_START: "false",
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
    await applyMigrations(mf);
  } catch (error) {
    await close();
    throw error;
  }
  const worker = mf;
  const media = source;

  const storeRecording = async (callId: string, bytes: number, chunked: boolean): Promise<StoredRecording> => {
    const file = `${callId}.mp3`;
    await fetch(`${media.url}/control/calls/${callId}`, {
      method: "POST",
      body: JSON.stringify({
        call: { id: callId, createdAt: "2026-04-01T12:00:00Z" },
        recordings: [{ id: `CR${callId}`, url: `${media.url}/files/${file}?size=${bytes}${chunked ? "&chunked=1" : ""}`, type: "audio/mpeg", status: "completed", duration: 60, startTime: null }],
        voicemail: null,
      }),
    });
    const pids = workerdPids();
    if (pids.length === 0) throw new Error("no workerd process of this one's was found in /proc");
    const reset = pids.every(resetPeak);
    const baselineKb = sum(pids, "VmRSS");
    let sampled = baselineKb;
    const sampler = setInterval(() => {
      sampled = Math.max(sampled, sum(pids, "VmRSS"));
    }, 25);
    const started = performance.now();
    try {
      const response = await worker.dispatchFetch(`http://localhost/admin/media/calls/${callId}`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      const body = (await response.json()) as { results?: { status: string; size?: number }[] };
      const result = body.results?.length === 1 ? body.results[0] : undefined;
      if (response.status !== 200 || result?.status !== "stored" || result.size !== bytes) throw new Error(`storing ${callId} answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    const peakKb = reset ? Math.max(sampled, sum(pids, "VmHWM")) : sampled;
    // Miniflare's R2 proxy is typed loosely under Node's lib; only head() is used.
    const bucket = (await worker.getR2Bucket("MEDIA")) as unknown as { head(key: string): Promise<{ size: number } | null> };
    const object = await bucket.head(`recordings/2026/04/01/${callId}/CR${callId}.mp3`);
    if (object?.size !== bytes) throw new Error(`R2 holds ${object?.size ?? "nothing"} bytes for ${callId}, not ${bytes}`);
    return { baselineMb: baselineKb / 1024, peakMb: peakKb / 1024, seconds, how: reset ? "VmHWM after a reset, and VmRSS sampled every 25 ms" : "VmRSS sampled every 25 ms (VmHWM could not be reset)" };
  };

  return { storeRecording, close };
}
