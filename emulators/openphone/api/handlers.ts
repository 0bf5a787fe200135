/** Every operation of the spec, by operationId. */
import * as calls from "./calls.ts";
import * as contacts from "./contacts.ts";
import type { ApiHandlers } from "./context.ts";
import * as messages from "./messages.ts";
import * as webhooks from "./webhooks.ts";
import * as workspace from "./workspace.ts";

export const apiHandlers: ApiHandlers = {
  getCallRecordings_v1: calls.getCallRecordings,
  listCalls_v1: calls.listCalls,
  getCallById_v1: calls.getCallById,
  getCallSummary_v1: calls.getCallSummary,
  getCallTranscript_v1: calls.getCallTranscript,
  getCallVoicemails_v1: calls.getCallVoicemails,
  getContactCustomFields_v1: contacts.getContactCustomFields,
  createContact_v1: contacts.createContact,
  listContacts_v1: contacts.listContacts,
  getContactById_v1: contacts.getContactById,
  updateContactById_v1: contacts.updateContactById,
  deleteContact_v1: contacts.deleteContact,
  listConversations_v1: workspace.listConversations,
  sendMessage_v1: messages.sendMessage,
  listMessages_v1: messages.listMessages,
  getMessageById_v1: messages.getMessageById,
  listPhoneNumbers_v1: workspace.listPhoneNumbers,
  getPhoneNumberById_v1: workspace.getPhoneNumberById,
  listUsers_v1: workspace.listUsers,
  getUserById_v1: workspace.getUserById,
  listWebhooks_v1: webhooks.listWebhooks,
  getWebhookById_v1: webhooks.getWebhookById,
  deleteWebhookById_v1: webhooks.deleteWebhookById,
  createMessageWebhook_v1: webhooks.createMessageWebhook,
  createCallWebhook_v1: webhooks.createCallWebhook,
  createCallSummaryWebhook_v1: webhooks.createCallSummaryWebhook,
  createCallTranscriptWebhook_v1: webhooks.createCallTranscriptWebhook,
};
