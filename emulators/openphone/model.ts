/**
 * The emulator's records. API objects use the types generated from the spec (`src/openphone/schema.d.ts`), so what
 * the store holds is already the shape the API returns; the records add what only the emulator knows (when each
 * artifact becomes available, which media file backs a URL).
 */
import type { operations } from "../../src/openphone/schema.js";

type Json<K extends keyof operations, S extends number> = operations[K]["responses"] extends Record<S, { content: { "application/json": infer R } }> ? R : never;

export type Call = Json<"getCallById_v1", 200>["data"];
export type CallRecording = Json<"getCallRecordings_v1", 200>["data"][number];
export type CallSummary = Json<"getCallSummary_v1", 200>["data"];
export type CallTranscript = Json<"getCallTranscript_v1", 200>["data"];
export type Voicemail = Json<"getCallVoicemails_v1", 200>["data"];
export type Message = Json<"getMessageById_v1", 200>["data"];
export type PhoneNumber = Json<"getPhoneNumberById_v1", 200>["data"];
export type User = Json<"getUserById_v1", 200>["data"];
export type Contact = Json<"getContactById_v1", 200>["data"];
export type ContactCustomField = Json<"getContactCustomFields_v1", 200>["data"][number];
export type Conversation = Json<"listConversations_v1", 200>["data"][number];
export type Webhook = Json<"getWebhookById_v1", 200>["data"];

/** A generated audio or image file served under `/media/<id>.<ext>`. */
export interface MediaFile {
  id: string;
  bytes: number;
  contentType: string;
  extension: string;
}

/** When each part of a call exists for the API: before `readyAt` it reads as "processing" / "in-progress". */
export interface CallRecord {
  call: Call;
  /** Final segments; `null` url until `recordingReadyAt`. */
  recordings: CallRecording[];
  recordingReadyAt: number;
  /** `null` when OpenPhone made none (status "absent"). */
  transcript: CallTranscript | null;
  transcriptReadyAt: number;
  summary: CallSummary | null;
  summaryReadyAt: number;
  voicemail: Voicemail | null;
  voicemailReadyAt: number;
}

export interface MessageRecord {
  message: Message;
  /** MMS attachments (not part of the v1 REST shape; carried in webhook payloads). */
  media: MediaFile[];
}

export type CallShape = "answered" | "voicemail" | "missed" | "no-answer" | "busy" | "failed" | "canceled" | "forwarded";
