/**
 * The one internal event both webhook systems are read into (see normalise.ts): the legacy `/v1/webhooks` envelope
 * (`object: "event"`, payload in `data.object`) and the `2026-03-30` envelope (payload in `data.resource`, who and
 * where in `data.context`). Everything after the intake's normaliser sees only this.
 */
import type { CallPatch, MessagePatch } from "../line/state";

export type WebhookSystem = "v1" | "quo";

export type CanonicalEventType =
  | "call.ringing"
  | "call.answered"
  | "call.forwarded"
  | "call.missed"
  | "call.completed"
  | "call.recording.completed"
  | "call.summary.completed"
  | "call.transcript.completed"
  | "call.voicemail.completed"
  | "message.received"
  | "message.delivered"
  | "message.failed";

interface EventBase {
  /** The envelope id, or the id the intake derived for an envelope without one (carried on the queue message). */
  eventId: string;
  type: CanonicalEventType;
  /** The call (AC…) or text (AC…) the event concerns; summary, transcript and voicemail events name it `callId`. */
  resourceId: string;
  /** When Quo produced the event (epoch ms); orders conflicting values. */
  occurredAt: number;
  system: WebhookSystem;
  /**
   * What makes two deliveries the same business event, whichever system sent them: the two copies of one event
   * share no id, so the key is the event type and the resource, plus what tells two real events of one type apart:
   * the processing status of a summary or transcript ("in-progress", later "completed"), a text's status.
   */
  dedupeKey: string;
}

export interface CallEvent extends EventBase {
  kind: "call";
  patch: CallPatch;
}

export interface MessageEvent extends EventBase {
  kind: "message";
  patch: MessagePatch;
}

export type NormalisedEvent = CallEvent | MessageEvent;

export type ParsedEnvelope =
  | { outcome: "event"; event: NormalisedEvent }
  | { outcome: "ignored"; type: string; reason: string }
  | { outcome: "invalid"; reason: string };

export function dedupeKeyOf(type: CanonicalEventType, resourceId: string, processingStatus?: string): string {
  return processingStatus ? `${type}:${resourceId}:${processingStatus}` : `${type}:${resourceId}`;
}
