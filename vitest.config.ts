/**
 * Two test projects:
 * - `workers`: unit and integration tests inside workerd with the real D1, R2, Durable Object and queue bindings
 *   declared in wrangler.jsonc (`*.unit.test.ts`, `*.integration.test.ts`).
 * - `node`: the emulators, end-to-end tests against the sandbox and the browser tests (`*.node.test.ts`,
 *   `*.e2e.test.ts`).
 */
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = import.meta.dirname;

export default defineConfig({
  test: {
    reporters: ["default", "./test/plain-summary-reporter.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest(async ({ inject }) => ({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations(path.join(root, "migrations")),
                // The test media source (recordings, voicemails and the OpenPhone listings that point at them).
                MEDIA_SOURCE_BASE: inject("mediaSourceBase"),
                // The doctor's start-up check would spend requests of the fake APIs that tests count.
                DOCTOR_AT_START: "false",
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
          setupFiles: ["./test/apply-migrations.ts"],
          // The media source for the media tests; fake Notion and OpenPhone APIs for the Line Durable Object tests; the
          // Notion emulator for the tests of what only Notion itself does (writes applied though failed, query lag).
          globalSetup: ["./test/media-source-setup.ts", "./test/fake-apis-server.ts", "./test/notion-emulator-setup.ts"],
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["emulators/**/*.test.ts", "test/e2e/**/*.test.ts", "test/node/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
