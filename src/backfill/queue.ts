/**
 * The queue consumer's backfill branch: each backfill message is one step of one line's chain, run in parallel with
 * the others, and acked or retried by its own outcome. Permanent failures are handed back to be recorded as dead
 * letters before their ack, like every other message.
 */
import type { DeadLetterInput } from "../db/dead-letters";
import type { Logger } from "../observability/logger";
import type { BackfillMessage } from "../queue/messages";
import { backoffSeconds, type BackoffPolicy } from "../retry/backoff";
import { backfillDeps } from "./deps";
import { runBackfillJob } from "./runner";

/** A step that threw (D1 or the queue unavailable) comes back within 5 s, 10 s, 20 s … of its attempts, at most 5 minutes. */
export const STEP_RETRY_BACKOFF: BackoffPolicy = { baseMs: 5000, capMs: 5 * 60_000 };

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
        message.retry({ delaySeconds: backoffSeconds(STEP_RETRY_BACKOFF, message.attempts) });
      }
    }),
  );
}
