declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** Origin of the test media source started by test/media-source-setup.ts. */
    MEDIA_SOURCE_BASE: string;
  }
}
