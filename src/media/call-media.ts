/**
 * Everything media for one call, from its id: list the call, its recordings and its voicemail, plan, copy. Used to
 * re-copy a call's media on demand (admin API); the real-time flush has the records already and calls the planner
 * and `copyMediaItems` itself.
 */
import type { Config } from "../config";
import { classifyOpenPhoneError, type OpenPhoneClient, type Voicemail } from "../openphone/client";
import { copyMediaItems, type CopyMediaOptions, type MediaCopyResult, type MediaEnv } from "./copy";
import { linkMediaItems, planCallMedia, type LinkedMediaItem } from "./plan";

export interface CallMediaResult {
  callId: string;
  items: LinkedMediaItem[];
  results: MediaCopyResult[];
}

export async function copyCallMedia(
  env: MediaEnv,
  config: Config,
  client: OpenPhoneClient,
  callId: string,
  baseUrl: string,
  options: CopyMediaOptions = {},
): Promise<CallMediaResult> {
  const [{ data: call }, { data: recordings }, voicemail] = await Promise.all([
    client.request("getCallById_v1", { path: { callId } }),
    client.request("getCallRecordings_v1", { path: { callId } }),
    voicemailOf(client, callId),
  ]);
  const items = await linkMediaItems(config, baseUrl, planCallMedia(call, recordings, voicemail));
  const results = await copyMediaItems(env, config, items, { ...options, client });
  return { callId, items, results };
}

/** A call without a voicemail answers 404; that is "none", not a failure. */
async function voicemailOf(client: OpenPhoneClient, callId: string): Promise<Voicemail | null> {
  try {
    return (await client.request("getCallVoicemails_v1", { path: { callId } })).data ?? null;
  } catch (error) {
    if (classifyOpenPhoneError(error).kind === "not_found") return null;
    throw error;
  }
}
