/**
 * Driving a Line Durable Object from a test: its stub, and running its alarm until nothing due now is waiting. The
 * object runs with the bindings of vitest.config.ts (a minute's coalescing window, so its alarm runs when the test
 * runs it, not on its own).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { LineDurableObject } from "../../src/line/line-durable-object";

export type Line = DurableObjectStub<LineDurableObject>;

/** The line's object. */
export function line(name: string): Line {
  return env.LINE.get(env.LINE.idFromName(name));
}

/** Ends every coalescing window of the line now (what a minute passing does); a retry's backoff is left as it is. */
export async function endCoalescing(stub: Line): Promise<void> {
  await runInDurableObject(stub, (_i, state) => void state.storage.sql.exec("UPDATE resources SET due_at = ? WHERE dirty = 1 AND attempts = 0 AND due_at > ?", Date.now(), Date.now()));
}

/**
 * Ends the coalescing windows, then runs the alarm (it may also fire on its own) until nothing due now is waiting or
 * being flushed.
 */
export async function flush(stub: Line): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await endCoalescing(stub);
    await runDurableObjectAlarm(stub);
    const waiting = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM resources WHERE dirty = 1 AND failed_at IS NULL AND due_at <= ?", Date.now()).one().n);
    if (waiting === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the line never finished flushing");
}
