/**
 * The contract: every operation in `spec/openphone-openapi.json` is called for a success and for failures (400, 401,
 * 404), and each answer is validated against the schema the spec gives for that operation and status (Ajv, JSON
 * Schema 2020-12, reading the spec file). Unpaginated and paginated lists, in-progress artifacts and "absent" ones
 * are all exercised.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOpenPhoneSpec, type OperationId } from "../spec.ts";
import { query, startHarness, type Harness } from "./harness.ts";

interface Fixtures {
  lineId: string;
  participant: string;
  messageParticipants: string[];
  userId: string;
  contactId: string;
  callId: string;
  absentCallId: string;
  voicemailCallId: string;
  liveCallId: string;
  messageId: string;
  webhookId: string;
}

interface Case {
  name: string;
  operationId: OperationId;
  status: number;
  request: (f: Fixtures) => { path: string; method?: string; body?: unknown; key?: string | null };
  /** What the body must say beyond its schema. */
  says?: unknown;
}

const spec = loadOpenPhoneSpec();
const unknownCall = "ACdoesnotexist000000000000000000";

const CASES: Case[] = [
  { name: "list phone numbers", operationId: "listPhoneNumbers_v1", status: 200, request: () => ({ path: "/v1/phone-numbers" }) },
  { name: "list phone numbers for a user", operationId: "listPhoneNumbers_v1", status: 200, request: (f) => ({ path: `/v1/phone-numbers?userId=${f.userId}` }) },
  { name: "list phone numbers, bad userId", operationId: "listPhoneNumbers_v1", status: 400, request: () => ({ path: "/v1/phone-numbers?userId=nope" }) },
  { name: "list phone numbers without key", operationId: "listPhoneNumbers_v1", status: 401, request: () => ({ path: "/v1/phone-numbers", key: null }) },
  { name: "get phone number", operationId: "getPhoneNumberById_v1", status: 200, request: (f) => ({ path: `/v1/phone-numbers/${f.lineId}` }) },
  { name: "get unknown phone number", operationId: "getPhoneNumberById_v1", status: 404, request: () => ({ path: "/v1/phone-numbers/PNnope" }) },
  { name: "get phone number, bad id", operationId: "getPhoneNumberById_v1", status: 400, request: () => ({ path: "/v1/phone-numbers/XXnope" }) },
  { name: "list users", operationId: "listUsers_v1", status: 200, request: () => ({ path: "/v1/users?maxResults=2" }) },
  { name: "list users, maxResults over 50", operationId: "listUsers_v1", status: 400, request: () => ({ path: "/v1/users?maxResults=51" }) },
  { name: "list users, wrong key", operationId: "listUsers_v1", status: 401, request: () => ({ path: "/v1/users?maxResults=2", key: "Bearer wrong" }) },
  { name: "get user", operationId: "getUserById_v1", status: 200, request: (f) => ({ path: `/v1/users/${f.userId}` }) },
  { name: "get unknown user", operationId: "getUserById_v1", status: 404, request: () => ({ path: "/v1/users/USnope" }) },
  { name: "list contacts", operationId: "listContacts_v1", status: 200, request: () => ({ path: "/v1/contacts?maxResults=50" }) },
  { name: "list contacts, maxResults 0", operationId: "listContacts_v1", status: 400, request: () => ({ path: "/v1/contacts?maxResults=0" }) },
  { name: "get contact", operationId: "getContactById_v1", status: 200, request: (f) => ({ path: `/v1/contacts/${f.contactId}` }) },
  { name: "get unknown contact", operationId: "getContactById_v1", status: 404, request: () => ({ path: "/v1/contacts/000000000000000000000000" }) },
  {
    name: "create contact",
    operationId: "createContact_v1",
    status: 201,
    request: () => ({ path: "/v1/contacts", method: "POST", body: { defaultFields: { firstName: "Émilie", phoneNumbers: [{ name: "mobile", value: "+14155550199" }] }, externalId: "crm-1", customFields: [{ key: "tier", value: ["gold"] }] } }),
  },
  { name: "create contact without firstName", operationId: "createContact_v1", status: 400, request: () => ({ path: "/v1/contacts", method: "POST", body: { defaultFields: {} } }) },
  { name: "create contact, reserved source", operationId: "createContact_v1", status: 400, request: () => ({ path: "/v1/contacts", method: "POST", body: { defaultFields: { firstName: "A" }, source: "csv-import" } }) },
  { name: "create contact, duplicate externalId", operationId: "createContact_v1", status: 409, request: () => ({ path: "/v1/contacts", method: "POST", body: { defaultFields: { firstName: "B" }, externalId: "crm-1" } }) },
  { name: "update contact", operationId: "updateContactById_v1", status: 200, request: (f) => ({ path: `/v1/contacts/${f.contactId}`, method: "PATCH", body: { defaultFields: { role: "CEO" } } }) },
  { name: "update unknown contact", operationId: "updateContactById_v1", status: 404, request: () => ({ path: "/v1/contacts/000000000000000000000000", method: "PATCH", body: {} }) },
  { name: "update contact, bad custom field", operationId: "updateContactById_v1", status: 400, request: (f) => ({ path: `/v1/contacts/${f.contactId}`, method: "PATCH", body: { customFields: [{ key: "nope", value: 1 }] } }) },
  { name: "update contact, custom field value of the wrong type", operationId: "updateContactById_v1", status: 400, request: (f) => ({ path: `/v1/contacts/${f.contactId}`, method: "PATCH", body: { customFields: [{ key: "account-value", value: "a lot" }] } }) },
  { name: "create contact, date custom field that is not a date-time", operationId: "createContact_v1", status: 400, request: () => ({ path: "/v1/contacts", method: "POST", body: { defaultFields: { firstName: "C" }, customFields: [{ key: "customer-since", value: "last year" }] } }) },
  { name: "create contact, externalId longer than 75", operationId: "createContact_v1", status: 400, request: () => ({ path: "/v1/contacts", method: "POST", body: { defaultFields: { firstName: "D" }, externalId: "x".repeat(76) } }) },
  { name: "contact custom fields", operationId: "getContactCustomFields_v1", status: 200, request: () => ({ path: "/v1/contact-custom-fields" }) },
  { name: "contact custom fields without key", operationId: "getContactCustomFields_v1", status: 401, request: () => ({ path: "/v1/contact-custom-fields", key: null }) },
  { name: "list conversations", operationId: "listConversations_v1", status: 200, request: (f) => ({ path: `/v1/conversations${query({ phoneNumbers: [f.lineId], maxResults: 100 })}` }) },
  { name: "list conversations, bad date", operationId: "listConversations_v1", status: 400, request: () => ({ path: "/v1/conversations?maxResults=10&createdAfter=yesterday" }) },
  { name: "list calls", operationId: "listCalls_v1", status: 200, request: (f) => ({ path: `/v1/calls${query({ phoneNumberId: f.lineId, participants: [f.participant], maxResults: 100 })}` }) },
  { name: "list calls without participants", operationId: "listCalls_v1", status: 400, request: (f) => ({ path: `/v1/calls${query({ phoneNumberId: f.lineId, maxResults: 10 })}` }) },
  { name: "list calls, two participants", operationId: "listCalls_v1", status: 400, request: (f) => ({ path: `/v1/calls${query({ phoneNumberId: f.lineId, participants: ["+14155550001", "+14155550002"], maxResults: 10 })}` }) },
  { name: "list calls, unknown line", operationId: "listCalls_v1", status: 404, request: (f) => ({ path: `/v1/calls${query({ phoneNumberId: "PNnope", participants: [f.participant], maxResults: 10 })}` }) },
  { name: "get call", operationId: "getCallById_v1", status: 200, request: (f) => ({ path: `/v1/calls/${f.callId}` }) },
  { name: "get unknown call", operationId: "getCallById_v1", status: 404, request: () => ({ path: `/v1/calls/${unknownCall}` }) },
  { name: "get call, bad id", operationId: "getCallById_v1", status: 400, request: () => ({ path: "/v1/calls/XY123" }) },
  { name: "recordings", operationId: "getCallRecordings_v1", status: 200, request: (f) => ({ path: `/v1/call-recordings/${f.callId}` }) },
  { name: "recordings still processing", operationId: "getCallRecordings_v1", status: 200, request: (f) => ({ path: `/v1/call-recordings/${f.liveCallId}` }), says: { data: [{ status: "processing", url: null }, { status: "processing", url: null }] } },
  { name: "recordings of unknown call", operationId: "getCallRecordings_v1", status: 404, request: () => ({ path: `/v1/call-recordings/${unknownCall}` }) },
  { name: "transcript", operationId: "getCallTranscript_v1", status: 200, request: (f) => ({ path: `/v1/call-transcripts/${f.callId}` }) },
  { name: "transcript in progress", operationId: "getCallTranscript_v1", status: 200, request: (f) => ({ path: `/v1/call-transcripts/${f.liveCallId}` }), says: { data: { status: "in-progress", dialogue: null } } },
  { name: "transcript absent", operationId: "getCallTranscript_v1", status: 200, request: (f) => ({ path: `/v1/call-transcripts/${f.absentCallId}` }), says: { data: { status: "absent", dialogue: null } } },
  { name: "transcript of unknown call", operationId: "getCallTranscript_v1", status: 404, request: () => ({ path: `/v1/call-transcripts/${unknownCall}` }) },
  { name: "summary", operationId: "getCallSummary_v1", status: 200, request: (f) => ({ path: `/v1/call-summaries/${f.callId}` }) },
  { name: "summary in progress", operationId: "getCallSummary_v1", status: 200, request: (f) => ({ path: `/v1/call-summaries/${f.liveCallId}` }), says: { data: { status: "in-progress", summary: null } } },
  { name: "summary absent", operationId: "getCallSummary_v1", status: 200, request: (f) => ({ path: `/v1/call-summaries/${f.absentCallId}` }), says: { data: { status: "absent", summary: null, nextSteps: null } } },
  { name: "summary, bad id", operationId: "getCallSummary_v1", status: 400, request: () => ({ path: "/v1/call-summaries/nope" }) },
  { name: "voicemail", operationId: "getCallVoicemails_v1", status: 200, request: (f) => ({ path: `/v1/call-voicemails/${f.voicemailCallId}` }) },
  { name: "voicemail of a call without one", operationId: "getCallVoicemails_v1", status: 404, request: (f) => ({ path: `/v1/call-voicemails/${f.callId}` }) },
  { name: "list messages", operationId: "listMessages_v1", status: 200, request: (f) => ({ path: `/v1/messages${query({ phoneNumberId: f.lineId, participants: f.messageParticipants, maxResults: 100 })}` }) },
  { name: "list messages, participant not E.164", operationId: "listMessages_v1", status: 400, request: (f) => ({ path: `/v1/messages${query({ phoneNumberId: f.lineId, participants: ["555-0100"], maxResults: 10 })}` }) },
  { name: "get message", operationId: "getMessageById_v1", status: 200, request: (f) => ({ path: `/v1/messages/${f.messageId}` }) },
  { name: "get unknown message", operationId: "getMessageById_v1", status: 404, request: () => ({ path: `/v1/messages/${unknownCall}` }) },
  { name: "send message", operationId: "sendMessage_v1", status: 202, request: (f) => ({ path: "/v1/messages", method: "POST", body: { content: "Hello 👋", from: f.lineId, to: [f.participant] } }) },
  { name: "send whitespace message", operationId: "sendMessage_v1", status: 400, request: (f) => ({ path: "/v1/messages", method: "POST", body: { content: "   ", from: f.lineId, to: [f.participant] } }) },
  { name: "send to two recipients", operationId: "sendMessage_v1", status: 400, request: (f) => ({ path: "/v1/messages", method: "POST", body: { content: "hi", from: f.lineId, to: [f.participant, "+14155550123"] } }) },
  { name: "send from someone else's number", operationId: "sendMessage_v1", status: 403, request: (f) => ({ path: "/v1/messages", method: "POST", body: { content: "hi", from: "+19995550100", to: [f.participant] } }) },
  { name: "create message webhook", operationId: "createMessageWebhook_v1", status: 201, request: () => ({ path: "/v1/webhooks/messages", method: "POST", body: { url: "http://127.0.0.1:9/hook", events: ["message.received"] } }) },
  { name: "create message webhook, bad event", operationId: "createMessageWebhook_v1", status: 400, request: () => ({ path: "/v1/webhooks/messages", method: "POST", body: { url: "http://127.0.0.1:9/hook", events: ["call.completed"] } }) },
  { name: "create call webhook", operationId: "createCallWebhook_v1", status: 201, request: (f) => ({ path: "/v1/webhooks/calls", method: "POST", body: { url: "http://127.0.0.1:9/hook", events: ["call.completed"], resourceIds: [f.lineId], label: "calls" } }) },
  { name: "create call webhook without url", operationId: "createCallWebhook_v1", status: 400, request: () => ({ path: "/v1/webhooks/calls", method: "POST", body: { events: ["call.completed"] } }) },
  { name: "create summary webhook", operationId: "createCallSummaryWebhook_v1", status: 201, request: () => ({ path: "/v1/webhooks/call-summaries", method: "POST", body: { url: "http://127.0.0.1:9/hook", events: ["call.summary.completed"] } }) },
  { name: "create summary webhook, no events", operationId: "createCallSummaryWebhook_v1", status: 400, request: () => ({ path: "/v1/webhooks/call-summaries", method: "POST", body: { url: "http://127.0.0.1:9/hook", events: [] } }) },
  { name: "create transcript webhook", operationId: "createCallTranscriptWebhook_v1", status: 201, request: () => ({ path: "/v1/webhooks/call-transcripts", method: "POST", body: { url: "http://127.0.0.1:9/hook", events: ["call.transcript.completed"] } }) },
  { name: "create transcript webhook, bad url", operationId: "createCallTranscriptWebhook_v1", status: 400, request: () => ({ path: "/v1/webhooks/call-transcripts", method: "POST", body: { url: "not a url", events: ["call.transcript.completed"] } }) },
  { name: "list webhooks", operationId: "listWebhooks_v1", status: 200, request: () => ({ path: "/v1/webhooks" }) },
  { name: "list webhooks without key", operationId: "listWebhooks_v1", status: 401, request: () => ({ path: "/v1/webhooks", key: null }) },
  { name: "get webhook", operationId: "getWebhookById_v1", status: 200, request: (f) => ({ path: `/v1/webhooks/${f.webhookId}` }) },
  { name: "get unknown webhook", operationId: "getWebhookById_v1", status: 404, request: () => ({ path: "/v1/webhooks/WHnope" }) },
  { name: "delete webhook", operationId: "deleteWebhookById_v1", status: 204, request: (f) => ({ path: `/v1/webhooks/${f.webhookId}`, method: "DELETE" }) },
  { name: "delete deleted webhook", operationId: "deleteWebhookById_v1", status: 404, request: (f) => ({ path: `/v1/webhooks/${f.webhookId}`, method: "DELETE" }) },
  { name: "delete contact", operationId: "deleteContact_v1", status: 204, request: (f) => ({ path: `/v1/contacts/${f.contactId}`, method: "DELETE" }) },
  { name: "delete deleted contact", operationId: "deleteContact_v1", status: 404, request: (f) => ({ path: `/v1/contacts/${f.contactId}`, method: "DELETE" }) },
];

