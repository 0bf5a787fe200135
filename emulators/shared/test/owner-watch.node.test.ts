/**
 * An emulator whose starter is gone stops by itself: started with EMULATOR_OWNER_PID naming a process that then
 * exits, each emulator's main exits on its own and frees its port; without the variable it keeps running.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../../scripts/lib/sandbox-control.ts";

const root = path.resolve(import.meta.dirname, "../../..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");
const started: ChildProcess[] = [];

// Each emulator runs as tsx → node in a process group of its own: the whole group is killed, not only tsx.
afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

function exited(child: ChildProcess, withinMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), withinMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

async function startEmulator(kind: "openphone" | "notion", port: number, owner?: number): Promise<ChildProcess> {
  const args = kind === "openphone" ? ["emulators/openphone/main.ts", "--port", String(port), "--key", "k"] : ["emulators/notion/main.ts", "--port", String(port), "--token", "t"];
  const env = { ...process.env };
  delete env.EMULATOR_OWNER_PID;
  if (owner !== undefined) env.EMULATOR_OWNER_PID = String(owner);
  const child = spawn(tsx, args, { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("listening on")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${kind} emulator exited (${code}) before listening: ${output}`)));
  });
  return child;
}

describe("an emulator whose starter is gone", () => {
  for (const kind of ["openphone", "notion"] as const) {
    it(`stops by itself (${kind})`, async () => {
      const owner = spawn(process.execPath, ["-e", "setTimeout(() => {}, 600_000)"], { detached: true, stdio: "ignore" });
      started.push(owner);
      const port = await freePort();
      const emulator = await startEmulator(kind, port, owner.pid);
      expect(await answers(`http://127.0.0.1:${port}/`)).toBe(true);
      owner.kill("SIGKILL");
      expect(await exited(emulator, 30_000)).toBe(true);
      expect(await answers(`http://127.0.0.1:${port}/`)).toBe(false);
    }, 90_000);
  }

  it("keeps running without an owner", async () => {
    const port = await freePort();
    const emulator = await startEmulator("openphone", port);
    expect(await exited(emulator, 5000)).toBe(false);
    expect(await answers(`http://127.0.0.1:${port}/`)).toBe(true);
  }, 90_000);
});
