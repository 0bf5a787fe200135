/**
 * Turns new calls and texts into webhook events at the moments OpenPhone would send them: `call.ringing`,
 * `call.completed`, then `call.recording.completed`, `call.transcript.completed`, `call.summary.completed` as each
 * artifact becomes ready; `message.received` / `message.delivered` for texts. Each event goes to every enabled
 * registration that subscribes to its type and covers its line, in each webhook system: the legacy envelope to
 * `/v1/webhooks` registrations, the 2026-03-30 envelope to `/webhooks` ones, which also get the events only that
 * system has (`call.answered`, `call.missed`, `call.forwarded`, `call.voicemail.completed`, `message.failed`).
 * `webhook.systems` narrows this to one system. With `shuffle`, a call's events (of both systems) are held until the
 * last one is due and then sent in random order.
 */
import { randomUUID } from "node:crypto";
import type { EmulatorConfig } from "../config.ts";
import type { CallRecord, MessageRecord, Webhook } from "../model.ts";
import type { EmulatorStore } from "../store.ts";
import { callEventObject, messageEventObject, summaryEventObject, transcriptEventObject } from "../views.ts";
import { callContext, callResource, messageContext, messageResource, QUO_API_VERSION, type QuoEnvelope } from "../quo/payloads.ts";
import type { QuoWebhook, QuoWebhookRegistry } from "../quo/registry.ts";
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
  /** `data.object` of the legacy envelope; absent for the events only the 2026-03-30 system sends. */
  object?: () => Record<string, unknown>;
  /** `data.resource` and `data.context` of the 2026-03-30 envelope. */
  quo: () => { resource: Record<string, unknown>; context: Record<string, unknown> };
  /** The call or text, for the delivery log's `resourceId`. */
  resourceId: string;
}

type Held = { kind: "v1"; webhook: Webhook; envelope: WebhookEnvelope } | { kind: "quo"; webhook: QuoWebhook; envelope: QuoEnvelope; resourceId: string };

/** A 2026-03-30 envelope; the event id is the system's own, unrelated to the legacy one of the same event. */
export function quoEnvelope(type: string, payload: { resource: Record<string, unknown>; context: Record<string, unknown> }): QuoEnvelope {
  return { id: eventId(), apiVersion: QUO_API_VERSION, createdAt: new Date().toISOString(), type, data: { resource: payload.resource, context: payload.context, links: { quo: null } } };
}

