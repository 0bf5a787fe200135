/**
 * Routing of events whose payload does not name their line. Summary and transcript webhooks carry only the call id;
 * intake routes them by the line it already knows for that call, or else by `call:<id>`. Such a key must not reach a
 * Durable Object of its own (the call's other events are on its line's object, and two objects would mean two pages),
 * so the consumer resolves it first: the D1 routes learnt at intake and the resources mirror, then one OpenPhone
 * request for the call (or message), remembered for the next event.
 */
import type { Config } from "../config";
import type { RequestCounter } from "../gates/gated-fetch";
import { classifyOpenPhoneError, createOpenPhoneClient, isRetryableOpenPhoneFailure } from "../openphone/client";
import type { SyncMessage } from "./messages";

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

  const ids = keys.map((k) => k.match(UNROUTED)![2]!);
  const placeholders = ids.map((_, i) => `?${i + 1}`).join(", ");
  const { results } = await env.DB.prepare(
    `SELECT resource_id, phone_number_id FROM webhook_routes WHERE resource_id IN (${placeholders})
     UNION SELECT resource_id, phone_number_id FROM resources WHERE resource_id IN (${placeholders})`,
  )
    .bind(...ids)
    .all<{ resource_id: string; phone_number_id: string }>();
  const known = new Map(results.map((r) => [r.resource_id, r.phone_number_id]));

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
      const found: string | null =
        kind === "call"
          ? (await client.request("getCallById_v1", { path: { callId: id! } })).data.phoneNumberId
          : (await client.request("getMessageById_v1", { path: { id: id! } })).data.phoneNumberId;
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
  if (learnt.length > 0) {
    const now = Date.now();
    await env.DB.batch(
      learnt.map((l) =>
        env.DB.prepare("INSERT INTO webhook_routes (resource_id, phone_number_id, first_seen_at) VALUES (?1, ?2, ?3) ON CONFLICT (resource_id) DO NOTHING").bind(l.id, l.lineId, now),
      ),
    );
  }
  return routes;
}