describe("every operation answers as the spec says", () => {
  let harness: Harness;
  let fixtures: Fixtures;

  beforeAll(async () => {
    harness = await startHarness({ seed: 7 });
    const { emulator } = harness.running;
    emulator.seed({ days: 10, callsPerDay: 12, messagesPerDay: 12 });
    const records = [...emulator.store.calls.values()];
    const full = records.find((r) => r.recordings.length > 0 && r.transcript && r.summary)!;
    const absent = records.find((r) => r.call.status === "completed" && !r.transcript)!;
    const voicemail = records.find((r) => r.voicemail)!;
    const line = emulator.store.line(full.call.phoneNumberId)!;
    const message = [...emulator.store.messages.values()].find((m) => m.message.phoneNumberId === line.id)!.message;
    // Keeps the live call's artifacts in progress for the whole file.
    emulator.updateConfig({ eventGapsMs: { recording: 600_000, transcript: 600_000, summary: 600_000 } });
    const live = emulator.createCall({ phoneNumberId: line.id, status: "answered", transcript: { chars: 500 }, summary: true, recording: { segments: 2, bytes: 1000 } });
    const created = await harness.api("/v1/webhooks/calls", { method: "POST", body: JSON.stringify({ url: "http://127.0.0.1:9/x", events: ["call.ringing"] }) });
    fixtures = {
      lineId: line.id,
      participant: full.call.participants.find((p) => p !== line.number)!,
      messageParticipants: [message.from, ...message.to].filter((n) => n !== line.number),
      userId: emulator.store.owner.id,
      contactId: emulator.store.workspace.contacts[0]!.id,
      callId: full.call.id,
      absentCallId: absent.call.id,
      voicemailCallId: voicemail.call.id,
      liveCallId: live.callId,
      messageId: message.id,
      webhookId: ((await created.json()) as { data: { id: string } }).data.id,
    };
  });

  afterAll(() => harness?.running.close());

  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    const operation = spec.byId(testCase.operationId);
    const request = testCase.request(fixtures);
    const response = await harness.api(request.path, {
      method: request.method ?? "GET",
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      key: request.key,
    });
    const text = await response.text();
    expect(response.status, text).toBe(testCase.status);
    expect(operation.responseRefs.has(testCase.status), `${testCase.operationId} has no ${testCase.status} in the spec`).toBe(true);
    const ref = operation.responseRefs.get(testCase.status);
    if (!ref) {
      expect(text).toBe("");
      return;
    }
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const validate = spec.validator(ref);
    const body = JSON.parse(text) as unknown;
    expect(validate(body), JSON.stringify(validate.errors, null, 1)).toBe(true);
    if (testCase.says !== undefined) expect(body).toMatchObject(testCase.says as object);
  });

  it("covers a success and a failure of every operation in the spec", () => {
    for (const operation of spec.operations) {
      const statuses = CASES.filter((c) => c.operationId === operation.operationId).map((c) => c.status);
      expect(statuses.some((s) => s < 300), `${operation.operationId} success`).toBe(true);
      expect(statuses.some((s) => s >= 400), `${operation.operationId} failure`).toBe(true);
    }
    expect(spec.operations.length).toBe(27);
  });
});