/** The legacy events planned (with their ids); the 2026-03-30 envelopes get their own ids when they are sent. */
function planned(steps: Step[]): PlannedEvent[] {
  return steps.filter((s) => s.object).map((s) => ({ id: s.id, type: s.type, dueAt: new Date(s.at).toISOString() }));
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
    private readonly quo?: QuoWebhookRegistry,
  ) {}

  planCall(record: CallRecord, options: { ringing: boolean }): PlannedEvent[] {
    const { call } = record;
    const completedAt = Date.parse(call.completedAt ?? call.createdAt);
    const steps: Step[] = [];
    const quo = (type: string, at: () => number, narrow = false) => () => ({ resource: callResource(record, type, at()), context: callContext(this.store, record, narrow) });
    const step = (type: string, at: number, object?: () => Record<string, unknown>): Step => ({ id: eventId(), type, at, object, quo: quo(type, () => Math.max(at, Date.now()), type === "call.ringing"), resourceId: call.id });
    if (options.ringing && call.direction === "incoming") {
      const ringing = { ...call, status: "ringing" as const, answeredAt: null, answeredBy: null, completedAt: null, duration: 0, updatedAt: call.createdAt };
      steps.push(step("call.ringing", completedAt, () => ({ ...ringing, object: "call", contactIds: this.store.contactIdsFor(call.participants) })));
    }
    if (call.answeredAt) steps.push(step("call.answered", completedAt));
    if (call.status === "forwarded") steps.push(step("call.forwarded", completedAt));
    if (call.direction === "incoming" && !call.answeredAt && ["missed", "no-answer", "busy", "canceled"].includes(call.status)) steps.push(step("call.missed", completedAt));
    steps.push(step("call.completed", completedAt, () => callEventObject(this.store, record, Date.now(), true)));
    if (record.voicemail) steps.push(step("call.voicemail.completed", Math.max(completedAt, record.voicemailReadyAt)));
    if (record.recordings.length) steps.push(step("call.recording.completed", record.recordingReadyAt, () => callEventObject(this.store, record, record.recordingReadyAt, true)));
    if (record.transcript) steps.push(step("call.transcript.completed", record.transcriptReadyAt, () => transcriptEventObject(this.store, record, record.transcriptReadyAt)));
    if (record.summary) steps.push(step("call.summary.completed", record.summaryReadyAt, () => summaryEventObject(this.store, record, record.summaryReadyAt)));
    this.run(steps, call.phoneNumberId, this.config().webhook.shuffle);
    return planned(steps);
  }

  /** `deliverAfterMs`: an outgoing text sent through the API turns "delivered" (and is announced) that much later. */
  planMessage(record: MessageRecord, options: { deliverAfterMs?: number } = {}): PlannedEvent[] {
    const { message } = record;
    const steps: Step[] = [];
    const now = Date.now();
    const quo = (type: string) => () => ({ resource: messageResource(this.baseUrl(), record, type), context: messageContext(this.store, record) });
    const step = (type: string, at: number, object?: () => Record<string, unknown>): Step => ({ id: eventId(), type, at, object, quo: quo(type), resourceId: message.id });
    if (message.direction === "incoming") {
      steps.push(step("message.received", now, () => messageEventObject(this.store, this.baseUrl(), record)));
    } else if (options.deliverAfterMs !== undefined) {
      const at = now + options.deliverAfterMs;
      const deliver = () => {
        if (message.status === "delivered") return;
        message.status = "delivered";
        message.updatedAt = new Date(at).toISOString();
        this.changed();
      };
      const delivered = step("message.delivered", at, () => (deliver(), messageEventObject(this.store, this.baseUrl(), record)));
      const resource = delivered.quo;
      delivered.quo = () => (deliver(), resource());
      steps.push(delivered);
    } else if (message.status === "delivered") {
      steps.push(step("message.delivered", now, () => messageEventObject(this.store, this.baseUrl(), record)));
    } else if (message.status === "undelivered") {
      // Legacy webhooks never announce a text that failed; the 2026-03-30 system sends message.failed.
      steps.push(step("message.failed", now));
    }
    if (message.phoneNumberId) this.run(steps, message.phoneNumberId, false);
    return planned(steps);
  }

  /**
   * Fires the steps one after another (each timer set when the previous step has fired), so a stalled event loop
   * can delay a call's events but never reorder them.
   */
  private run(steps: Step[], phoneNumberId: string, shuffle: boolean): void {
    const held: Held[] = [];
    const send = (h: Held) => (h.kind === "v1" ? this.dispatcher.deliver(h.webhook, h.envelope) : this.dispatcher.deliverQuo(h.webhook, h.envelope, h.resourceId));
    const fire = (index: number) => {
      const step = steps[index];
      if (!step) {
        for (let i = held.length - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [held[i], held[j]] = [held[j]!, held[i]!];
        }
        for (const h of held) send(h);
        return;
      }
      this.at(step.at, () => {
        const systems = this.config().webhook.systems;
        const out: Held[] = [];
        if (step.object && systems !== "quo") {
          const envelope = this.envelope(step, step.object);
          for (const webhook of this.subscribers(step.type, phoneNumberId)) out.push({ kind: "v1", webhook, envelope });
        }
        if (this.quo && systems !== "v1") {
          const subscribers = this.quo.subscribers(step.type, phoneNumberId);
          if (subscribers.length > 0) {
            const envelope = quoEnvelope(step.type, step.quo());
            for (const webhook of subscribers) out.push({ kind: "quo", webhook, envelope, resourceId: step.resourceId });
          }
        }
        for (const h of out) {
          if (shuffle) held.push(h);
          else send(h);
        }
        fire(index + 1);
      });
    };
    fire(0);
  }

  private envelope(step: Step, object: () => Record<string, unknown>): WebhookEnvelope {
    const docsNames = this.config().webhook.docsTypeNames;
    const type = docsNames && step.type === "call.summary.completed" ? "callSummary" : docsNames && step.type === "call.transcript.completed" ? "callTranscript" : step.type;
    return { id: step.id, object: "event", apiVersion: "v4", createdAt: new Date().toISOString(), type, data: { object: object() } };
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
