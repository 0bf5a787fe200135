/**
 * Two test projects:
 * - `workers`: unit and integration tests inside workerd with the real D1, R2, Durable Object and queue bindings
 *   declared in wrangler.jsonc (`*.unit.test.ts`, `*.integration.test.ts`).
 * - `node`: the emulators, end-to-end tests against the sandbox and the browser tests (`*.node.test.ts`,
 *   `*.e2e.test.ts`).
 * - `heavy`: tests that start their own workerd and push hundreds of megabytes through it (the memory test). They run
 *   after the other projects have finished (a later `groupOrder`), one file at a time, so a loaded machine's parallel
 *   work can neither starve their start-up nor count in the memory they measure.
 */
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = import.meta.dirname;
const HEAVY_TESTS = ["test/node/media-memory.node.test.ts"];

export default defineConfig({
  test: {
    reporters: ["default", "./test/plain-summary-reporter.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest(async ({ inject }) => {
            const notion = inject("notionEmulator");
            const openphone = inject("openphoneEmulator");
            return {
              main: "./src/index.ts",
              wrangler: { configPath: "./wrangler.jsonc" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: await readD1Migrations(path.join(root, "migrations")),
                  // The test media source (recordings, voicemails and the OpenPhone listings that point at them).
                  MEDIA_SOURCE_BASE: inject("mediaSourceBase"),
                  // The doctor's start-up check would spend requests of the emulators that tests count.
                  DOCTOR_AT_START: "false",
                  // The emulators started by test/emulators-setup.ts. Their token, key and database ids are not bound
                  // yet: with them every Line Durable Object would flush, also in the tests that still spy on fetch or
                  // check the answer to a missing secret.
                  NOTION_API_BASE: notion.url,
                  OPENPHONE_API_BASE: openphone.url,
                },
              },
            };
          }),
        ],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
          setupFiles: ["./test/apply-migrations.ts"],
          // The media source for the media tests; fake Notion and OpenPhone APIs for the Line Durable Object tests not
          // yet moved to the emulators; the Notion and OpenPhone emulators, whose URLs the bindings above carry.
          globalSetup: ["./test/media-source-setup.ts", "./test/fake-apis-server.ts", "./test/emulators-setup.ts"],
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
          sequence: { groupOrder: 1 },
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
