/**
 * Queue consumer. A batch is grouped by line and each group goes to its Line Durable Object in one RPC; every
 * message is then acked or retried by its own outcome. Permanent failures are recorded in D1 before the ack, so
 * nothing is dropped silently. The dead-letter queue's consumer records what lands there.
 */
import { incrementMetrics } from "../db/metrics";
import { newRequestCounter } from "../gates/gated-fetch";
import { recordDeadLetters, type DeadLetterInput } from "../db/dead-letters";
import { createLogger } from "../observability/logger";
import { getConfig } from "../config";
import { processBackfillMessages } from "../backfill/queue";
import type { BackfillMessage, MessageOutcome, SyncMessage } from "./messages";
import { resolveUnroutedKeys } from "./routing";

export const DEAD_LETTER_QUEUE = "sync-events-dlq";

/** Backoff with full jitter: 5 s, 10 s, 20 s … capped at 15 minutes. */
export function backoffSeconds(attempts: number, random = Math.random): number {
  const ceiling = Math.min(900, 5 * 2 ** Math.max(0, attempts - 1));
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}

export async function handleQueueBatch(batch: MessageBatch<SyncMessage>, env: Env): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE) return recordDeadLetterBatch(batch, env);
  const { config } = getConfig(env);
  const log = createLogger(config.LOG_LEVEL, { queue: batch.queue });

  const failures: DeadLetterInput[] = [];
  // Backfill steps go to the job runner, one per message and in parallel (one chain per line); the rest to the lines.
  const backfill = batch.messages.filter((m): m is Message<BackfillMessage> => m.body?.type === "backfill");
  const events = batch.messages.filter((m) => m.body?.type !== "backfill");
  const backfillDone = processBackfillMessages(backfill, env, batch.queue, failures, log);

  const routing = newRequestCounter();
  const routes = await resolveUnroutedKeys(env, config, events.map((m) => m.body), routing);
  if (routing.openphone > 0) {
    await incrementMetrics(env.DB, { "openphone.requests.routing": routing.openphone }).catch((error) => log.warn("could not count the routing requests", { error }));
  }
  // The body handed to the Line DO carries the resolved line; the message itself is only acked or retried.
  const byLine = new Map<string, { message: Message<SyncMessage>; body: SyncMessage }[]>();
  for (const message of events) {
    let lineId = typeof message.body?.lineId === "string" && message.body.lineId ? message.body.lineId : "unknown";
    const route = routes.get(lineId);
    if (route && "retryAfterMs" in route) {
      message.retry({ delaySeconds: Math.max(Math.ceil(route.retryAfterMs / 1000), backoffSeconds(message.attempts)) });
      continue;
    }
    if (route && "failed" in route) {
      failures.push({ messageId: message.id, queue: batch.queue, resourceId: resourceIdOf(message.body), body: message.body, reason: route.failed, attempts: message.attempts });
      continue;
    }
    if (route) lineId = route.lineId;
    const group = byLine.get(lineId) ?? [];
    group.push({ message, body: lineId === message.body.lineId ? message.body : { ...message.body, lineId } });
    byLine.set(lineId, group);
  }

  await Promise.all([
    backfillDone,
    ...[...byLine].map(async ([lineId, entries]) => {
      let outcomes: MessageOutcome[];
      try {
        const stub = env.LINE.get(env.LINE.idFromName(lineId));
        const result = await stub.ingest(entries.map((e) => e.body));
        outcomes = result.outcomes;
      } catch (error) {
        log.warn("line ingest failed; retrying the group", { lineId, error });
        outcomes = entries.map((e) => ({ status: "retry", delaySeconds: backoffSeconds(e.message.attempts), reason: String(error) }));
      }
      entries.forEach(({ message }, i) => {
        const outcome = outcomes[i] ?? { status: "retry", delaySeconds: backoffSeconds(message.attempts), reason: "no outcome" };
        if (outcome.status === "done") message.ack();
        else if (outcome.status === "retry") message.retry({ delaySeconds: outcome.delaySeconds });
        else {
          failures.push({
            messageId: message.id,
            queue: batch.queue,
            resourceId: resourceIdOf(message.body),
            body: message.body,
            reason: outcome.reason,
            property: outcome.property,
            attempts: message.attempts,
          });
        }
      });
    }),
  ]);
  if (failures.length > 0) {
    // Record first, then ack: if D1 is down the messages come back instead of vanishing.
    try {
      await recordDeadLetters(env.DB, failures);
      const failedIds = new Set(failures.map((f) => f.messageId));
      for (const m of batch.messages) if (failedIds.has(m.id)) m.ack();
    } catch (error) {
      log.error("could not record permanent failures; retrying them", { error });
      const failedIds = new Set(failures.map((f) => f.messageId));
      for (const m of batch.messages) if (failedIds.has(m.id)) m.retry({ delaySeconds: backoffSeconds(m.attempts) });
    }
  }
}

async function recordDeadLetterBatch(batch: MessageBatch<SyncMessage>, env: Env): Promise<void> {
  await recordDeadLetters(
    env.DB,
    batch.messages.map((m) => ({
      messageId: m.id,
      queue: batch.queue,
      resourceId: resourceIdOf(m.body),
      body: m.body,
      reason: "exhausted its retries on sync-events",
      attempts: m.attempts,
    })),
  );
  batch.ackAll();
}

function resourceIdOf(body: SyncMessage): string | undefined {
  if (body?.type !== "webhook") return undefined;
  const object = (body.envelope as { data?: { object?: { id?: unknown; callId?: unknown } } })?.data?.object;
  const id = object?.callId ?? object?.id;
  return typeof id === "string" ? id : undefined;
}
