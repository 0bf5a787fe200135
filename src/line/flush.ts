/**
 * The flush of one call or text: enrich what the events did not carry, map to Notion, then write.
 *
 * Create once: the claim `creating` is stored durably before Notion is asked to create; when a previous create's
 * outcome is unknown (the process died, Notion answered 5xx or timed out) the page is first looked up by its unique
 * id property. Notion may apply a create it answered with an error, and its queries lag behind its writes, so a
 * miss is not believed at once: the lookups are spread over CLAIM_VISIBILITY_MS counted from the END of the
 * unknown attempt (a timeout spends the whole request time), at most CLAIM_LOOKUPS of them, and only a miss after
 * the window lets the page be created again. A page found that way is a duplicate prevented, and counted. After that, an update sends only the properties that changed since the last write, and each body
 * section is appended once. The result always carries the progress made, so a failure halfway loses nothing and
 * repeats nothing.
 */
import type { Client } from "@notionhq/client";
import type { Config } from "../config";
import { mediaUrl } from "../media/links";
import { type MediaItem, planCallMedia, planMessageMedia } from "../media/plan";
import { buildCallBody, buildMessageBody, diffProperties, mapCallToProperties, mapMessageToProperties, type BodySection, type PageProperties } from "../notion/mapping";
import { jsonBytes, planBodyRequests } from "../notion/append-plan";
import { classifyNotionError, type NotionFailure } from "../notion/errors";
import { appendBlocks, createPage, findPageByUniqueId, updatePageProperties, type PageParent } from "../notion/pages";
import { type DatabaseKind, type PropertyNames, uniqueProperty } from "../notion/schema";
import { type CallRecording, classifyOpenPhoneError, type OpenPhoneClient, type Voicemail } from "../openphone/client";
import { enrichCall, type Enrichment } from "./enrich";
import { type CallState, callParticipant, callUserId, mergeCall, messageParticipant, messageParticipants, type Recording, type ResourceState } from "./state";
import type { ResourceRecord } from "./storage";

export const SYNCED_AT = "Synced At";
/**
 * How long after a create with an unknown outcome ended its page may still be missing from queries. Notion's query
 * index has been seen to lag writes by tens of seconds; two minutes leaves room above that.
 */
export const CLAIM_VISIBILITY_MS = 120_000;
/** Unique-id lookups of a page whose create had an unknown outcome, across the window and the one after it. */
export const CLAIM_LOOKUPS = 4;
/** The longest a create request can last (the Notion client's timeout): when the process died mid-create, its end. */
export const CREATE_ATTEMPT_MAX_MS = 30_000;

export interface LineLabel {
  label?: string;
  number?: string;
}

export interface FlushDeps {
  config: Config;
  notion: Client;
  openphone: OpenPhoneClient;
  parent(kind: DatabaseKind): Promise<PageParent>;
  names(kind: DatabaseKind): PropertyNames;
  userNames(ids: string[]): Promise<Record<string, string>>;
  line(lineId: string | undefined): Promise<LineLabel>;
  canvasPageId: string | null | undefined;
  /** Every customer among a text's participants (group texts), the main participant's first. */
  canvasPageIds?: string[];
  /** The matched customer's name, shown instead of the bare number. */
  canvasTitle?: string;
  /** The participant's OpenPhone contact, when no customer matched: its name for the title, its label for Contact. */
  contact?: { name: string; label: string };
  /** Stores the create claim durably; resolves only once it is on disk. */
  claim(resourceId: string, props: PageProperties, sections: string[]): Promise<void>;
  now(): number;
}

export interface FlushProgress {
  state: ResourceState;
  enrichments: Enrichment[];
  pageId: string | null;
  writtenProps: PageProperties;
  bodySections: string[];
  links: Record<string, string>;
  /** The create claim is settled (page created, found, or surely not created). */
  claimSettled: boolean;
  /** When the last create attempt ended without a known outcome (set by the attempt that ended so). */
  claimUnknownAt: number | null;
  /** Unique-id lookups made since that attempt, none of which found the page. */
  claimLookups: number;
  /** A lookup found the page an unknown create made: without it, a second page would have been created. */
  duplicatePrevented: boolean;
  /** Media whose link is now in Notion: the bytes are to be copied into R2 under these keys. */
  mediaCopies: MediaItem[];
}

export type FlushResult = FlushProgress &
  (
    | { outcome: "created" | "updated" | "unchanged" }
    | { outcome: "retry"; delayMs: number; message: string }
    | { outcome: "blocked"; delayMs: number; message: string }
    | { outcome: "failed"; message: string; property?: string }
  );

/**
 * The media of a call or text as the media pipeline plans it (same keys as its copier), each with the reference
 * the page mapping looks its link up by: the recording id, "voicemail", or the attachment's position.
 */
