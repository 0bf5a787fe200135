/**
 * Builds one text: short or long, unicode, sometimes to a group, sometimes with MMS images served by the emulator.
 */
import { pick } from "../shared/roster.ts";
import { mediaUrl } from "./call-builder.ts";
import { messageText } from "./content.ts";
import { hexId, randomId } from "./identifiers.ts";
import type { MediaFile, Message, MessageRecord } from "./model.ts";
import { pickGroupMembers, pickParticipant } from "./participants.ts";
import type { EmulatorStore } from "./store.ts";

export interface MessageOptions {
  phoneNumberId?: string;
  participant?: string;
  /** Other recipients of a group text. */
  alsoTo?: string[];
  direction?: "incoming" | "outgoing";
  text?: string;
  /** Number of MMS attachments. */
  media?: number;
  status?: Message["status"];
  userId?: string;
}

export function buildMessage(store: EmulatorStore, options: MessageOptions, createdAt: Date): MessageRecord {
  const { random } = store;
  const line = (options.phoneNumberId && store.lineByNumberOrId(options.phoneNumberId)) || pick(random, store.workspace.phoneNumbers);
  const user = store.workspace.users.find((u) => u.id === (options.userId ?? line.users[0]?.id)) ?? store.owner;
  const direction = options.direction ?? (random() < 0.55 ? "incoming" : "outgoing");
  const external = options.participant ?? pickParticipant(store);
  // About one text in ten goes to a group; its other members are Canvas customers (see pickGroupMembers).
  const others = options.alsoTo ?? (random() < 0.1 ? pickGroupMembers(store, external) : []);
  const mediaCount = Math.max(0, Math.floor(options.media ?? (random() < 0.08 ? 1 + Math.floor(random() * 2) : 0)));
  const media: MediaFile[] = [];
  for (let i = 0; i < mediaCount; i++) {
    media.push(store.addMedia({ id: hexId(random, 32), bytes: 20_000 + Math.floor(random() * 280_000), contentType: "image/png", extension: "png" }));
  }
  const text = options.text ?? (mediaCount > 0 && random() < 0.3 ? "" : messageText(random));
  const status: Message["status"] = options.status ?? (direction === "incoming" ? "delivered" : random() < 0.9 ? "delivered" : random() < 0.5 ? "sent" : "undelivered");
  const stamp = createdAt.toISOString();
  const message: Message = {
    id: randomId(random, "AC"),
    to: direction === "incoming" ? [line.number, ...others] : [external, ...others],
    from: direction === "incoming" ? external : line.number,
    text,
    phoneNumberId: line.id,
    direction,
    userId: user.id,
    status,
    createdAt: stamp,
    updatedAt: stamp,
  };
  return { message, media };
}

/** MMS attachments as older webhook payloads carry them: `[{url, type}]`. */
export function mediaDescriptors(baseUrl: string, media: MediaFile[]): { url: string; type: string }[] {
  return media.map((file) => ({ url: mediaUrl(baseUrl, file), type: file.contentType }));
}
