/**
 * The workerd side of the Notion and OpenPhone emulators (test/emulators-setup.ts): their API as the Worker sees it
 * and their control routes, for what a test reads back (the pages written, the requests spent) and the faults it
 * scripts.
 */
import { inject } from "vitest";
import type { Call, PhoneNumber } from "../../src/openphone/client";
import type {} from "../emulators-context";
import type { JournalEntry } from "../../emulators/notion/journal";

export const NOTION = inject("notionEmulator");
export const OPENPHONE = inject("openphoneEmulator");

async function control<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}/_emulator/${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`emulator control ${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}


/** A fault for the next matching request (`faults.script` of emulators/notion/traffic.ts). */
export interface ScriptedFault {
  operation: string;
  status: number;
  afterWrite?: boolean;
  hangMs?: number;
  bodyContains?: string;
}

/** A page as `GET /_emulator/dump` shows it: the API's page object and its content blocks, nested. */
export interface NotionPage {
  id: string;
  parent: Record<string, unknown>;
  properties: Record<string, Record<string, any>>;
  content: (Record<string, any> & { type: string })[];
}

export const notion = {
  /** The pages of the Calls and Messages data sources. */
  async pages(): Promise<NotionPage[]> {
    const dump = await control<{ pages: NotionPage[] }>(NOTION.url, "GET", "dump");
    const ours = new Set([NOTION.callsDataSourceId, NOTION.messagesDataSourceId]);
    return dump.pages.filter((p) => ours.has(p.parent.data_source_id as string));
  },
  /** The pages whose `property` (a rich text id property: "Call ID", "Message ID") reads `id`: one, unless duplicated. */
  async pagesWith(property: "Call ID" | "Message ID", id: string): Promise<NotionPage[]> {
    return (await notion.pages()).filter((p) => plain(p.properties[property]) === id);
  },
  /** The API requests since the last `resetCounters()` (at most the latest 2,000). */
  async requests(): Promise<JournalEntry[]> {
    return (await control<{ requests: JournalEntry[] }>(NOTION.url, "GET", "requests")).requests;
  },
  resetCounters: () => control(NOTION.url, "DELETE", "stats"),
  /** The workspace's root page, where a test's own databases go. */
  workspace: () => control<{ rootPageId: string }>(NOTION.url, "GET", "workspace"),
  /** Faults for the next matching requests, after any still waiting. */
  async script(...faults: ScriptedFault[]): Promise<void> {
    const { faults: current } = await control<{ faults: { script: ScriptedFault[] } }>(NOTION.url, "GET", "config");
    await control(NOTION.url, "PUT", "config", { faults: { script: [...current.script, ...faults] } });
  },
  clearScript: () => control(NOTION.url, "PUT", "config", { faults: { script: [] } }),
  /** A request to the API with the integration's token, as the Worker makes it. */
  async api<T = Record<string, any>>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${NOTION.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${NOTION.token}`, "Notion-Version": "2025-09-03", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as T;
    if (!response.ok) throw new Error(`Notion ${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  },
};

/** The plain text of a title or rich text property (or "" when it is empty). */
export const plain = (value: Record<string, any> | undefined) => ((value?.rich_text ?? value?.title ?? []) as { plain_text: string }[]).map((r) => r.plain_text).join("");

export interface EmulatedCall {
  call: Call;
  line: PhoneNumber;
  /** "First Last" of the user who took the call. */
  userName: string;
}

export const openphone = {
  async api<T = Record<string, any>>(path: string): Promise<T> {
    const response = await fetch(`${OPENPHONE.url}${path}`, { headers: { Authorization: OPENPHONE.key } });
    const json = (await response.json()) as T;
    if (!response.ok) throw new Error(`OpenPhone ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  },
  control: <T = Record<string, any>>(method: string, path: string, body?: unknown) => control<T>(OPENPHONE.url, method, path, body),
  /**
   * The workspace's line at `index` (0–39). Each test takes lines of its own, so no Line Durable Object is shared
   * between tests (the files: contact-names 0–1, line-sync 2–19, line-liveness 20–23, lag 24–25, alerts 26; the backfill test makes
   * workspaces of its own and restores this one after).
   */
  async line(index: number): Promise<PhoneNumber> {
    const { data } = await openphone.api<{ data: PhoneNumber[] }>("/v1/phone-numbers");
    const line = data[index];
    if (!line) throw new Error(`the OpenPhone emulator has no line ${index}`);
    return line;
  },
  /** A call that just ended in the OpenPhone workspace (`POST /_emulator/calls` options), as its API shows it. */
  async createCall(options: Record<string, unknown>): Promise<EmulatedCall> {
    const { callId } = await control<{ callId: string }>(OPENPHONE.url, "POST", "calls", options);
    const { data: call } = await openphone.api<{ data: Call }>(`/v1/calls/${callId}`);
    const { data: line } = await openphone.api<{ data: PhoneNumber }>(`/v1/phone-numbers/${call.phoneNumberId}`);
    const { data: user } = await openphone.api<{ data: { firstName: string; lastName: string } }>(`/v1/users/${call.userId}`);
    return { call, line, userName: `${user.firstName} ${user.lastName}` };
  },
  /** The API requests the emulator counted, by operation id. */
  async requestsByOperation(): Promise<Record<string, number>> {
    const stats = await control<{ requests: { byOperation?: Record<string, number> } }>(OPENPHONE.url, "GET", "stats");
    return stats.requests.byOperation ?? {};
  },
};
