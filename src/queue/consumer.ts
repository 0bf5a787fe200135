/**
 * Queue consumer. A batch is grouped by line and each group goes to its Line Durable Object in one RPC; every
 * message is then acked or retried by its own outcome. Permanent failures are recorded in D1 before the ack, so
 * nothing is dropped silently. The dead-letter queue's consumer records what lands there.
 *
 * No single message can fail its batch: each body is read and checked on its own first (a body that cannot be read,
 * is not a sync message or nests deeper than any real event is recorded as a dead letter with the reason and acked),
 * and only sound bodies travel on to the lines.
 */
import { incrementMetrics } from "../db/metrics";
import { newRequestCounter } from "../gates/gated-fetch";
import { recordDeadLetters, type DeadLetterInput } from "../db/dead-letters";
import { createLogger, type Logger } from "../observability/logger";
import { getConfig } from "../config";
import { processBackfillMessages } from "../backfill/queue";
import { MAX_WEBHOOK_DEPTH, valueNestsDeeperThan } from "../webhooks/envelope";
import { resourceIdOf as resourceIdOfEnvelope } from "../webhooks/normalise";
import type { BackfillMessage, MessageOutcome, SyncMessage } from "./messages";
import { isUnroutedKey, resolveUnroutedKeys, type Route } from "./routing";
import { backoffSeconds, type BackoffPolicy } from "../retry/backoff";

export const DEAD_LETTER_QUEUE = "sync-events-dlq";

/** A message that could not be processed comes back within 5 s, 10 s, 20 s … of its attempts, at most 15 minutes. */
export const QUEUE_RETRY_BACKOFF: BackoffPolicy = { baseMs: 5000, capMs: 15 * 60_000 };

/** A queue message wraps the envelope in a few levels of its own. */
export const MAX_MESSAGE_DEPTH = MAX_WEBHOOK_DEPTH + 4;

export type ReadMessage = { ok: true; body: SyncMessage } | { ok: false; reason: string };

