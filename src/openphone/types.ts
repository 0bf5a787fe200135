/**
 * The OpenPhone API's objects, as the official OpenAPI document types them (`schema.d.ts`). Types only, with no
 * Worker types, so the client and the emulator share them.
 */
import type { operations } from "./schema.js";

export type OperationId = keyof operations;

/** What operation `K` answers with status `S` (`never` when it has no JSON answer for it). */
export type ResponseOf<K extends OperationId, S extends number> = operations[K]["responses"] extends Record<S, { content: { "application/json": infer R } }> ? R : never;
export type OkOf<K extends OperationId> = ResponseOf<K, 200> | ResponseOf<K, 201> | ResponseOf<K, 202>;

export type Call = ResponseOf<"getCallById_v1", 200>["data"];
export type CallRecording = ResponseOf<"getCallRecordings_v1", 200>["data"][number];
export type CallSummary = ResponseOf<"getCallSummary_v1", 200>["data"];
export type CallTranscript = ResponseOf<"getCallTranscript_v1", 200>["data"];
export type Voicemail = ResponseOf<"getCallVoicemails_v1", 200>["data"];
export type Message = ResponseOf<"getMessageById_v1", 200>["data"];
export type PhoneNumber = ResponseOf<"getPhoneNumberById_v1", 200>["data"];
export type User = ResponseOf<"getUserById_v1", 200>["data"];
export type Contact = ResponseOf<"getContactById_v1", 200>["data"];
export type ContactCustomField = ResponseOf<"getContactCustomFields_v1", 200>["data"][number];
export type Conversation = ResponseOf<"listConversations_v1", 200>["data"][number];
export type Webhook = ResponseOf<"getWebhookById_v1", 200>["data"];
