/**
 * Turns new calls and texts into webhook events at the moments OpenPhone would send them: `call.ringing`,
 * `call.completed`, then `call.recording.completed`, `call.transcript.completed`, `call.summary.completed` as each
 * artifact becomes ready; `message.received` / `message.delivered` for texts. Each event goes to every enabled
 * registration that subscribes to its type and covers its line. With `shuffle`, a call's events are held until the
 * last one is due and then sent in random order.
 */
import { randomUUID } from "node:crypto";
import type { EmulatorConfig } from "../config.ts";
import type { CallRecord, MessageRecord, Webhook } from "../model.ts";
import type { EmulatorStore } from "../store.ts";
import { callEventObject, messageEventObject, summaryEventObject, transcriptEventObject } from "../views.ts";
import type { WebhookDispatcher, WebhookEnvelope } from "./dispatcher.ts";

export interface PlannedEvent {
  id: string;
  type: string;
  dueAt: string;
}

interface Step {
  id: string;
  type: string;
  at: number;
  object: () => Record<string, unknown>;
}

function eventId(): string {
  return `EV${randomUUID().replace(/-/g, "")}`;
}

export class EventScheduler {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: EmulatorStore,
    private readonly dispatcher: WebhookDispatcher,
    private readonly config: () => EmulatorConfig,
    private readonly baseUrl: () => string,
    /** Told when firing an event changes the store (a text turning "delivered"), so a state file saves it. */
    private readonly changed: () => void = () => {},
  ) {}

  planCall(record: CallRecord, options: { ringing: boolean }): PlannedEvent[] {
    const { call } = record;
    const completedAt = Date.parse(call.completedAt ?? call.createdAt);
    const steps: Step[] = [];
    if (options.ringing && call.direction === "incoming") {
      const ringing = { ...call, status: "ringing" as const, answeredAt: null, answeredBy: null, completedAt: null, duration: 0, updatedAt: call.createdAt };
      steps.push({ id: eventId(), type: "call.ringing", at: completedAt, object: () => ({ ...ringing, object: "call", contactIds: this.store.contactIdsFor(call.participants) }) });
    }
    steps.push({ id: eventId(), type: "call.completed", at: completedAt, object: () => callEventObject(this.store, record, Date.now(), true) });
    if (record.recordings.length) steps.push({ id: eventId(), type: "call.recording.completed", at: record.recordingReadyAt, object: () => callEventObject(this.store, record, record.recordingReadyAt, true) });
    if (record.transcript) steps.push({ id: eventId(), type: "call.transcript.completed", at: record.transcriptReadyAt, object: () => transcriptEventObject(this.store, record, record.transcriptReadyAt) });
    if (record.summary) steps.push({ id: eventId(), type: "call.summary.completed", at: record.summaryReadyAt, object: () => summaryEventObject(this.store, record, record.summaryReadyAt) });
    this.run(steps, call.phoneNumberId, this.config().webhook.shuffle);
    return steps.map((s) => ({ id: s.id, type: s.type, dueAt: new Date(s.at).toISOString() }));
  }

  /** `deliverAfterMs`: an outgoing text sent through the API turns "delivered" (and is announced) that much later. */
  planMessage(record: MessageRecord, options: { deliverAfterMs?: number } = {}): PlannedEvent[] {
    const { message } = record;
    const steps: Step[] = [];
    const now = Date.now();
    if (message.direction === "incoming") {
      steps.push({ id: eventId(), type: "message.received", at: now, object: () => messageEventObject(this.store, this.baseUrl(), record) });
    } else if (options.deliverAfterMs !== undefined) {
      const at = now + options.deliverAfterMs;
      steps.push({
        id: eventId(),
        type: "message.delivered",
        at,
        object: () => {
          message.status = "delivered";
          message.updatedAt = new Date(at).toISOString();
          this.changed();
          return messageEventObject(this.store, this.baseUrl(), record);
        },
      });
    } else if (message.status === "delivered") {
      steps.push({ id: eventId(), type: "message.delivered", at: now, object: () => messageEventObject(this.store, this.baseUrl(), record) });
    }
    if (message.phoneNumberId) this.run(steps, message.phoneNumberId, false);
    return steps.map((s) => ({ id: s.id, type: s.type, dueAt: new Date(s.at).toISOString() }));
  }

  /**
   * Fires the steps one after another (each timer set when the previous step has fired), so a stalled event loop
   * can delay a call's events but never reorder them.
   */
  private run(steps: Step[], phoneNumberId: string, shuffle: boolean): void {
    const held: [Webhook, WebhookEnvelope][] = [];
    const fire = (index: number) => {
      const step = steps[index];
      if (!step) {
        for (let i = held.length - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [held[i], held[j]] = [held[j]!, held[i]!];
        }
        for (const [webhook, envelope] of held) this.dispatcher.deliver(webhook, envelope);
        return;
      }
      this.at(step.at, () => {
        const envelope = this.envelope(step);
        for (const webhook of this.subscribers(step.type, phoneNumberId)) {
          if (shuffle) held.push([webhook, envelope]);
          else this.dispatcher.deliver(webhook, envelope);
        }
        fire(index + 1);
      });
    };
    fire(0);
  }

  private envelope(step: Step): WebhookEnvelope {
    const docsNames = this.config().webhook.docsTypeNames;
    const type = docsNames && step.type === "call.summary.completed" ? "callSummary" : docsNames && step.type === "call.transcript.completed" ? "callTranscript" : step.type;
    return { id: step.id, object: "event", apiVersion: "v4", createdAt: new Date().toISOString(), type, data: { object: step.object() } };
  }

  private subscribers(type: string, phoneNumberId: string): Webhook[] {
    return [...this.store.webhooks.values()].filter(
      (w) => w.status === "enabled" && (w.events as string[]).includes(type) && ((w.resourceIds as string[]).includes("*") || (w.resourceIds as string[]).includes(phoneNumberId)),
    );
  }

  /** Runs `task` at wall-clock `at` (now if past). */
  private at(at: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, Math.max(0, at - Date.now()));
    this.timers.add(timer);
  }

  reset(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
