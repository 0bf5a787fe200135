/**
 * The test projects:
 * - `workers`: unit and integration tests inside workerd with the real D1, R2, Durable Object and queue bindings
 *   declared in wrangler.jsonc (`*.unit.test.ts`, `*.integration.test.ts`).
 * - `workers-lines`: the integration tests of Line Durable Objects writing to Notion, and the tests that need the
 *   emulators to themselves, in workerd against emulators of their own, with a deployment's secrets bound, one file
 *   at a time, after `workers` and `node` (a later
 *   `groupOrder`: projects run side by side must have the same number of workers).
 * - `node`: the emulators, end-to-end tests against the sandbox and the browser tests (`*.node.test.ts`,
 *   `*.e2e.test.ts`).
 * - `heavy`: tests that start their own workerd and push hundreds of megabytes through it (the memory test). They run
 *   after the other projects have finished (a later `groupOrder`), one file at a time, so a loaded machine's parallel
 *   work can neither starve their start-up nor count in the memory they measure.
 */
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import type { ProvidedContext } from "vitest";
import { defineConfig } from "vitest/config";

const root = import.meta.dirname;
const HEAVY_TESTS = ["test/node/media-memory.node.test.ts"];
/** The Line Durable Object tests that write to the emulators (the `workers-lines` project). */
const LINE_TESTS = [
  "test/integration/alerts.integration.test.ts",
  "test/integration/backfill.integration.test.ts",
  "test/integration/contact-names.integration.test.ts",
  "test/integration/lag.integration.test.ts",
  "test/integration/line-liveness.integration.test.ts",
  "test/integration/line-sync.integration.test.ts",
];
/**
 * Tests that count the emulators' requests and script their faults but write no line's pages: they need emulators no
 * other file is using (the `workers` project's are shared by its files at once, and one of them turns Notion's random
 * faults and query lag on), so they run in the `workers-lines` project too. They pass their settings explicitly.
 */
const OWN_EMULATOR_TESTS = ["test/integration/rollback-switches.integration.test.ts"];
/**
 * The settings of the `workers-lines` project's Worker beside the emulators' token, key and database ids: the other
 * secrets a deployment has, gates fast enough for a test, and a minute's coalescing window, so a line's alarm runs
 * when the test runs it (test/integration/line-harness.ts ends the window) and not on its own.
 */
const LINE_TEST_SETTINGS = {
  ADMIN_TOKEN: "test-admin-token",
  OPENPHONE_WEBHOOK_KEYS: "ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=",
  MEDIA_SIGNING_KEYS: "media-signing-key-for-tests-0001",
  PUBLIC_BASE_URL: "https://sync.test",
  NOTION_RATE_PER_SECOND: "100",
  NOTION_BURST: "100",
  OPENPHONE_RATE_PER_SECOND: "100",
  OPENPHONE_BURST: "100",
  COALESCE_MS: "60000",
};

type Inject = <K extends keyof ProvidedContext & string>(key: K) => ProvidedContext[K];

/**
 * The Worker of a workerd project: src/index.ts with wrangler.jsonc's bindings, the migrations, the test media source
 * and the URLs of the emulators test/emulators-setup.ts started (the doctor's start-up check would spend requests
 * the tests count), plus the project's own settings.
 */
function workerd(settings: (inject: Inject) => Record<string, string>) {
  return cloudflareTest(async ({ inject }) => ({
    main: "./src/index.ts",
    wrangler: { configPath: "./wrangler.jsonc" },
    miniflare: {
      bindings: {
        TEST_MIGRATIONS: await readD1Migrations(path.join(root, "migrations")),
        MEDIA_SOURCE_BASE: inject("mediaSourceBase"),
        DOCTOR_AT_START: "false",
        NOTION_API_BASE: inject("notionEmulator").url,
        OPENPHONE_API_BASE: inject("openphoneEmulator").url,
        ...settings(inject),
      },
    },
  }));
}

/**
 * How long a workerd test or hook may take before it fails. Vitest's 5 s default is a few hundred RPCs to a Durable
 * Object on a 2-core machine that another process keeps busy, which is the machine the suite must pass on. These are
 * bounds on a hang, not claims about speed: timings belong to the bench and the soak run.
 */
const WORKERD_BOUNDS = { testTimeout: 30_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    reporters: ["default", "./test/plain-summary-reporter.ts"],
    projects: [
      {
        // The emulators' token, key and database ids are not bound here: these tests hand the Worker the settings each
        // one is about (a missing secret, a wrong token), and a Line Durable Object of theirs must not write to
        // Notion. The Line Durable Object tests that do write run in the `workers-lines` project below, with all of
        // them bound.
        plugins: [workerd(() => ({}))],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
          exclude: [...LINE_TESTS, ...OWN_EMULATOR_TESTS],
          setupFiles: ["./test/apply-migrations.ts"],
          ...WORKERD_BOUNDS,
          // The media source for the media tests; the Notion and OpenPhone emulators, whose URLs the bindings above
          // carry.
          globalSetup: ["./test/media-source-setup.ts", "./test/emulators-setup.ts"],
        },
      },
      {
        // A deployment's settings, against this project's own emulators (test/emulators-setup.ts).
        plugins: [
          workerd((inject) => {
            const notion = inject("notionEmulator");
            const openphone = inject("openphoneEmulator");
            return {
              NOTION_TOKEN: notion.token,
              NOTION_CALLS_DATABASE_ID: notion.callsDatabaseId,
              NOTION_MESSAGES_DATABASE_ID: notion.messagesDatabaseId,
              OPENPHONE_API_KEY: openphone.key,
              ...LINE_TEST_SETTINGS,
            };
          }),
        ],
        test: {
          name: "workers-lines",
          include: [...LINE_TESTS, ...OWN_EMULATOR_TESTS],
          setupFiles: ["./test/apply-migrations.ts"],
          ...WORKERD_BOUNDS,
          // Its own emulators, and one file at a time: each file owns them while it runs, so it counts the requests
          // its lines spend, scripts Notion's faults and renames a property without another file's lines seeing it.
          fileParallelism: false,
          // One worker where the projects before have as many as the machine allows: a group of its own, after them.
          sequence: { groupOrder: 1 },
          globalSetup: ["./test/media-source-setup.ts", "./test/emulators-setup.ts"],
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["emulators/**/*.test.ts", "test/e2e/**/*.test.ts", "test/node/**/*.test.ts"],
          exclude: HEAVY_TESTS,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "heavy",
          environment: "node",
          include: HEAVY_TESTS,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
