/**
 * Pure mapping from call and message state to Notion page properties and body blocks, within Notion's limits
 * (2000 characters per rich text item, 100 items per array, 100 blocks per append, 500 KB per request).
 *
 * A property the state does not know yet is left out, so an update never blanks what an earlier write set.
 *
 * No text is lost to the limits: a property value too long for 100 items ends with a notice that it was cut, and
 * the whole text is in the page body, where it is spread over as many blocks (and sections of at most 100 blocks)
 * as it needs. Each body block carries at most 2000 characters and ~4 KB of JSON, so any append of 100 blocks stays
 * well under Notion's 500 KB per request.
 */
import type { CallState, MessageState, Recording, TranscriptTurn } from "../line/state";
import { callParticipant, isCallFinished, messageParticipant, wasAnswered } from "../line/state";
import { ARRAY_LIMIT, needsCut, RICH_TEXT_LIMIT, richText, splitText, type RichTextItem } from "./rich-text";
import type { PropertyNames } from "./schema";

export { ARRAY_LIMIT, CUT_NOTICE, RICH_TEXT_LIMIT, richText, splitText, type RichTextItem } from "./rich-text";
export const BLOCKS_PER_APPEND = 100;
/** Pages one relation value may hold in a request. */
export const RELATION_LIMIT = 100;
/** JSON bytes of text per body block: 100 such blocks make about 400 KB. */
export const BLOCK_TEXT_JSON_BYTES = 4000;

export type PropertyValue = Record<string, unknown>;
export type PageProperties = Record<string, PropertyValue>;
export type Block = Record<string, unknown> & { type: string };

/** A part of the page body written once, as soon as its content exists. */
export interface BodySection {
  key: string;
  blocks: Block[];
}

