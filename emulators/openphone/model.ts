/**
 * The emulator's records. API objects use the types generated from the spec (`src/openphone/schema.d.ts`), so what
 * the store holds is already the shape the API returns; the records add what only the emulator knows (when each
 * artifact becomes available, which media file backs a URL).
 */
import type { Call, CallRecording, CallSummary, CallTranscript, Message, Voicemail } from "../../src/openphone/types.ts";

export type {
  Call,
  CallRecording,
  CallSummary,
  CallTranscript,
  Contact,
  ContactCustomField,
  Conversation,
  Message,
  PhoneNumber,
  User,
  Voicemail,
  Webhook,
} from "../../src/openphone/types.ts";

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
