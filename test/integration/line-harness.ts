/**
 * Driving a Line Durable Object from a test: hand it the settings a deployment would have, and run its alarm until
 * nothing due now is waiting.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { LineDurableObject } from "../../src/line/line-durable-object";
import { TEST_SETTINGS } from "./fake-apis";

export type Line = DurableObjectStub<LineDurableObject>;

/** The line's object; the test runtime gives Durable Objects no secrets, so it gets TEST_SETTINGS and `overrides`. */
export async function lineWithSettings(name: string, overrides: Record<string, string> = {}): Promise<Line> {
  const stub = env.LINE.get(env.LINE.idFromName(name));
  await runInDurableObject(stub, (instance) => {
    (instance as unknown as { env: Env }).env = { ...env, ...TEST_SETTINGS, ...overrides } as unknown as Env;
  });
  return stub;
}

/** Runs the alarm (it may also fire on its own) until nothing due now is waiting or being flushed. */
export async function flush(stub: Line): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await runDurableObjectAlarm(stub);
    const waiting = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM resources WHERE dirty = 1 AND failed_at IS NULL AND due_at <= ?", Date.now()).one().n);
    if (waiting === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the line never finished flushing");
}
