/**
 * What travels on the `sync-events` queue. Every message names the line it belongs to, so the consumer can group a
 * batch by line and hand each group to that line's Durable Object in one call.
 */

/** A verified OpenPhone webhook, as received (the envelope is kept whole; parsing is tolerant downstream). */
export interface WebhookMessage {
  type: "webhook";
  /** PN… of the line; `call:<id>` / `message:<id>` when the payload did not name it (the consumer resolves those). */
  lineId: string;
  /** Envelope id (EV…), the deduplication key. */
  eventId: string;
  eventType: string;
  receivedAt: number;
  envelope: unknown;
  /** Set when the envelope was too large for a queue message: `envelope` is then a stub and the whole one is in
   * R2 under this key (`loadWebhookEnvelope` in src/webhooks/envelope-store.ts reads either). */
  envelopeKey?: string;
}

/**
 * The next step of one line's backfill chain, carried with its cursor (`LineCursor`: the step, what to list next
 * with its page token, the conversations in hand) so it can resume anywhere.
 */
export interface BackfillMessage {
  type: "backfill";
  lineId: string;
  runId: string;
  job: import("../backfill/plan").LineCursor;
}

export type SyncMessage = WebhookMessage | BackfillMessage;

/** The outcome of one message, decided by whoever processed it. */
export type MessageOutcome =
  | { status: "done" }
  | { status: "retry"; delaySeconds: number; reason: string }
  | { status: "failed"; reason: string; property?: string };