function mediaSources(state: ResourceState): { item: MediaItem; ref: string }[] {
  if (state.kind === "call") {
    const recordings = (state.recordings ?? [])
      .filter((r): r is Recording & { id: string } => r.id !== null)
      .map((r) => ({ id: r.id, url: r.url, type: r.type, duration: r.duration, startTime: null, status: null }) as unknown as CallRecording);
    const v = state.voicemail;
    const voicemail = v ? ({ id: v.id ?? "", status: v.processing ? "in-progress" : "completed", duration: v.duration, transcript: v.transcript, recordingUrl: v.url } as Voicemail) : null;
    return planCallMedia({ id: state.id, createdAt: state.createdAt ?? "" }, recordings, voicemail).map((item) => ({ item, ref: item.kind === "voicemail" ? "voicemail" : item.mediaId }));
  }
  return planMessageMedia({ id: state.id, createdAt: state.createdAt, media: state.media }).map((item) => ({ item, ref: item.mediaId }));
}

/** Links are computed once per key and kept, so a link with an expiry does not make every flush an update. */
async function resolveLinks(config: Config, sources: { item: MediaItem }[], known: Record<string, string>): Promise<Record<string, string>> {
  const links = { ...known };
  const base = config.PUBLIC_BASE_URL;
  if (!config.MEDIA_PUBLIC_BASE_URL && (!base || config.MEDIA_SIGNING_KEYS.length === 0)) return links;
  for (const { item } of sources) {
    if (!links[item.key]) links[item.key] = await mediaUrl(config, item.key, base ?? "");
  }
  return links;
}

function userIdsOf(state: ResourceState): string[] {
  if (state.kind === "message") return state.userId ? [state.userId] : [];
  const ids = new Set<string>();
  const user = callUserId(state);
  if (user) ids.add(user);
  for (const turn of state.transcript?.dialogue ?? []) if (turn.userId) ids.add(turn.userId);
  return [...ids];
}

function failureResult(progress: FlushProgress, failure: NotionFailure | { kind: "retry"; delayMs: number; message: string }): FlushResult {
  if (failure.kind === "permanent") return { ...progress, outcome: "failed", message: failure.message, property: failure.property };
  if (failure.kind === "blocked") return { ...progress, outcome: "blocked", delayMs: failure.delayMs, message: failure.message };
  return { ...progress, outcome: "retry", delayMs: failure.delayMs, message: failure.message };
}

/** What enrichment and the lookups throw is retried whatever it is: enrichment has already taken a 404 or a refusal as absent. */
function openPhoneRetry(error: unknown): { kind: "retry"; delayMs: number; message: string } {
  const failure = classifyOpenPhoneError(error);
  switch (failure.kind) {
    case "gate_closed":
      return { kind: "retry", delayMs: Math.max(1000, failure.retryAfterMs), message: failure.message };
    case "rate_limited":
    case "transient":
      return { kind: "retry", delayMs: failure.retryAfterMs ?? 5000, message: failure.message };
    case "unknown":
      return { kind: "retry", delayMs: 5000, message: `OpenPhone lookup failed: ${failure.message}` };
    default:
      return { kind: "retry", delayMs: 5000, message: failure.message };
  }
}

