/** Starting an emulator for a test file and pointing the official SDK (or plain fetch) at it. */
import { Client, LogLevel } from "@notionhq/client";
import { startNotionEmulator, type NotionEmulator, type NotionEmulatorOptions } from "../server.ts";

export const TOKEN = "test-notion-token";

/** Rate limit out of the way unless a test is about it. */
export const UNLIMITED = { rateLimit: { perSecond: 100_000, burst: 100_000 } };

export async function startForTest(options: NotionEmulatorOptions = {}): Promise<NotionEmulator> {
  return startNotionEmulator({ port: 0, token: TOKEN, config: UNLIMITED, ...options });
}

export function sdk(emulator: NotionEmulator, options: { notionVersion?: string; auth?: string; retry?: false } = {}): Client {
  return new Client({
    auth: options.auth ?? TOKEN,
    baseUrl: emulator.url,
    notionVersion: options.notionVersion,
    logLevel: LogLevel.ERROR,
    ...(options.retry === false && { retry: false }),
  });
}

/** A raw API call, for what the SDK would not send (no version header, broken JSON, oversized bodies). */
export async function rawCall(emulator: NotionEmulator, method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Headers; json: Record<string, unknown> | null; text: string }> {
  // A header given as "" is left out entirely, so tests can send requests without it.
  const headers = Object.fromEntries(
    Object.entries({ authorization: `Bearer ${TOKEN}`, "notion-version": "2025-09-03", "content-type": "application/json", ...init.headers }).filter(([, value]) => value !== ""),
  );
  const response = await fetch(`${emulator.url}${path}`, { method, headers, body: init.body });
  const text = await response.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, json, text };
}

export async function control(emulator: NotionEmulator, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`control ${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, any>;
}

export const text = (content: string) => [{ type: "text" as const, text: { content } }];
