/**
 * Everything the emulated workspace holds, in memory: the workspace (users, lines, contacts), calls with their
 * recordings/transcripts/summaries/voicemails, messages, the conversations they form, webhooks and media files.
 */
import { createRandom, type SeededRandom } from "../shared/roster.ts";
import { randomId } from "./identifiers.ts";
import type { CallRecord, Contact, Conversation, MediaFile, MessageRecord, Webhook } from "./model.ts";
import { generateWorkspace, type Workspace, type WorkspaceOptions } from "./workspace.ts";

export interface StoreSnapshot {
  options: WorkspaceOptions;
  workspace: Workspace;
  randomState: number;
  calls: CallRecord[];
  messages: MessageRecord[];
  conversations: [string, Conversation][];
  webhooks: Webhook[];
  media: MediaFile[];
}

export class EmulatorStore {
  workspace: Workspace;
  readonly calls = new Map<string, CallRecord>();
  readonly messages = new Map<string, MessageRecord>();
  /** Keyed by line id + sorted external participants. */
  readonly conversations = new Map<string, Conversation>();
  readonly webhooks = new Map<string, Webhook>();
  readonly media = new Map<string, MediaFile>();
  /** Seeded source for every generated id and value, so a seed replays the same world. */
  random: SeededRandom;

  constructor(readonly options: WorkspaceOptions) {
    this.workspace = generateWorkspace(options, new Date());
    this.random = createRandom(options.seed);
  }

  /** Everything the store holds, as JSON (what `--state FILE` saves). */
  snapshot(): StoreSnapshot {
    return {
      options: { ...this.options },
      workspace: this.workspace,
      randomState: this.random.state,
      calls: [...this.calls.values()],
      messages: [...this.messages.values()],
      conversations: [...this.conversations.entries()],
      webhooks: [...this.webhooks.values()],
      media: [...this.media.values()],
    };
  }

  /** Continues from a snapshot: the same records, and the id generator where it stood, so no id repeats. */
  restore(saved: StoreSnapshot): void {
    this.reset(saved.options);
    this.workspace = saved.workspace;
    this.random = createRandom(saved.randomState);
    for (const record of saved.calls) this.calls.set(record.call.id, record);
    for (const record of saved.messages) this.messages.set(record.message.id, record);
    for (const [key, conversation] of saved.conversations) this.conversations.set(key, conversation);
    for (const webhook of saved.webhooks) this.webhooks.set(webhook.id, webhook);
    for (const file of saved.media) this.media.set(file.id, file);
  }

  /**
   * Empty history and registrations, fresh workspace from the same seed. The id generator goes on where it stood:
   * a reset workspace has the same lines and users, but no call, text or conversation id it gave out before comes
   * again (OpenPhone never reuses one, and a sync that wrote the old ones still holds them). Seeded history
   * (history.ts) replays its own ids.
   */
  reset(options: Partial<WorkspaceOptions> = {}): void {
    Object.assign(this.options, options);
    this.workspace = generateWorkspace(this.options, new Date());
    this.calls.clear();
    this.messages.clear();
    this.conversations.clear();
    this.webhooks.clear();
    this.media.clear();
  }

  get owner() {
    return this.workspace.users[0]!;
  }

  line(id: string) {
    return this.workspace.phoneNumbers.find((p) => p.id === id);
  }

  lineByNumberOrId(value: string) {
    return this.workspace.phoneNumbers.find((p) => p.id === value || p.number === value);
  }

  contactById(id: string): Contact | undefined {
    return this.workspace.contacts.find((c) => c.id === id);
  }

  /** Contacts whose numbers include any of `numbers` (what webhook payloads call `contactIds`). */
  contactIdsFor(numbers: readonly string[]): string[] {
    const wanted = new Set(numbers);
    return this.workspace.contacts.filter((c) => c.defaultFields.phoneNumbers.some((p) => p.value !== null && wanted.has(p.value))).map((c) => c.id);
  }

  addCall(record: CallRecord): void {
    this.calls.set(record.call.id, record);
    const line = this.line(record.call.phoneNumberId);
    const external = record.call.participants.filter((p) => p !== line?.number);
    this.touchConversation(record.call.phoneNumberId, external, record.call.id, record.call.createdAt);
  }

  addMessage(record: MessageRecord): void {
    const { message } = record;
    this.messages.set(message.id, record);
    const line = message.phoneNumberId ? this.line(message.phoneNumberId) : undefined;
    const external = [message.from, ...message.to].filter((p) => p !== line?.number);
    if (message.phoneNumberId) this.touchConversation(message.phoneNumberId, external, message.id, message.createdAt);
  }

  addMedia(file: MediaFile): MediaFile {
    this.media.set(file.id, file);
    return file;
  }

  private touchConversation(phoneNumberId: string, participants: string[], activityId: string, at: string): void {
    const sorted = [...new Set(participants)].sort();
    const key = `${phoneNumberId}|${sorted.join(",")}`;
    const existing = this.conversations.get(key);
    if (!existing) {
      const contact = this.contactById(this.contactIdsFor(sorted)[0] ?? "");
      this.conversations.set(key, {
        id: randomId(this.random, "CN", 20),
        phoneNumberId,
        participants: sorted,
        name: contact && sorted.length === 1 ? `${contact.defaultFields.firstName ?? ""} ${contact.defaultFields.lastName ?? ""}`.trim() : null,
        assignedTo: null,
        lastActivityAt: at,
        lastActivityId: activityId,
        mutedUntil: null,
        snoozedUntil: null,
        createdAt: at,
        updatedAt: at,
        deletedAt: null,
      });
      return;
    }
    if (existing.createdAt && at < existing.createdAt) existing.createdAt = at;
    if (!existing.lastActivityAt || at >= existing.lastActivityAt) {
      existing.lastActivityAt = at;
      existing.lastActivityId = activityId;
      existing.updatedAt = at;
    }
  }
}
