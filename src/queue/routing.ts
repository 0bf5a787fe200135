/**
 * Which line owns an event: the key the intake queues it under, the routes remembered in D1 (db/webhook-routes.ts),
 * and the resolution of keys that are not lines.
 *
 * Every event of one call must reach the same Line Durable Object, and summary and transcript webhooks carry only the
 * call id. The intake routes them by the line it already knows for that call, or else by `call:<id>`. Such a key must
 * not reach a Durable Object of its own (the call's other events are on its line's object, and two objects would mean
 * two pages), so the consumer resolves it first: the D1 routes learnt at intake and the resources mirror, then one
 * OpenPhone request for the call (or message), remembered for the next event. When OpenPhone reports one id on two
 * lines, the line that claims it first in D1 owns it (see `claimLineOfResource`).
 */
import type { Config } from "../config";
import type { RequestCounter } from "../gates/gated-fetch";
import { classifyOpenPhoneError, createOpenPhoneClient, isRetryableOpenPhoneFailure } from "../openphone/client";
import type { SyncMessage } from "./messages";
import { findLineOfResource, findLinesOfResources, recordWebhookRoutes } from "../db/webhook-routes";
import type { Logger } from "../observability/logger";
import type { OpenPhoneClient } from "../openphone/client";
import type { WebhookEventFacts } from "../webhooks/envelope";

/**
 * The key of the Line Durable Object that receives this event. Every event of one call must reach the same object,
 * and summary and transcript payloads do not name the line, so:
 * 1. the payload's `phoneNumberId`, when present;
 * 2. else the line already known for this call (`knownLine`, looked up in D1 by the caller);
 * 3. else `call:<callId>` (or `message:<id>`), stable for every event of that resource that also lacks its line.
 * Returns undefined when the event names neither a line nor a resource: it cannot be routed at all.
 */
export function lineKeyFor(facts: WebhookEventFacts, knownLine?: string): string | undefined {
  if (facts.phoneNumberId) return facts.phoneNumberId;
  if (knownLine) return knownLine;
  if (facts.resourceId && (facts.category === "call" || facts.category === "message")) return `${facts.category}:${facts.resourceId}`;
  return undefined;
}

/** Known lines are also kept in this isolate, so a burst of one call's events costs one D1 read at most. */
const KNOWN_LINES_MAX = 10_000;
const knownLines = new Map<string, string>();

/** The intake's routing key for an event (see `lineKeyFor`), with the line already seen for its call from D1. */
export async function resolveLineKey(db: D1Database, facts: WebhookEventFacts): Promise<string | undefined> {
  if (facts.phoneNumberId || !facts.resourceId) return lineKeyFor(facts);
  let known = knownLines.get(facts.resourceId);
  if (!known) {
    known = await findLineOfResource(db, facts.resourceId);
    if (known) rememberLocally(facts.resourceId, known);
  }
  return lineKeyFor(facts, known);
}

/** Remembers the line of a call whose event names it, for the call's later events that do not. Never throws. */
export async function rememberRoute(db: D1Database, facts: WebhookEventFacts, log: Logger): Promise<void> {
  if (facts.category !== "call" || !facts.resourceId || !facts.phoneNumberId) return;
  if (knownLines.get(facts.resourceId) === facts.phoneNumberId) return;
  try {
    await recordWebhookRoutes(db, [{ resourceId: facts.resourceId, phoneNumberId: facts.phoneNumberId }]);
    rememberLocally(facts.resourceId, facts.phoneNumberId);
  } catch (error) {
    // This event is routed already; only a later summary that arrives without its line would miss the route.
    log.warn("could not record the line of a call", { resourceId: facts.resourceId, error });
  }
}

function rememberLocally(resourceId: string, lineId: string): void {
  if (knownLines.size >= KNOWN_LINES_MAX) knownLines.delete(knownLines.keys().next().value!);
  knownLines.set(resourceId, lineId);
}

/** The line OpenPhone says a call or text is on (null when it names none). OpenPhone's errors are the caller's. */
export async function lineAtOpenPhone(openphone: OpenPhoneClient, kind: "call" | "message", id: string): Promise<string | null> {
  return kind === "call"
    ? (await openphone.request("getCallById_v1", { path: { callId: id } })).data.phoneNumberId
    : (await openphone.request("getMessageById_v1", { path: { id } })).data.phoneNumberId;
}

export type Route = { lineId: string } | { retryAfterMs: number; reason: string } | { failed: string };

const UNROUTED = /^(call|message):(.+)$/;

/** True for a routing key that is not a line id. */
export function isUnroutedKey(lineId: string): boolean {
  return UNROUTED.test(lineId);
}

/** The line of every unrouted key among `bodies`, keyed by that unrouted key. */
export async function resolveUnroutedKeys(env: Pick<Env, "DB" | "GATE">, config: Config, bodies: SyncMessage[], counter?: RequestCounter): Promise<Map<string, Route>> {
  const keys = [...new Set(bodies.map((b) => b.lineId).filter(isUnroutedKey))];
  const routes = new Map<string, Route>();
  if (keys.length === 0) return routes;

  const known = await findLinesOfResources(env.DB, keys.map((k) => k.match(UNROUTED)![2]!));

  const client = createOpenPhoneClient(env, config, counter);
  const learnt: { id: string; lineId: string }[] = [];
  for (const key of keys) {
    const [, kind, id] = key.match(UNROUTED)!;
    const line = known.get(id!);
    if (line) {
      routes.set(key, { lineId: line });
      continue;
    }
    try {
      const found = await lineAtOpenPhone(client, kind as "call" | "message", id!);
      if (!found) {
        routes.set(key, { failed: `OpenPhone names no line for ${kind} ${id}` });
        continue;
      }
      routes.set(key, { lineId: found });
      learnt.push({ id: id!, lineId: found });
    } catch (error) {
      const failure = classifyOpenPhoneError(error);
      if (failure.kind === "gate_closed") routes.set(key, { retryAfterMs: failure.retryAfterMs, reason: failure.message });
      else if (failure.kind === "unknown" || isRetryableOpenPhoneFailure(failure)) routes.set(key, { retryAfterMs: 0, reason: failure.message });
      else routes.set(key, { failed: `cannot find the line of ${kind} ${id}: ${failure.message}` });
    }
  }
  await recordWebhookRoutes(env.DB, learnt.map((l) => ({ resourceId: l.id, phoneNumberId: l.lineId })));
  return routes;
}
