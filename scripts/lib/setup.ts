/**
 * What `npm run setup` does, as functions the sandbox and the end-to-end tests call in-process:
 * - create the Calls and Messages databases under a parent page from the declarative schema (with the two-way
 *   relation to the Canvas database), find them again on the next run, or add the missing properties to existing
 *   ones, and describe the difference (`notion-setup.ts`);
 * - check the OpenPhone key and list the lines;
 * - register the OpenPhone webhooks (calls, messages, call summaries, call transcripts) for the Worker's URL and
 *   return their signing keys. An existing registration for the same URL and events is reused, so running setup
 *   twice registers nothing twice.
 */
import { WEBHOOK_FAMILIES } from "../../src/openphone/webhook-families.ts";

export { type CanvasChange, type DatabaseSetup, describeCanvasChanges, describeNotionSetup, type NotionSetupOptions, type NotionSetupResult, setupNotionDatabases } from "./notion-setup.ts";

export interface OpenPhoneOptions {
  apiKey: string;
  baseUrl?: string;
}

export interface OpenPhoneLine {
  id: string;
  number: string;
  name: string;
}

async function openPhoneRequest<T>(options: OpenPhoneOptions, method: string, path: string, body?: unknown): Promise<T> {
  const base = (options.baseUrl ?? "https://api.openphone.com").replace(/\/+$/, "");
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: options.apiKey, Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) {
    const message = (() => {
      try {
        return (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        return text;
      }
    })();
    throw new Error(`OpenPhone ${method} ${path} answered ${response.status}${response.status === 401 ? " (check OPENPHONE_API_KEY)" : ""}: ${message.slice(0, 300)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Checks the key by listing the workspace's lines. */
export async function listOpenPhoneLines(options: OpenPhoneOptions): Promise<OpenPhoneLine[]> {
  const { data } = await openPhoneRequest<{ data: OpenPhoneLine[] }>(options, "GET", "/v1/phone-numbers");
  return data.map((p) => ({ id: p.id, number: p.number, name: p.name }));
}

export { WEBHOOK_FAMILIES };

export interface RegisteredWebhook {
  id: string;
  events: string[];
  key: string;
  reused: boolean;
}

/** Registers (or reuses) one webhook per event family pointing at `url`; returns each one's signing key. */
export async function registerOpenPhoneWebhooks(options: OpenPhoneOptions & { url: string; label?: string }): Promise<RegisteredWebhook[]> {
  const { data: existing } = await openPhoneRequest<{ data: { id: string; url: string; events: string[]; key: string; status: string }[] }>(options, "GET", "/v1/webhooks");
  const registered: RegisteredWebhook[] = [];
  for (const family of WEBHOOK_FAMILIES) {
    const same = existing.find((w) => w.url === options.url && w.status === "enabled" && family.events.every((e) => w.events.includes(e)));
    if (same) {
      registered.push({ id: same.id, events: same.events, key: same.key, reused: true });
      continue;
    }
    const { data } = await openPhoneRequest<{ data: { id: string; events: string[]; key: string } }>(options, "POST", family.path, {
      url: options.url,
      events: family.events,
      resourceIds: ["*"],
      label: options.label ?? "Notion sync",
    });
    registered.push({ id: data.id, events: data.events, key: data.key, reused: false });
  }
  return registered;
}
