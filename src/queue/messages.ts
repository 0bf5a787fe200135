/**
 * What travels on the `sync-events` queue. Every message names the line it belongs to, so the consumer can group a
 * batch by line and hand each group to that line's Durable Object in one call.
 */

/** A verified OpenPhone webhook, as received (the envelope is kept whole; parsing is tolerant downstream). */
export interface WebhookMessage {
  type: "webhook";
  /** PN… of the line, or "unknown" when the payload did not say. */
  lineId: string;
  /** Envelope id (EV…), the deduplication key. */
  eventId: string;
  eventType: string;
  receivedAt: number;
  envelope: unknown;
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
