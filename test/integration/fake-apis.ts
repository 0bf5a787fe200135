/**
 * The workerd side of the fake Notion and OpenPhone APIs (`test/fake-apis-server.ts`): their URLs, and control of
 * their state over loopback.
 */
import { inject } from "vitest";
import type { Fault, FakePage, RecordedRequest } from "../fake-apis-server";

export const FAKE_APIS_URL = inject("fakeApisUrl");

export interface FakeState {
  pages: FakePage[];
  requests: RecordedRequest[];
}

export const fakeApis = {
  async reset(): Promise<void> {
    await fetch(`${FAKE_APIS_URL}/_fake/reset`, { method: "POST" });
  },
  async configure(config: { knownProperties?: string[] | null; createFaults?: Fault[]; recordingsPending?: string[]; alertFaults?: number }): Promise<void> {
    await fetch(`${FAKE_APIS_URL}/_fake/config`, { method: "POST", body: JSON.stringify(config) });
  },
  async state(): Promise<FakeState> {
    return (await (await fetch(`${FAKE_APIS_URL}/_fake/state`)).json()) as FakeState;
  },
};

export const notionRequests = (state: FakeState) => state.requests.filter((r) => r.path.startsWith("notion:"));

/** The secrets and database ids every integration test's Worker runs with. */
export const TEST_SECRETS = {
  OPENPHONE_API_KEY: "test-openphone-key",
  NOTION_TOKEN: "test-notion-token",
  ADMIN_TOKEN: "test-admin-token",
  NOTION_CALLS_DATABASE_ID: "0123456789abcdef0123456789abcdef",
  NOTION_MESSAGES_DATABASE_ID: "fedcba9876543210fedcba9876543210",
  OPENPHONE_WEBHOOK_KEYS: "ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=",
  MEDIA_SIGNING_KEYS: "media-signing-key-for-tests-0001",
};

/** Settings the Line Durable Object runs with in these tests: the secrets, against the fake APIs, fast gates. */
export const TEST_SETTINGS = {
  ...TEST_SECRETS,
  PUBLIC_BASE_URL: "https://sync.test",
  NOTION_API_BASE: `${FAKE_APIS_URL}/notion`,
  OPENPHONE_API_BASE: `${FAKE_APIS_URL}/openphone`,
  NOTION_RATE_PER_SECOND: "100",
  NOTION_BURST: "100",
  OPENPHONE_RATE_PER_SECOND: "100",
  OPENPHONE_BURST: "100",
  COALESCE_MS: "0",
};
