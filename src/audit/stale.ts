/**
 * Whether a page lacks something OpenPhone has: a recording, transcript, summary or voicemail for a call, media for
 * a text. Read from the properties the mapping writes (`Recording`, `Transcript Status`, `Summary`, `Voicemail`,
 * `Media`), so one query's results answer it for every page. OpenPhone is asked only about what a page lacks, and
 * only what the call can have (an unanswered call has no recording or transcript; an answered one no voicemail):
 * a complete page costs no request, an incomplete one at most three.
 */
import type { Call, Message, OpenPhoneClient } from "../openphone/client";
import { classifyOpenPhoneError } from "../openphone/client";
import type { PropertyNames } from "../notion/schema";
import type { AuditBudget } from "./budget";
import { plainTextOf, type NotionPageView } from "./notion-index";

import type { StaleField } from "./types";

export type { StaleField };

function prop(page: NotionPageView, names: PropertyNames, name: string): Record<string, unknown> | undefined {
  return page.properties[names[name] ?? name];
}

/** What a call page does not show yet, among what the call could have. */
export function callPageLacks(call: Pick<Call, "answeredAt" | "direction">, page: NotionPageView, names: PropertyNames): StaleField[] {
  const lacks: StaleField[] = [];
  if (call.answeredAt) {
    if (!prop(page, names, "Recording")?.url) lacks.push("recording");
    if ((prop(page, names, "Transcript Status")?.select as { name?: string } | null | undefined)?.name !== "completed") lacks.push("transcript");
    if (!plainTextOf(prop(page, names, "Summary"))) lacks.push("summary");
  } else if (call.direction === "incoming" && !prop(page, names, "Voicemail")?.url) {
    lacks.push("voicemail");
  }
  return lacks;
}

/** The media a text carries, when the listing includes it (webhooks always do; the list endpoint may). */
export function messageMediaCount(message: Message): number {
  const media = (message as { media?: unknown }).media;
  return Array.isArray(media) ? media.filter((m) => typeof (m as { url?: unknown })?.url === "string").length : 0;
}

export function messagePageLacks(message: Message, page: NotionPageView, names: PropertyNames): StaleField[] {
  return messageMediaCount(message) > 0 && !plainTextOf(prop(page, names, "Media")) ? ["media"] : [];
}

/** A 404 is OpenPhone saying "there is none". */
async function orNone<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (classifyOpenPhoneError(error).kind === "not_found") return undefined;
    throw error;
  }
}

/** Of what the page lacks, what OpenPhone actually has: the page is stale in exactly these. */
export async function callHas(client: OpenPhoneClient, callId: string, lacks: StaleField[], budget: AuditBudget): Promise<StaleField[]> {
  const has: StaleField[] = [];
  for (const field of lacks) {
    budget.take("openphone");
    if (field === "recording") {
      const r = await orNone(client.request("getCallRecordings_v1", { path: { callId } }));
      if (r?.data.some((rec) => rec.url && rec.status === "completed")) has.push(field);
    } else if (field === "transcript") {
      const t = await orNone(client.request("getCallTranscript_v1", { path: { id: callId } }));
      if (t?.data.status === "completed" && (t.data.dialogue ?? []).length > 0) has.push(field);
    } else if (field === "summary") {
      const s = await orNone(client.request("getCallSummary_v1", { path: { callId } }));
      if (s?.data.status === "completed" && (s.data.summary ?? []).length > 0) has.push(field);
    } else if (field === "voicemail") {
      const v = await orNone(client.request("getCallVoicemails_v1", { path: { callId } }));
      if (v?.data?.recordingUrl && v.data.status === "completed") has.push(field);
    }
  }
  return has;
}
