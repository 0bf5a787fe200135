/** Child processes of the sandbox and the end-to-end tests: started in their own process groups, stopped together. */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { appendFileSync } from "node:fs";

export interface Started {
  name: string;
  child: ChildProcess;
  output: string[];
}

export class ProcessGroup {
  readonly started: Started[] = [];

  /**
   * Starts a long-running process in its own process group, so stopping it also stops what it started
   * (wrangler → workerd, npm → tsx → node). Output is prefixed with the name unless `quiet`; all of it is also
   * appended to `logFile` when given (the last 200 lines are kept in memory either way).
   */
  spawn(name: string, command: string, args: string[], options: SpawnOptions & { quiet?: boolean; logFile?: string } = {}): Started {
    // Emulators stop by themselves once this process is gone (emulators/shared/owner-watch.ts), even if it is killed.
    const env = { ...(options.env ?? process.env), EMULATOR_OWNER_PID: String(process.pid) };
    const child = spawn(command, args, { ...options, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const entry: Started = { name, child, output: [] };
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        entry.output.push(line);
        if (entry.output.length > 200) entry.output.shift();
        if (!options.quiet) process.stdout.write(`[${name}] ${line}\n`);
        if (options.logFile) appendFileSync(options.logFile, `${line}\n`);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    this.started.push(entry);
    return entry;
  }

  /** Runs a command to completion; rejects with its output when it fails. */
  async run(name: string, command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
    const entry = this.spawn(name, command, args, { ...options, quiet: true });
    const code = await new Promise<number | null>((resolve) => entry.child.on("exit", resolve));
    this.started.splice(this.started.indexOf(entry), 1);
    const output = entry.output.join("\n");
    if (code !== 0) throw new Error(`${name} failed (exit ${code}):\n${output}`);
    return output;
  }

  /** Sends `signal` to one started process's group, waits for it to exit and forgets it (a crash in a test). */
  async kill(entry: Started, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const exited = entry.child.exitCode !== null || entry.child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => entry.child.once("exit", () => resolve()));
    killGroup(entry.child, signal);
    await exited;
    const index = this.started.indexOf(entry);
    if (index >= 0) this.started.splice(index, 1);
  }

  /** SIGTERM to every group, then SIGKILL to whatever is still alive after the grace period. */
  async stopAll(graceMs = 5000): Promise<void> {
    const alive = this.started.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    await Promise.all(
      alive.map(
        (s) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              killGroup(s.child, "SIGKILL");
              resolve();
            }, graceMs);
            s.child.once("exit", () => {
              clearTimeout(timer);
              killGroup(s.child, "SIGKILL"); // grandchildren that ignored SIGTERM
              resolve();
            });
            killGroup(s.child, "SIGTERM");
          }),
      ),
    );
    this.started.length = 0;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Polls a URL until it answers (any HTTP status), a started process exits, or the time runs out. */
export async function waitForHttp(url: string, timeoutMs: number, group?: ProcessGroup): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = group?.started.find((s) => s.child.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited (code ${dead.child.exitCode}):\n${dead.output.slice(-20).join("\n")}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}