/** A message's body if it is a sound sync message, else why not. Never throws. */
export function readMessage(message: Message<unknown>): ReadMessage {
  let body: unknown;
  try {
    body = message.body;
  } catch (error) {
    return { ok: false, reason: `the message body cannot be read: ${describeError(error)}` };
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return { ok: false, reason: `the message body is ${body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`}, not a sync message` };
  }
  const type = (body as { type?: unknown }).type;
  if (type !== "webhook" && type !== "backfill") return { ok: false, reason: `the message body has the unknown type ${JSON.stringify(type ?? null)}` };
  try {
    if (valueNestsDeeperThan(body, MAX_MESSAGE_DEPTH)) return { ok: false, reason: `the message body nests deeper than ${MAX_MESSAGE_DEPTH} levels; no real event does` };
  } catch (error) {
    return { ok: false, reason: `the message body cannot be read: ${describeError(error)}` };
  }
  return { ok: true, body: body as SyncMessage };
}

export async function handleQueueBatch(batch: MessageBatch<SyncMessage>, env: Env): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE) return recordDeadLetterBatch(batch, env);
  const { config } = getConfig(env);
  const log = createLogger(config.LOG_LEVEL, { queue: batch.queue });

  const failures: DeadLetterInput[] = [];
  const backfill: Message<BackfillMessage>[] = [];
  const events: { message: Message<SyncMessage>; body: SyncMessage }[] = [];
  for (const message of batch.messages) {
    const read = readMessage(message);
    if (!read.ok) {
      log.error("unreadable queue message; recording it as a dead letter", { messageId: message.id, reason: read.reason });
      failures.push({ messageId: message.id, queue: batch.queue, body: null, reason: read.reason, attempts: message.attempts });
    } else if (read.body.type === "backfill") backfill.push(message as Message<BackfillMessage>);
    else events.push({ message, body: read.body });
  }
  // Backfill steps go to the job runner, one per message and in parallel (one chain per line); the rest to the lines.
  const backfillDone = processBackfillMessages(backfill, env, batch.queue, failures, log);

  const routing = newRequestCounter();
  let routes: Map<string, Route>;
  try {
    routes = await resolveUnroutedKeys(env, config, events.map((e) => e.body), routing);
  } catch (error) {
    // Only the events that need a route wait for it; the others go on.
    log.warn("could not resolve the lines of unrouted events; retrying them", { error });
    routes = new Map(events.filter((e) => isUnroutedKey(e.body.lineId)).map((e) => [e.body.lineId, { retryAfterMs: 0, reason: String(error) }]));
  }
  if (routing.openphone > 0) {
    await incrementMetrics(env.DB, { "openphone.requests.routing": routing.openphone }).catch((error) => log.warn("could not count the routing requests", { error }));
  }
  // The body handed to the Line DO carries the resolved line; the message itself is only acked or retried.
  const byLine = new Map<string, { message: Message<SyncMessage>; body: SyncMessage }[]>();
  for (const { message, body } of events) {
    let lineId = typeof body.lineId === "string" && body.lineId ? body.lineId : "unknown";
    const route = routes.get(lineId);
    if (route && "retryAfterMs" in route) {
      message.retry({ delaySeconds: Math.max(Math.ceil(route.retryAfterMs / 1000), backoffSeconds(QUEUE_RETRY_BACKOFF, message.attempts)) });
      continue;
    }
    if (route && "failed" in route) {
      failures.push({ messageId: message.id, queue: batch.queue, resourceId: resourceIdOf(body), body, reason: route.failed, attempts: message.attempts });
      continue;
    }
    if (route) lineId = route.lineId;
    const group = byLine.get(lineId) ?? [];
    group.push({ message, body: lineId === body.lineId ? body : { ...body, lineId } });
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
        outcomes = entries.map((e) => ({ status: "retry", delaySeconds: backoffSeconds(QUEUE_RETRY_BACKOFF, e.message.attempts), reason: String(error) }));
      }
      entries.forEach(({ message, body }, i) => {
        const outcome = outcomes[i] ?? { status: "retry", delaySeconds: backoffSeconds(QUEUE_RETRY_BACKOFF, message.attempts), reason: "no outcome" };
        if (outcome.status === "done") message.ack();
        else if (outcome.status === "retry") message.retry({ delaySeconds: outcome.delaySeconds });
        else {
          failures.push({
            messageId: message.id,
            queue: batch.queue,
            resourceId: resourceIdOf(body),
            body,
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
      for (const m of batch.messages) if (failedIds.has(m.id)) m.retry({ delaySeconds: backoffSeconds(QUEUE_RETRY_BACKOFF, m.attempts) });
    }
  }
}

/**
 * What lands on the dead-letter queue is recorded in D1, one message at a time as far as that matters: a body that
 * cannot be read is recorded with that reason, and only a message whose row D1 would not take is retried.
 */
async function recordDeadLetterBatch(batch: MessageBatch<SyncMessage>, env: Env): Promise<void> {
  const { config } = getConfig(env);
  const log = createLogger(config.LOG_LEVEL, { queue: batch.queue });
  const letters = batch.messages.map((m): { message: Message<SyncMessage>; letter: DeadLetterInput } => {
    const read = readMessage(m);
    const exhausted = "exhausted its retries on sync-events";
    if (!read.ok) return { message: m, letter: { messageId: m.id, queue: batch.queue, body: null, reason: `${exhausted}; ${read.reason}`, attempts: m.attempts } };
    return { message: m, letter: { messageId: m.id, queue: batch.queue, resourceId: resourceIdOf(read.body), body: read.body, reason: exhausted, attempts: m.attempts } };
  });
  try {
    await recordDeadLetters(env.DB, letters.map((l) => l.letter));
    batch.ackAll();
    return;
  } catch (error) {
    log.warn("could not record the dead-letter batch at once; recording its messages one by one", { error });
  }
  await Promise.all(letters.map(({ message, letter }) => recordOne(env.DB, message, letter, log)));
}

async function recordOne(db: D1Database, message: Message<SyncMessage>, letter: DeadLetterInput, log: Logger): Promise<void> {
  try {
    await recordDeadLetters(db, [letter]);
    message.ack();
    return;
  } catch (error) {
    log.warn("could not record a dead letter whole; recording its id and reason alone", { messageId: message.id, error });
  }
  try {
    await recordDeadLetters(db, [{ messageId: letter.messageId, queue: letter.queue, body: null, reason: `${letter.reason} (the body could not be kept)`, attempts: letter.attempts }]);
    message.ack();
  } catch (error) {
    log.error("could not record a dead letter; it comes back for another try", { messageId: message.id, error });
    message.retry({ delaySeconds: backoffSeconds(QUEUE_RETRY_BACKOFF, message.attempts) });
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function resourceIdOf(body: SyncMessage): string | undefined {
  if (body?.type !== "webhook") return undefined;
  return resourceIdOfEnvelope(body.envelope);
}
