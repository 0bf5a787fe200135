/**
 * The queue consumer's backfill branch: each backfill message is one step of one line's chain, run in parallel with
 * the others, and acked or retried by its own outcome. Permanent failures are handed back to be recorded as dead
 * letters before their ack, like every other message.
 */
import type { DeadLetterInput } from "../db/dead-letters";
import type { Logger } from "../observability/logger";
import type { BackfillMessage } from "../queue/messages";
import { backfillDeps } from "./deps";
import { runBackfillJob } from "./runner";

/** Retry delay for a step that threw (D1 or the queue unavailable): 5 s, 10 s, 20 s … up to 5 minutes. */
function stepRetrySeconds(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}

export async function processBackfillMessages(
  messages: Message<BackfillMessage>[],
  env: Env,
  queue: string,
  failures: DeadLetterInput[],
  log: Logger,
): Promise<void> {
  if (messages.length === 0) return;
  const deps = backfillDeps(env);
  await Promise.all(
    messages.map(async (message) => {
      try {
        const outcome = await runBackfillJob(message.body, deps);
        if (outcome.status === "done") message.ack();
        else if (outcome.status === "retry") message.retry({ delaySeconds: outcome.delaySeconds });
        else failures.push({ messageId: message.id, queue, body: message.body, reason: outcome.reason, attempts: message.attempts });
      } catch (error) {
        log.warn("backfill step failed; retrying it", { runId: message.body?.runId, lineId: message.body?.lineId, error });
        message.retry({ delaySeconds: stepRetrySeconds(message.attempts) });
      }
    }),
  );
}
