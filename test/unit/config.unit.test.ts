import { describe, expect, it } from "vitest";
import { loadConfig, SETTING_NAMES } from "../../src/config";
import { FLAG_NAMES, FLAG_REGISTRY } from "../../src/flags/registry";
import readme from "../../README.md?raw";

const complete = {
  OPENPHONE_API_KEY: "op-key-123",
  NOTION_TOKEN: "ntn_abcdefghijklmnop",
  ADMIN_TOKEN: "admin-token-123",
  NOTION_CALLS_DATABASE_ID: "0123456789abcdef0123456789abcdef",
  NOTION_MESSAGES_DATABASE_ID: "https://www.notion.so/team/Messages-fedcba9876543210fedcba9876543210?v=1",
  OPENPHONE_WEBHOOK_KEYS: "ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=",
  MEDIA_SIGNING_KEYS: "a-long-enough-media-signing-key",
};

describe("loadConfig", () => {
  it("parses a complete configuration with defaults", () => {
    const { config, problems } = loadConfig(complete);
    expect(problems).toEqual([]);
    expect(config.NOTION_BURST).toBe(3);
    expect(config.NOTION_RATE_PER_SECOND).toBe(3);
    expect(config.OPENPHONE_RATE_PER_SECOND).toBe(10);
    expect(config.DEFAULT_REGION).toBe("US");
    expect(config.NOTION_MESSAGES_DATABASE_ID).toBe("fedcba9876543210fedcba9876543210");
    expect(config.OPENPHONE_WEBHOOK_KEYS).toHaveLength(1);
  });

  it("trims values pasted with whitespace and newlines", () => {
    const { config, problems } = loadConfig({
      ...complete,
      OPENPHONE_API_KEY: "  op-key-123\n",
      NOTION_BURST: " 7 \n",
      OPENPHONE_WEBHOOK_KEYS: "ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=\n, YW5vdGhlcktleQ==",
    });
    expect(problems).toEqual([]);
    expect(config.OPENPHONE_API_KEY).toBe("op-key-123");
    expect(config.NOTION_BURST).toBe(7);
    expect(config.OPENPHONE_WEBHOOK_KEYS).toEqual(["ZW11bGF0b3ItdGVzdC1zaWduaW5nLWtleS0wMDAwMDE=", "YW5vdGhlcktleQ=="]);
  });

  it("names each missing required setting", () => {
    const { problems } = loadConfig({});
    const names = problems.map((p) => p.setting);
    for (const name of ["OPENPHONE_API_KEY", "NOTION_TOKEN", "ADMIN_TOKEN", "NOTION_CALLS_DATABASE_ID", "NOTION_MESSAGES_DATABASE_ID", "OPENPHONE_WEBHOOK_KEYS", "MEDIA_SIGNING_KEYS"]) {
      expect(names).toContain(name);
    }
  });

  it("reports malformed values without echoing them, and keeps the default", () => {
    const { config, problems } = loadConfig({ ...complete, NOTION_BURST: "ten seconds", NOTION_CALLS_DATABASE_ID: "not-an-id-secretish", QUO_WEBHOOK_SECRETS: "nope-secret-value" });
    expect(config.NOTION_BURST).toBe(3);
    const text = JSON.stringify(problems);
    expect(problems.map((p) => p.setting).sort()).toEqual(["NOTION_BURST", "NOTION_CALLS_DATABASE_ID", "QUO_WEBHOOK_SECRETS"]);
    expect(text).not.toContain("ten seconds");
    expect(text).not.toContain("secretish");
    expect(text).not.toContain("nope-secret-value");
  });

  it("accepts a public media domain instead of signing keys", () => {
    const { MEDIA_SIGNING_KEYS: _, ...rest } = complete;
    const { problems } = loadConfig({ ...rest, MEDIA_PUBLIC_BASE_URL: "https://media.example.com/" });
    expect(problems).toEqual([]);
  });
});

describe("the README", () => {
  it("has a table row for every setting the Worker reads", () => {
    // A row's first cell names one setting, or two joined by " / ".
    const rows = [...readme.matchAll(/^\| (`[A-Z0-9_]+`(?: \/ `[A-Z0-9_]+`)*) \|/gm)];
    const documented = new Set(rows.flatMap((row) => row[1]!.split(" / ").map((name) => name.slice(1, -1))));
    expect(SETTING_NAMES.length).toBeGreaterThan(40);
    expect(SETTING_NAMES.filter((name) => !documented.has(name))).toEqual([]);
  });

  it("has a table row for every runtime flag, the rollback switches among them", () => {
    const documented = new Set([...readme.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((row) => row[1]!));
    expect(FLAG_NAMES.filter((name) => !documented.has(name))).toEqual([]);
  });
});

describe("the rollback switches", () => {
  it("default to on (today's behaviour) and refuse a value that is not on or off, saying what is expected", () => {
    for (const name of ["CANVAS_INDEX_LOOKUP_ENABLED", "GATES_ENABLED", "MEDIA_STREAMING_ENABLED", "D1_BATCHING_ENABLED"] as const) {
      const spec = FLAG_REGISTRY[name];
      expect(spec.default).toBe(true);
      expect(spec.parse(" OFF ")).toEqual({ ok: true, value: false });
      expect(spec.parse("perhaps")).toEqual({ ok: false, error: "expected on or off (true/false, yes/no, 1/0)" });
    }
  });
});
