declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** Origin of the test media source started by test/media-source-setup.ts. */
    MEDIA_SOURCE_BASE: string;
    /** Bound in the `workers-lines` project only (vitest.config.ts), as a deployment's secret. */
    ADMIN_TOKEN?: string;
  }
}

/** A file's text, imported with Vite's `?raw` suffix (the README, for the check that it lists every setting). */
declare module "*.md?raw" {
  const text: string;
  export default text;
}
