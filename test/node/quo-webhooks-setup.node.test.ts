import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenPhoneEmulator } from "../../emulators/openphone/server.ts";
import { listLegacyWebhooks, listQuoWebhooks, migrateToQuoWebhooks, QUO_SYNC_EVENTS, registerQuoWebhook } from "../../scripts/lib/quo-webhooks.ts";
import { registerOpenPhoneWebhooks } from "../../scripts/lib/setup.ts";

const KEY = "quo-setup-test-key";
let openphone: Awaited<ReturnType<typeof startOpenPhoneEmulator>>;
const api = () => ({ apiKey: KEY, baseUrl: openphone.url });

beforeAll(async () => {
  openphone = await startOpenPhoneEmulator({ key: KEY, port: 0, config: { rateLimitPerSecond: 0 } });
});
afterAll(() => openphone?.close());

describe("setup: 2026-03-30 webhooks", () => {
  it("creates one webhook for every synced event, and rotates its key when run again (the key is never shown again)", async () => {
    const url = "https://worker.example/webhooks/openphone";
    const first = await registerQuoWebhook({ ...api(), url });
    expect(first).toMatchObject({ outcome: "created", events: QUO_SYNC_EVENTS, key: expect.stringMatching(/^whsec_/) });
    const again = await registerQuoWebhook({ ...api(), url });
    expect(again).toMatchObject({ outcome: "rotated", id: first.id });
    expect(again.key).not.toBe(first.key);
    expect(await listQuoWebhooks(api())).toHaveLength(1);
  });

  it("migrates from v1: the new webhook is enabled before the legacy ones for the same URL are deleted, and says what it did", async () => {
    const url = "https://migrating.example/webhooks/openphone";
    const other = "https://someone-else.example/hook";
    await registerOpenPhoneWebhooks({ ...api(), url });
    await registerOpenPhoneWebhooks({ ...api(), url: other });
    const legacyBefore = (await listLegacyWebhooks(api())).filter((w) => w.url === url);
    expect(legacyBefore.length).toBeGreaterThan(0);
    const report = await migrateToQuoWebhooks({ ...api(), url });
    expect(report.deletedLegacy.map((w) => w.id).sort()).toEqual(legacyBefore.map((w) => w.id).sort());
    expect(report.lines[0]).toMatch(/enabled before anything was deleted/);
    const legacyAfter = await listLegacyWebhooks(api());
    expect(legacyAfter.filter((w) => w.url === url)).toEqual([]);
    expect(legacyAfter.some((w) => w.url === other)).toBe(true);
    expect((await listQuoWebhooks(api())).find((w) => w.url === url)).toMatchObject({ status: "enabled" });
  });
});
