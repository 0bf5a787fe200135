/**
 * Webhooks of the 2026-03-30 system for `setup`, `setup --migrate`, `doctor` and the sandbox: one webhook for every
 * event the sync reads, signed with a `whsec_` secret (QUO_WEBHOOK_SECRETS). Paths have no `/v1`, every request
 * carries `Quo-Api-Version: 2026-03-30`, and the key is shown only when a webhook is created or rotated, so reusing an
 * existing webhook means rotating its key.
 */
export const QUO_API_VERSION = "2026-03-30";

/** Every event the sync reads from the new system, contact events included (they refresh names). */
export const QUO_SYNC_EVENTS = [
  "call.ringing",
  "call.answered",
  "call.completed",
  "call.forwarded",
  "call.missed",
  "call.recording.completed",
  "call.transcript.completed",
  "call.summary.completed",
  "call.voicemail.completed",
  "message.received",
  "message.delivered",
  "message.failed",
  "contact.updated",
  "contact.deleted",
];

export interface QuoApiOptions {
  apiKey: string;
  baseUrl?: string;
}

export interface QuoWebhookInfo {
  id: string;
  url: string;
  status: "enabled" | "disabled";
  events: string[];
  resourceIds: string[];
  label: string | null;
}

export interface LegacyWebhookInfo {
  id: string;
  url: string;
  status: string;
  events: string[];
}

/** One request of the 2026-03-30 API, bounded to 30 s; a non-2xx answer throws with the envelope's message. */
export async function quoRequest<T>(options: QuoApiOptions, method: string, path: string, body?: unknown): Promise<T> {
  const base = (options.baseUrl ?? "https://api.quo.com").replace(/\/+$/, "").replace(/\/v1$/, "");
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: options.apiKey, "Quo-Api-Version": QUO_API_VERSION, Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON: the text itself
    }
    throw new Error(`Quo ${method} ${path} answered ${response.status}${response.status === 401 ? " (check OPENPHONE_API_KEY)" : ""}: ${message.slice(0, 300)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function listQuoWebhooks(options: QuoApiOptions): Promise<QuoWebhookInfo[]> {
  return (await quoRequest<{ data: QuoWebhookInfo[] }>(options, "GET", "/webhooks")).data;
}

export async function listLegacyWebhooks(options: QuoApiOptions): Promise<LegacyWebhookInfo[]> {
  const base = (options.baseUrl ?? "https://api.openphone.com").replace(/\/+$/, "");
  const response = await fetch(`${base}/v1/webhooks`, { headers: { Authorization: options.apiKey }, signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`OpenPhone GET /v1/webhooks answered ${response.status}`);
  return ((await response.json()) as { data: LegacyWebhookInfo[] }).data;
}

export interface RegisteredQuoWebhook {
  id: string;
  events: string[];
  /** The `whsec_` secret for QUO_WEBHOOK_SECRETS. */
  key: string;
  outcome: "created" | "rotated";
}

/**
 * Creates the webhook for `url`, or, when an enabled one for it with every event exists, rotates its key (the only
 * way to learn it again). `status: "disabled"` creates it disabled.
 */
export async function registerQuoWebhook(options: QuoApiOptions & { url: string; label?: string }): Promise<RegisteredQuoWebhook> {
  const existing = (await listQuoWebhooks(options)).find((w) => w.url === options.url && w.status === "enabled" && QUO_SYNC_EVENTS.every((e) => w.events.includes(e)));
  if (existing) {
    const { data } = await quoRequest<{ data: { key: string } }>(options, "POST", `/webhooks/${existing.id}/rotate`);
    return { id: existing.id, events: existing.events, key: data.key, outcome: "rotated" };
  }
  const { data } = await quoRequest<{ data: { id: string; events: string[]; key: string } }>(options, "POST", "/webhooks", {
    url: options.url,
    events: QUO_SYNC_EVENTS,
    resourceIds: ["*"],
    label: options.label ?? "Notion sync",
  });
  return { id: data.id, events: data.events, key: data.key, outcome: "created" };
}

export interface MigrationReport {
  quo: RegisteredQuoWebhook;
  /** Legacy webhooks for the same URL, deleted after the new one was enabled. */
  deletedLegacy: LegacyWebhookInfo[];
  lines: string[];
}

/**
 * Moves the Worker's webhooks from v1 to the new system without the gap the migration guide warns about: the new
 * webhook is created enabled first, so both systems deliver for a while (the sync counts each event once), and only
 * then are the legacy webhooks for the same URL deleted.
 */
export async function migrateToQuoWebhooks(options: QuoApiOptions & { url: string; label?: string; legacyBaseUrl?: string }): Promise<MigrationReport> {
  const quo = await registerQuoWebhook(options);
  const legacyOptions = { apiKey: options.apiKey, baseUrl: options.legacyBaseUrl ?? options.baseUrl };
  const legacy = (await listLegacyWebhooks(legacyOptions)).filter((w) => w.url === options.url);
  const base = (legacyOptions.baseUrl ?? "https://api.openphone.com").replace(/\/+$/, "");
  const deleted: LegacyWebhookInfo[] = [];
  for (const webhook of legacy) {
    const response = await fetch(`${base}/v1/webhooks/${webhook.id}`, { method: "DELETE", headers: { Authorization: options.apiKey }, signal: AbortSignal.timeout(30_000) });
    if (!response.ok && response.status !== 404) throw new Error(`OpenPhone DELETE /v1/webhooks/${webhook.id} answered ${response.status}; the new webhook ${quo.id} is enabled, run setup --migrate again`);
    deleted.push(webhook);
  }
  const lines = [
    `${quo.outcome === "created" ? "+ created" : "~ rotated the key of"} webhook ${quo.id} (2026-03-30) for ${quo.events.length} event types, enabled before anything was deleted`,
    ...deleted.map((w) => `- deleted legacy webhook ${w.id} (${w.events.join(", ")})`),
    ...(deleted.length === 0 ? ["= no legacy webhook pointed at this URL"] : []),
  ];
  return { quo, deletedLegacy: deleted, lines };
}