export async function flushResource(record: ResourceRecord, deps: FlushDeps): Promise<FlushResult> {
  const kind: DatabaseKind = record.kind === "call" ? "calls" : "messages";
  const progress: FlushProgress = {
    state: record.state,
    enrichments: [],
    pageId: record.pageId,
    writtenProps: record.writtenProps,
    bodySections: record.bodySections,
    links: record.links,
    claimSettled: record.claim === null,
    claimUnknownAt: record.claimUnknownAt,
    claimLookups: record.claimLookups,
    duplicatePrevented: false,
    mediaCopies: [],
  };

  let userNames: Record<string, string>;
  let line: LineLabel;
  try {
    if (progress.state.kind === "call") {
      for (const enrichment of await enrichCall(progress.state, deps.openphone, deps.now)) {
        progress.state = mergeCall(progress.state as CallState, enrichment.patch, enrichment.source);
        progress.enrichments.push(enrichment);
      }
    }
    userNames = await deps.userNames(userIdsOf(progress.state));
    line = await deps.line(progress.state.lineId);
  } catch (error) {
    return failureResult(progress, openPhoneRetry(error));
  }

  const state = progress.state;
  const sources = mediaSources(state);
  progress.links = await resolveLinks(deps.config, sources, record.links);
  const names = deps.names(kind);
  const linkFor = (ref: string) => progress.links[sources.find((s) => s.ref === ref)?.item.key ?? ""];
  let desired: PageProperties;
  let sections: BodySection[] = [];
  if (state.kind === "call") {
    const recordingLinks: Record<string, string> = {};
    for (const r of state.recordings ?? []) if (r.id && linkFor(r.id)) recordingLinks[r.id] = linkFor(r.id)!;
    const ctx = { names, lineLabel: line.label, lineNumber: line.number, userNames, canvasPageId: deps.canvasPageId, participantName: deps.canvasTitle ?? deps.contact?.name, contactLabel: deps.contact?.label, recordingLinks, voicemailLink: linkFor("voicemail") };
    desired = mapCallToProperties(state, ctx);
    sections = buildCallBody(state, ctx);
  } else {
    const linksByPosition = (state.media ?? []).map((_, i) => linkFor(String(i)));
    const mediaLinks = linksByPosition.filter((l): l is string => Boolean(l));
    desired = mapMessageToProperties(state, { names, lineLabel: line.label, lineNumber: line.number, userNames, canvasPageId: deps.canvasPageId, canvasPageIds: deps.canvasPageIds, mediaLinks, participantName: deps.canvasTitle ?? deps.contact?.name, contactLabel: deps.contact?.label });
    sections = buildMessageBody(state, linksByPosition);
  }
  const syncedAtName = names[SYNCED_AT] ?? SYNCED_AT;
  const stampSynced = (props: PageProperties): PageProperties => ({ ...props, [syncedAtName]: { date: { start: new Date(deps.now()).toISOString() } } });
  const comparable = (props: PageProperties) => Object.fromEntries(Object.entries(props).filter(([name]) => name !== syncedAtName));

  let outcome: "created" | "updated" | "unchanged" = "unchanged";
  try {
    const parent = await deps.parent(kind);
    if (!progress.pageId && record.claim === "creating") {
      // A create was started and its outcome is unknown: the page may exist already, or show in queries later.
      const endedAt = record.claimUnknownAt ?? (record.claimedAt ?? 0) + CREATE_ATTEMPT_MAX_MS;
      const remaining = endedAt + CLAIM_VISIBILITY_MS - deps.now();
      const step = Math.ceil(CLAIM_VISIBILITY_MS / (CLAIM_LOOKUPS - 1));
      // Within the window, lookups beyond the budget wait for its end (new events may make flushes due sooner).
      if (remaining > 0 && progress.claimLookups >= CLAIM_LOOKUPS - 1) {
        return failureResult(progress, { kind: "retry", delayMs: remaining, message: "a create with an unknown outcome is not visible yet; looking once more when the wait ends" });
      }
      const found = await findPageByUniqueId(deps.notion, parent, names[uniqueProperty(kind)] ?? uniqueProperty(kind), state.id);
      progress.claimLookups += 1;
      if (found) {
        progress.pageId = found;
        progress.writtenProps = record.claimProps ?? {};
        progress.bodySections = record.claimSections;
        progress.duplicatePrevented = true;
      } else if (remaining > 0) {
        return failureResult(progress, { kind: "retry", delayMs: Math.min(step, remaining), message: `a create with an unknown outcome is not visible yet (lookup ${progress.claimLookups} of ${CLAIM_LOOKUPS}); looking again before creating` });
      }
      progress.claimSettled = true;
    }
    if (!progress.pageId) {
      const props = stampSynced(desired);
      // The create carries what fits beside the properties in one request; the rest goes in appends below.
      const atCreate = planBodyRequests(sections.filter((s) => !progress.bodySections.includes(s.key)), jsonBytes(props)).create!;
      await deps.claim(record.resourceId, props, atCreate.keys);
      progress.claimSettled = false;
      try {
        progress.pageId = await createPage(deps.notion, parent, props, atCreate.blocks);
      } catch (error) {
        const failure = classifyNotionError(error);
        // Only an answer that proves nothing was created settles the claim; otherwise the next flush looks first.
        if (failure.kind !== "retry" || !failure.outcomeUnknown) progress.claimSettled = true;
        else {
          // The window for this create's page to show counts from now, when its outcome turned out unknown.
          progress.claimUnknownAt = deps.now();
          progress.claimLookups = 0;
        }
        return failureResult(progress, failure);
      }
      progress.claimSettled = true;
      progress.writtenProps = props;
      progress.bodySections = [...progress.bodySections, ...atCreate.keys];
      outcome = "created";
    } else {
      const changed = diffProperties(comparable(desired), comparable(progress.writtenProps));
      if (Object.keys(changed).length > 0) {
        const props = stampSynced(changed);
        await updatePageProperties(deps.notion, progress.pageId, props);
        progress.writtenProps = { ...progress.writtenProps, ...props };
        outcome = "updated";
      }
    }
    for (const append of planBodyRequests(sections.filter((s) => !progress.bodySections.includes(s.key))).appends) {
      await appendBlocks(deps.notion, progress.pageId, append.blocks);
      progress.bodySections = [...progress.bodySections, ...append.keys];
      if (outcome === "unchanged") outcome = "updated";
    }
  } catch (error) {
    return failureResult(progress, classifyNotionError(error));
  }

  // After the page is written, copy media: every linked source becomes a copy request for the media copier.
  progress.mediaCopies = sources.filter((s) => progress.links[s.item.key]).map((s) => s.item);
  return { ...progress, outcome };
}

/** The external party of a resource, for the Canvas lookup and the D1 mirror. */
export function participantOf(state: ResourceState, lineNumber?: string): string | undefined {
  return state.kind === "call" ? callParticipant(state, lineNumber) : messageParticipant(state, lineNumber);
}

/** Every external party: the one of a call, all of a group text (the main one first). */
export function participantsOf(state: ResourceState, lineNumber?: string): string[] {
  if (state.kind === "message") return messageParticipants(state, lineNumber);
  const one = callParticipant(state, lineNumber);
  return one ? [one] : [];
}