const textProperty = (content: string) => ({ rich_text: richText(content) });
const dateProperty = (iso: string) => ({ date: { start: iso } });

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m ${rest}s` : `${rest}s`;
}

/** `mm:ss` (or `h:mm:ss`) from seconds into the call. */
export function formatOffset(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** What a call's and a text's page both need beside the item: the line, its users and who the other party is. */
interface PageMappingContext {
  names: PropertyNames;
  /** How the line is shown ("Sales (+1…)"). */
  lineLabel?: string;
  lineNumber?: string;
  /** Display names of OpenPhone users by id. */
  userNames: Record<string, string>;
  canvasPageId?: string | null;
  /** The customer's name from Canvas, else the OpenPhone contact's name. */
  participantName?: string;
  /** The participant's OpenPhone contact ("Hana Rossi (Rossi Design)"), when no customer matches. */
  contactLabel?: string;
}

export interface CallMappingContext extends PageMappingContext {
  /** Links to the stored media: recording id → link, and the voicemail link. */
  recordingLinks: Record<string, string>;
  voicemailLink?: string;
}

/** Recording segments whose file has a link (an id and a URL). */
function linkedRecordings(state: CallState, ctx: CallMappingContext): (Recording & { id: string })[] {
  return (state.recordings ?? []).filter((r): r is Recording & { id: string } => r.id !== null && Boolean(ctx.recordingLinks[r.id]));
}

function callTitle(state: CallState, participant: string | undefined, name: string | undefined): string {
  const who = name ?? participant ?? "unknown number";
  const finished = isCallFinished(state.status);
  if (state.direction === "incoming" && finished && !wasAnswered(state)) {
    return state.voicemail?.url ? `Voicemail from ${who}` : `Missed call from ${who}`;
  }
  const base = state.direction === "outgoing" ? `Outgoing call to ${who}` : `Incoming call from ${who}`;
  return typeof state.duration === "number" && finished ? `${base} · ${formatDuration(state.duration)}` : base;
}

function calledUser(state: CallState, userNames: Record<string, string>): string | undefined {
  const id = state.answeredBy ?? state.initiatedBy ?? state.userId;
  return id ? (userNames[id] ?? id) : undefined;
}

export function mapCallToProperties(state: CallState, ctx: CallMappingContext): PageProperties {
  const n = ctx.names;
  const participant = callParticipant(state, ctx.lineNumber);
  const p: PageProperties = {};
  p[n["Name"]!] = { title: richText(callTitle(state, participant, ctx.participantName)) };
  p[n["Call ID"]!] = textProperty(state.id);
  if (state.direction) p[n["Direction"]!] = { select: { name: state.direction === "incoming" ? "Incoming" : "Outgoing" } };
  if (state.status) p[n["Status"]!] = { select: { name: state.status.replace(/,/g, " ") } };
  if (participant) p[n["Participant"]!] = { phone_number: participant };
  if (ctx.lineLabel) p[n["Line"]!] = textProperty(ctx.lineLabel);
  const user = calledUser(state, ctx.userNames);
  if (user) p[n["User"]!] = textProperty(user);
  if (state.createdAt) p[n["Started"]!] = dateProperty(state.createdAt);
  if (state.answeredAt) p[n["Answered"]!] = dateProperty(state.answeredAt);
  if (state.completedAt) p[n["Ended"]!] = dateProperty(state.completedAt);
  if (typeof state.duration === "number" && isCallFinished(state.status)) p[n["Duration"]!] = { number: state.duration };
  const recordings = linkedRecordings(state, ctx);
  if (recordings.length > 0) {
    p[n["Recording"]!] = { url: ctx.recordingLinks[recordings[0]!.id]! };
    const seconds = recordings.reduce((sum, r) => sum + (r.duration ?? 0), 0);
    if (recordings.some((r) => r.duration !== null)) p[n["Recording Duration"]!] = { number: seconds };
  }
  if (ctx.voicemailLink) p[n["Voicemail"]!] = { url: ctx.voicemailLink };
  if (state.voicemail?.transcript) p[n["Voicemail Transcript"]!] = textProperty(state.voicemail.transcript);
  if (state.transcript) p[n["Transcript Status"]!] = { select: { name: state.transcript.status } };
  if (state.summary?.summary.length) p[n["Summary"]!] = textProperty(state.summary.summary.join("\n"));
  if (state.summary?.nextSteps.length) p[n["Next Steps"]!] = textProperty(state.summary.nextSteps.join("\n"));
  if (ctx.canvasPageId) p[n["Canvas"]!] = { relation: [{ id: ctx.canvasPageId }] };
  else if (ctx.contactLabel) p[n["Contact"]!] = textProperty(ctx.contactLabel);
  return p;
}

export interface MessageMappingContext extends PageMappingContext {
  /** Every customer on a group text, the main participant's first; `canvasPageId` alone when absent. */
  canvasPageIds?: string[];
  /** Links to the stored MMS media, in order. */
  mediaLinks: string[];
}

/** Code points of a message's text shown in its title, before the ellipsis. */
export const TITLE_TEXT_POINTS = 60;

/** What a text's attachments are, for a title without words: "Picture", "2 pictures", "File", "3 files". */
function attachmentsLabel(media: NonNullable<MessageState["media"]>): string {
  const images = media.every((m) => (m.type ?? "").startsWith("image/"));
  const noun = images ? "picture" : "file";
  return media.length === 1 ? `${noun[0]!.toUpperCase()}${noun.slice(1)}` : `${media.length} ${noun}s`;
}

/**
 * "Text from Ada Petrov: Can we move…" / "Text to +14165552250: On my way": who and which way, then the first line of
 * the text cut at TITLE_TEXT_POINTS code points (so an emoji at the cut stays whole). A text without words says what
 * it carries: "Picture from Ada Petrov".
 */
function messageTitle(state: MessageState, who: string | undefined): string {
  const firstLine = (state.text ?? "").split(/\r?\n/).find((l) => l.trim() !== "")?.trim() ?? "";
  const points = Array.from(firstLine);
  const text = points.length > TITLE_TEXT_POINTS ? `${points.slice(0, TITLE_TEXT_POINTS - 1).join("").trimEnd()}…` : firstLine;
  const party = who ?? "unknown number";
  const way = state.direction === "outgoing" ? "to" : "from";
  if (text) return `Text ${way} ${party}: ${text}`;
  if (state.media?.length) return `${attachmentsLabel(state.media)} ${way} ${party}`;
  return `Empty text ${way} ${party}`;
}

export function mapMessageToProperties(state: MessageState, ctx: MessageMappingContext): PageProperties {
  const n = ctx.names;
  const p: PageProperties = {};
  const participant = messageParticipant(state, ctx.lineNumber);
  p[n["Name"]!] = { title: richText(messageTitle(state, ctx.participantName ?? participant)) };
  p[n["Message ID"]!] = textProperty(state.id);
  if (state.direction) p[n["Direction"]!] = { select: { name: state.direction === "incoming" ? "Incoming" : "Outgoing" } };
  if (state.status) p[n["Status"]!] = { select: { name: state.status.replace(/,/g, " ") } };
  if (state.from) p[n["From"]!] = { phone_number: state.from };
  if (state.to?.length) p[n["To"]!] = textProperty(state.to.join(", "));
  if (participant) p[n["Participant"]!] = { phone_number: participant };
  if (ctx.lineLabel) p[n["Line"]!] = textProperty(ctx.lineLabel);
  const user = state.userId ? (ctx.userNames[state.userId] ?? state.userId) : undefined;
  if (user) p[n["User"]!] = textProperty(user);
  if (state.text) p[n["Text"]!] = textProperty(state.text);
  if (ctx.mediaLinks.length > 0) {
    const items = ctx.mediaLinks.slice(0, ARRAY_LIMIT / 2).flatMap((url, i) => [
      ...(i > 0 ? richText("\n") : []),
      ...richText(`Media ${i + 1}`, url),
    ]);
    p[n["Media"]!] = { rich_text: items };
  }
  if (state.createdAt) p[n["Sent"]!] = dateProperty(state.createdAt);
  const customers = [...new Set([...(ctx.canvasPageId ? [ctx.canvasPageId] : []), ...(ctx.canvasPageIds ?? [])])].slice(0, RELATION_LIMIT);
  if (customers.length > 0) p[n["Canvas"]!] = { relation: customers.map((id) => ({ id })) };
  else if (ctx.contactLabel) p[n["Contact"]!] = textProperty(ctx.contactLabel);
  return p;
}

const heading = (text: string): Block => ({ type: "heading_2", heading_2: { rich_text: richText(text) } });
const paragraph = (items: RichTextItem[]): Block => ({ type: "paragraph", paragraph: { rich_text: items } });
const plain = (content: string): RichTextItem[] => [{ type: "text", text: { content } }];

/** The chunks of body text, one per block. */
function blockChunks(text: string): string[] {
  return splitText(text, { units: RICH_TEXT_LIMIT, jsonBytes: BLOCK_TEXT_JSON_BYTES });
}

/** Text as paragraphs, however long it is. */
export function textBlocks(text: string): Block[] {
  return blockChunks(text).map((chunk) => paragraph(plain(chunk)));
}

/** A list item whose text does not fit one block goes on in paragraphs right below it. */
function listItemBlocks(text: string, item: (items: RichTextItem[]) => Block): Block[] {
  const [first = "", ...rest] = blockChunks(text);
  return [item(plain(first)), ...rest.map((chunk) => paragraph(plain(chunk)))];
}

/**
 * One section, or several of at most 100 blocks when it is longer: `key`, `key:2`, `key:3` … Each is appended
 * whole, so none may pass the 100 blocks of one append.
 */
function sectionsOf(key: string, blocks: Block[]): BodySection[] {
  const sections: BodySection[] = [];
  for (let i = 0; i < blocks.length; i += BLOCKS_PER_APPEND) {
    sections.push({ key: i === 0 ? key : `${key}:${i / BLOCKS_PER_APPEND + 1}`, blocks: blocks.slice(i, i + BLOCKS_PER_APPEND) });
  }
  return sections;
}
const audio = (url: string, caption: string): Block => ({ type: "audio", audio: { type: "external", external: { url }, caption: richText(caption) } });

function speakerName(turn: TranscriptTurn, ctx: CallMappingContext, participant: string | undefined): string {
  if (turn.userId) return ctx.userNames[turn.userId] ?? turn.userId;
  if (ctx.participantName && turn.identifier && turn.identifier === participant) return ctx.participantName;
  return turn.identifier ?? "Unknown speaker";
}

/**
 * Transcript turns `[mm:ss] Speaker: text`, packed into paragraphs of whole turns within one block's size; a turn
 * too long for one block is spread over as many as it needs.
 */
export function transcriptBlocks(dialogue: TranscriptTurn[], ctx: CallMappingContext, participant?: string): Block[] {
  const lines = [...dialogue].sort((a, b) => a.start - b.start).map((t) => `[${formatOffset(t.start)}] ${speakerName(t, ctx, participant)}: ${t.content.trim()}`);
  const blocks: Block[] = [];
  let current = "";
  const push = () => {
    if (current) blocks.push(paragraph(plain(current)));
    current = "";
  };
  for (const line of lines) {
    if (blockChunks(line).length > 1) {
      push();
      blocks.push(...textBlocks(line));
    } else if (current && blockChunks(`${current}\n${line}`).length > 1) {
      push();
      current = line;
    } else {
      current = current ? `${current}\n${line}` : line;
    }
  }
  push();
  return blocks;
}

/** The page body, section by section, each present only once its content exists. */
export function buildCallBody(state: CallState, ctx: CallMappingContext): BodySection[] {
  const sections: BodySection[] = [];
  const summary = state.summary;
  if (summary?.status === "completed" && summary.summary.length > 0) {
    const bullet = (items: RichTextItem[]): Block => ({ type: "bulleted_list_item", bulleted_list_item: { rich_text: items } });
    sections.push(...sectionsOf("summary", [heading("Summary"), ...summary.summary.flatMap((line) => listItemBlocks(line, bullet))]));
  }
  if (summary?.status === "completed" && summary.nextSteps.length > 0) {
    const todo = (items: RichTextItem[]): Block => ({ type: "to_do", to_do: { rich_text: items, checked: false } });
    sections.push(...sectionsOf("next-steps", [heading("Next steps"), ...summary.nextSteps.flatMap((step) => listItemBlocks(step, todo))]));
  }
  const recordings = linkedRecordings(state, ctx);
  recordings.forEach((r, i) => {
    const length = r.duration !== null ? ` (${formatDuration(r.duration)})` : "";
    sections.push({ key: `recording:${r.id}`, blocks: [audio(ctx.recordingLinks[r.id]!, `Recording${recordings.length > 1 ? ` ${i + 1}` : ""}${length}`)] });
  });
  // The player and its transcript are sections of their own: the transcript often comes after the file.
  const voicemailLength = typeof state.voicemail?.duration === "number" ? ` (${formatDuration(state.voicemail.duration)})` : "";
  if (ctx.voicemailLink) sections.push({ key: "voicemail", blocks: [heading("Voicemail"), audio(ctx.voicemailLink, `Voicemail${voicemailLength}`)] });
  const voicemailText = state.voicemail?.transcript?.trim();
  if (voicemailText && (ctx.voicemailLink || needsCut(voicemailText))) {
    // Without a player the property holds the transcript, and the body only when the property shows it cut.
    sections.push(...sectionsOf("voicemail-transcript", [heading("Voicemail transcript"), ...textBlocks(voicemailText)]));
  }
  if (state.transcript?.status === "completed" && state.transcript.dialogue.length > 0) {
    sections.push(...sectionsOf("transcript", [heading("Transcript"), ...transcriptBlocks(state.transcript.dialogue, ctx, callParticipant(state, ctx.lineNumber))]));
  }
  return sections;
}

/** The name a file block shows: the attachment's position and its file's extension ("Attachment 2.pdf"). */
function fileName(link: string, index: number): string {
  let ext = "";
  try {
    ext = /\.[a-z0-9]{1,5}$/i.exec(new URL(link).pathname)?.[0] ?? "";
  } catch {
    // Not a URL: the name goes without an extension.
  }
  return `Attachment ${index + 1}${ext}`;
}

/**
 * An attachment as a body block: a picture as an image, a sound as an audio player, anything else (video, PDF, a
 * contact card) as a file, each behind its stored link and captioned with its position and type.
 */
export function attachmentBlock(link: string, type: string | null, index: number, count: number): Block {
  const kind = (type ?? "").split(";")[0]!.trim().toLowerCase();
  const caption = richText(count > 1 ? `Attachment ${index + 1} of ${count}${kind ? ` · ${kind}` : ""}` : kind || "Attachment");
  if (kind.startsWith("image/")) return { type: "image", image: { type: "external", external: { url: link }, caption } };
  if (kind.startsWith("audio/")) return { type: "audio", audio: { type: "external", external: { url: link }, caption } };
  return { type: "file", file: { type: "external", external: { url: link }, caption, name: fileName(link, index) } };
}

/**
 * The body of a text's page: its attachments (pictures shown, other files linked), each written once its link
 * exists, and, for a text too long for its `Text` property, the whole text that the property shows cut.
 * `mediaLinks` holds the link of each attachment by position (absent while it has none).
 */
export function buildMessageBody(state: MessageState, mediaLinks: (string | undefined)[] = []): BodySection[] {
  const sections: BodySection[] = [];
  const media = state.media ?? [];
  media.forEach((m, i) => {
    const link = mediaLinks[i];
    if (link) sections.push({ key: `attachment:${i}`, blocks: [attachmentBlock(link, m.type, i, media.length)] });
  });
  if (state.text && needsCut(state.text)) sections.push(...sectionsOf("text", [heading("Text"), ...textBlocks(state.text)]));
  return sections;
}

/** Splits blocks into appends of at most 100. */
export function chunkBlocks(blocks: Block[], size = BLOCKS_PER_APPEND): Block[][] {
  const chunks: Block[][] = [];
  for (let i = 0; i < blocks.length; i += size) chunks.push(blocks.slice(i, i + size));
  return chunks;
}

/** The properties whose desired value differs from what was last written (by their JSON). */
export function diffProperties(desired: PageProperties, written: PageProperties): PageProperties {
  const changed: PageProperties = {};
  for (const [name, value] of Object.entries(desired)) {
    if (JSON.stringify(written[name]) !== JSON.stringify(value)) changed[name] = value;
  }
  return changed;
}
