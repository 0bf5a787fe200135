/**
 * Everything media for one call, from its id: list the call, its recordings and its voicemail, plan, copy. Used to
 * re-copy a call's media on demand (admin API); the real-time flush has the records already and calls the planner
 * and `copyMediaItems` itself.
 */
import type { Config } from "../config";
import { lineOfResource } from "../db/sync-history";
import { createLogger } from "../observability/logger";
import { classifyOpenPhoneError, type OpenPhoneClient, type Voicemail } from "../openphone/client";
import { copyMediaItems, type CopyMediaOptions, type MediaCopyResult, type MediaEnv } from "./copy";
import { linkMediaItems, planCallMedia, type LinkedMediaItem } from "./plan";
import { announceRetriedMedia } from "./retry";

export interface CallMediaResult {
  callId: string;
  items: LinkedMediaItem[];
  results: MediaCopyResult[];
}

/** Whether the call's page was asked to link what is now stored: "flush requested", or why not. */
export interface PageUpdate {
  status: "flush requested" | "not synced yet" | "failed";
  line?: string;
  reason?: string;
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

/**
 * Copies a call's media again, then brings its page up to date: a note saying a file was unavailable goes once the
 * file is stored, and the call's line flushes the call, asking OpenPhone again for everything it has.
 */
export async function recopyCallMedia(env: Env, config: Config, client: OpenPhoneClient, callId: string, baseUrl: string): Promise<CallMediaResult & { page: PageUpdate }> {
  const outcome = await copyCallMedia(env, config, client, callId, baseUrl);
  await announceRetriedMedia(env, outcome.results).catch((error) => createLogger(config.LOG_LEVEL).error("could not bring the pages' media notes up to date", { error }));
  return { ...outcome, page: await requestPageUpdate(env, callId) };
}

/** Asks the line that wrote the call's page to flush it again; a call not synced yet gets its page in the usual way. */
async function requestPageUpdate(env: Pick<Env, "DB" | "LINE">, callId: string): Promise<PageUpdate> {
  try {
    const line = await lineOfResource(env.DB, callId);
    if (line === null) return { status: "not synced yet" };
    const asked = await env.LINE.get(env.LINE.idFromName(line)).askAgain(callId);
    return asked ? { status: "flush requested", line } : { status: "not synced yet", line };
  } catch (error) {
    return { status: "failed", reason: `the page could not be brought up to date: ${error instanceof Error ? error.message : String(error)}` };
  }
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
