/**
 * The emulator's state and its controls, independent of HTTP: the store, the switches, the counters, the webhook
 * machinery and the traffic generator. The control API and the in-process test API both call these methods.
 */
import { SANDBOX_ROSTER_SIZE, SANDBOX_SEED } from "../shared/roster.ts";
import { buildCall, type CallOptions } from "./call-builder.ts";
import { applyConfigUpdate, defaultConfig, EmulatorStats, type EmulatorConfig, type EmulatorConfigUpdate } from "./config.ts";
import { generateHistory, type HistoryOptions } from "./history.ts";
import type { MediaFault } from "./media.ts";
import { buildMessage, type MessageOptions } from "./message-builder.ts";
import { FixedWindowRateLimiter } from "./rate-limit.ts";
import { EmulatorStore } from "./store.ts";
import { TrafficGenerator, type TrafficOptions } from "./traffic.ts";
import { QuoWebhookRegistry } from "./quo/registry.ts";
import { WebhookDispatcher } from "./webhooks/dispatcher.ts";
import { EventScheduler, type PlannedEvent } from "./webhooks/events.ts";

export interface EmulatorOptions {
  /** The API key clients must send in `Authorization`. */
  key: string;
  /** Seed for ids and generated content. */
  seed?: number;
  /** Seed and size of the shared roster (the contacts); the Notion emulator's demo Canvas uses the same. */
  rosterSeed?: number;
  rosterSize?: number;
  lines?: number;
  users?: number;
  config?: EmulatorConfigUpdate;
}

export interface SeedOptions {
  seed?: number;
  lines?: number;
  contacts?: number;
  days?: number;
  callsPerDay?: number;
  messagesPerDay?: number;
  now?: string;
  audioBytesPerSecond?: number;
}

export const DEFAULT_LINES = 3;
export const DEFAULT_USERS = 4;

/** Share of simulated calls that last hours (voicemails, about 12 %, and pictures in about 8 % of texts come as seeded). */
const LONG_CALL_SHARE = 0.02;

function longCallOptions(roll: number): CallOptions {
  const durationSeconds = 3 * 3600 + Math.floor(roll * 3600);
  return { status: "answered", durationSeconds, transcript: { turns: Math.round(durationSeconds / 7) } };
}

export class OpenPhoneEmulator {
  readonly key: string;
  readonly store: EmulatorStore;
  readonly stats = new EmulatorStats();
  readonly rateLimiter = new FixedWindowRateLimiter();
  readonly mediaFaults = new Map<string, MediaFault>();
  readonly dispatcher: WebhookDispatcher;
  /** Webhooks of the 2026-03-30 system (`/webhooks`), beside the legacy ones in the store. */
  readonly quoWebhooks = new QuoWebhookRegistry();
  readonly scheduler: EventScheduler;
  readonly traffic: TrafficGenerator;
  config: EmulatorConfig;
  /** Called after anything that changes the store (the server adds every request that is not a GET). */
  onChange: () => void = () => {};
  /** Where the emulator answers; media URLs point here. Set once the server listens. */
  baseUrl = "http://127.0.0.1";
  private readonly initialConfig: EmulatorConfigUpdate;
  private readonly initialWorkspace: EmulatorStore["options"];

  constructor(options: EmulatorOptions) {
    this.key = options.key;
    this.initialConfig = options.config ?? {};
    this.config = applyConfigUpdate(defaultConfig(), this.initialConfig);
    this.initialWorkspace = {
      seed: options.seed ?? SANDBOX_SEED,
      rosterSeed: options.rosterSeed ?? SANDBOX_SEED,
      rosterSize: options.rosterSize ?? SANDBOX_ROSTER_SIZE,
      lines: options.lines ?? DEFAULT_LINES,
      users: options.users ?? DEFAULT_USERS,
    };
    this.store = new EmulatorStore({ ...this.initialWorkspace });
    this.dispatcher = new WebhookDispatcher(
      () => this.config,
      this.stats,
      (id) => this.store.webhooks.get(id)?.status === "enabled",
      this.quoWebhooks,
    );
    this.scheduler = new EventScheduler(this.store, this.dispatcher, () => this.config, () => this.baseUrl, () => this.onChange(), this.quoWebhooks);
    this.traffic = new TrafficGenerator(
      // About one call in fifty is a long one (3 to 4 hours, a turn every 7 s): the page takes a create and appends.
      () => this.createCall(Math.random() < LONG_CALL_SHARE ? longCallOptions(Math.random()) : {}),
      () => this.createMessage({}),
    );
  }

