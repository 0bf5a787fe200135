/**
 * The OpenPhone webhooks the sync needs: one registration per event family, all pointing at the Worker's
 * `/webhooks/openphone`. `setup` registers them and the doctor checks them, so both read this one list.
 */
export const WEBHOOK_PATH = "/webhooks/openphone";

export const WEBHOOK_FAMILIES = [
  { path: "/v1/webhooks/calls", events: ["call.ringing", "call.completed", "call.recording.completed"] },
  { path: "/v1/webhooks/messages", events: ["message.received", "message.delivered"] },
  { path: "/v1/webhooks/call-summaries", events: ["call.summary.completed"] },
  { path: "/v1/webhooks/call-transcripts", events: ["call.transcript.completed"] },
] as const;

export const NEEDED_WEBHOOK_EVENTS: readonly string[] = WEBHOOK_FAMILIES.flatMap((f) => f.events);
