/**
 * The official Notion SDK, pointed at the configured API and spending the shared Notion budget through the gate.
 * The SDK's own retries are off: 429s are retried by the gated fetch (which pauses every caller), and other failures
 * go back to the caller, who knows whether repeating a request could duplicate a page.
 */
import { Client, LogLevel } from "@notionhq/client";
import type { Config } from "../config";
import { createGatedFetch, type RequestCounter } from "../gates/gated-fetch";

export function createNotionClient(env: Pick<Env, "GATE"> & Partial<Pick<Env, "FLAGS">>, config: Config, counter?: RequestCounter): Client {
  return new Client({
    auth: config.NOTION_TOKEN,
    baseUrl: config.NOTION_API_BASE,
    notionVersion: config.NOTION_VERSION,
    fetch: createGatedFetch({ api: "notion", gate: env.GATE, config, counter, ...(env.FLAGS ? { flags: env as { FLAGS: KVNamespace } } : {}) }),
    retry: false,
    logLevel: LogLevel.ERROR,
    timeoutMs: 30_000,
  });
}