  /** A new call that just ended; its webhook sequence follows at the configured gaps (divided by `timeFactor`). */
  createCall(options: CallOptions & { ringing?: boolean; at?: string }): { callId: string; events: PlannedEvent[] } {
    if (options.at !== undefined) {
      // History: it ended then, everything OpenPhone attaches to it is ready, and nothing is announced.
      const record = buildCall(this.store, this.baseUrl, options, new Date(options.at), { recording: 0, transcript: 0, summary: 0, voicemail: 0 });
      this.store.addCall(record);
      this.onChange();
      return { callId: record.call.id, events: [] };
    }
    const k = this.config.timeFactor;
    const gaps = this.config.eventGapsMs;
    const record = buildCall(this.store, this.baseUrl, options, new Date(), {
      recording: gaps.recording / k,
      transcript: gaps.transcript / k,
      summary: gaps.summary / k,
      voicemail: 0,
    });
    this.store.addCall(record);
    this.onChange();
    const events = this.scheduler.planCall(record, { ringing: options.ringing ?? true });
    return { callId: record.call.id, events };
  }

  /**
   * Sends an existing call's webhook sequence again, now (a seeded call's events arriving late, or redelivered).
   * Artifacts that are ready go out at once; `undefined` when there is no such call.
   */
  replayCallWebhooks(callId: string): { callId: string; events: PlannedEvent[] } | undefined {
    const record = this.store.calls.get(callId);
    if (!record) return undefined;
    return { callId, events: this.scheduler.planCall(record, { ringing: true }) };
  }

  /**
   * OpenPhone finishes processing a call now: its recording, transcript, summary and voicemail read as ready from
   * here on (webhooks already planned keep their time). `undefined` when there is no such call.
   */
  finishProcessing(callId: string): { callId: string; readyAt: string } | undefined {
    const record = this.store.calls.get(callId);
    if (!record) return undefined;
    const now = Date.now();
    record.recordingReadyAt = Math.min(record.recordingReadyAt, now);
    record.transcriptReadyAt = Math.min(record.transcriptReadyAt, now);
    record.summaryReadyAt = Math.min(record.summaryReadyAt, now);
    record.voicemailReadyAt = Math.min(record.voicemailReadyAt, now);
    this.onChange();
    return { callId, readyAt: new Date(now).toISOString() };
  }

  /** A new text, received or sent now; its webhook goes out at once. */
  createMessage(options: MessageOptions & { at?: string }): { messageId: string; events: PlannedEvent[] } {
    const record = buildMessage(this.store, options, options.at === undefined ? new Date() : new Date(options.at));
    this.store.addMessage(record);
    this.onChange();
    // A past text (`at`) is history: nothing is announced.
    return { messageId: record.message.id, events: options.at === undefined ? this.scheduler.planMessage(record) : [] };
  }

  /** History without webhooks. The workspace is rebuilt only if `lines` or `contacts` change it. */
  seed(options: SeedOptions) {
    const { store } = this;
    const lines = options.lines ?? store.options.lines;
    const contacts = options.contacts ?? store.options.rosterSize;
    if (lines !== store.options.lines || contacts !== store.options.rosterSize) {
      const webhooks = [...store.webhooks.values()];
      store.reset({ lines, rosterSize: contacts });
      for (const webhook of webhooks) store.webhooks.set(webhook.id, webhook);
    }
    const history: HistoryOptions = {
      seed: options.seed ?? store.options.seed,
      days: options.days ?? 7,
      callsPerDay: options.callsPerDay ?? 10,
      messagesPerDay: options.messagesPerDay ?? 20,
      now: options.now ? new Date(options.now) : undefined,
      audioBytesPerSecond: options.audioBytesPerSecond,
    };
    const { callIds, messageIds } = generateHistory(store, this.baseUrl, history);
    return {
      counts: { lines: store.workspace.phoneNumbers.length, contacts: store.workspace.contacts.length, calls: callIds.length, messages: messageIds.length },
      callIds,
      messageIds,
    };
  }

  startTraffic(options: TrafficOptions) {
    return this.traffic.start(options);
  }

  updateConfig(update: EmulatorConfigUpdate): EmulatorConfig {
    this.config = applyConfigUpdate(this.config, update);
    return this.config;
  }

  setMediaFault(id: string, fault: MediaFault | null): void {
    if (fault) this.mediaFaults.set(id, fault);
    else this.mediaFaults.delete(id);
  }

  /**
   * Empty state (a fresh workspace from the start-up seed and line count, or from `seed` and `lines`), default config,
   * counters at zero.
   */
  reset(workspace: { seed?: number; lines?: number } = {}): void {
    this.traffic.stop();
    this.scheduler.reset();
    this.dispatcher.reset();
    this.dispatcher.log.length = 0;
    this.store.reset({ ...this.initialWorkspace, ...workspace });
    this.quoWebhooks.clear();
    this.rateLimiter.reset();
    this.mediaFaults.clear();
    this.config = applyConfigUpdate(defaultConfig(), this.initialConfig);
    Object.assign(this.stats, new EmulatorStats());
  }

  /** Stops every timer so the process (or test) can end. */
  stop(): void {
    this.traffic.stop();
    this.scheduler.reset();
    this.dispatcher.reset();
  }
}
