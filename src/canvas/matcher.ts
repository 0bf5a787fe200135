/**
 * Canvas matching: which customer page a phone number (E.164) or e-mail address belongs to.
 *
 * Lookup path, cheapest first: this instance's memory → the D1 index (and its negative cache) → for what is still
 * unknown, one incremental refresh of the index shared by every miss of the burst (the Canvas index Durable Object)
 * → the index again → remembered as unknown for CANVAS_NEGATIVE_TTL_SECONDS. A Line Durable Object keeps one
 * matcher for its lifetime, so its memory serves repeated participants without any I/O.
 *
 * With CANVAS_INDEX_LOOKUP_ENABLED off (rollback) every lookup is one Notion query per participant instead
 * (./query-lookup.ts), with nothing remembered.
 *
 * The workspace's own numbers never match. Counters `canvas.lookup.memory|d1|notion|miss` feed the dashboard's hit
 * ratio: memory and d1 are answers that cost Notion nothing (a customer, or none: the negative cache, or the index
 * as of a refresh recent enough for history); notion and miss asked for a refresh, or could not, and found a
 * customer or none.
 */
import type { Config } from "../config";
import { lookupIndex, lookupNegative, readOwnNumbers, rememberNegative } from "../db/canvas-index";
import { incrementMetrics } from "../db/metrics";
import { getFlags } from "../flags/flags";
import type { RequestCounter } from "../gates/gated-fetch";
import { createLogger } from "../observability/logger";
import { createNotionClient } from "../notion/client";
import { indexKey, normalizeParticipant } from "./normalize";
import { CanvasQueryLookup } from "./query-lookup";

/** A participant key: `+15551234567` or `ann@example.com` (normalised here again if it is not quite). */
export type ParticipantKey = string;

export const CANVAS_INDEX_OBJECT_NAME = "canvas-index";

export interface CanvasMatcherOptions {
  /** How long an answer is kept in memory. Positive answers: default 5 minutes (the cron refresh interval). */
  memoryTtlMs?: number;
  /** Negative answers in memory: default the smaller of one minute and CANVAS_NEGATIVE_TTL_SECONDS. */
  negativeMemoryTtlMs?: number;
  now?: () => number;
}

type MatcherEnv = Pick<Env, "DB" | "GATE" | "CANVAS_INDEX" | "FLAGS">;

interface Remembered {
  pageId: string | null;
  expiresAt: number;
}

const OWN_NUMBERS_TTL_MS = 10 * 60_000;

export interface MatchOptions {
  /**
   * Misses accept an index this matcher refreshed that recently, instead of asking for a refresh per burst. For
   * history (the backfill): one refresh per period still finds customers added lately, and one added after is
   * linked by the cron's relinking when the index gains their number.
   */
  acceptRefreshWithinMs?: number;
  /**
   * When the calls and texts being matched first reached the Worker (ms; the latest of them). A refresh of the index
   * that began at or after it already reads every customer added before they did, so a miss may share one that is
   * running instead of waiting for the next (CanvasIndexDurableObject.refreshForMisses).
   */
  seenAt?: number;
}

export class CanvasMatcher {
  private readonly memory = new Map<string, Remembered>();
  private ownNumbers: { numbers: Set<string>; expiresAt: number } | null = null;
  private ownNumbersRequested = false;
  private queryLookup: CanvasQueryLookup | undefined;
  private lastMissRefreshAt = Number.NEGATIVE_INFINITY;
  private readonly memoryTtlMs: number;
  private readonly negativeMemoryTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly env: MatcherEnv,
    private readonly config: Config,
    private readonly counter?: RequestCounter,
    options: CanvasMatcherOptions = {},
  ) {
    this.memoryTtlMs = options.memoryTtlMs ?? 5 * 60_000;
    this.negativeMemoryTtlMs = options.negativeMemoryTtlMs ?? Math.min(60_000, config.CANVAS_NEGATIVE_TTL_SECONDS * 1000);
    this.now = options.now ?? Date.now;
  }

  /** For each key, the Canvas page id it belongs to, or null when no customer has it. */
  async match(keys: ParticipantKey[], options: MatchOptions = {}): Promise<Map<ParticipantKey, string | null>> {
    const result = new Map<ParticipantKey, string | null>();
    const counts = { memory: 0, d1: 0, notion: 0, miss: 0, own: 0 };
    const byIndexKey = new Map<string, ParticipantKey[]>();
    const own = await this.loadOwnNumbers();
    for (const key of new Set(keys)) {
      result.set(key, null);
      const normal = normalizeParticipant(key, this.config.DEFAULT_REGION);
      if (!normal) continue;
      if (own.has(normal)) {
        counts.own++;
        continue;
      }
      const ik = indexKey(normal);
      byIndexKey.set(ik, [...(byIndexKey.get(ik) ?? []), key]);
    }
    const answer = (ik: string, pageId: string | null) => {
      for (const key of byIndexKey.get(ik) ?? []) result.set(key, pageId);
    };

    if (!(await getFlags(this.env)).CANVAS_INDEX_LOOKUP_ENABLED) {
      // The rollback to a plain client: no memory, no index, one Notion query per participant.
      this.queryLookup ??= new CanvasQueryLookup(createNotionClient(this.env, this.config, this.counter), this.env.DB, this.config);
      for (const ik of byIndexKey.keys()) {
        const pageId = await this.queryLookup.find(ik).catch((error: unknown) => {
          createLogger(this.config.LOG_LEVEL).warn("could not look a participant up in the Canvas", { error });
          return null;
        });
        if (pageId === null) counts.miss++;
        else counts.notion++;
        answer(ik, pageId);
      }
      await incrementMetrics(this.env.DB, { "canvas.lookup.notion": counts.notion, "canvas.lookup.miss": counts.miss, "canvas.own_number": counts.own });
      return result;
    }

    const now = this.now();
    let pending: string[] = [];
    for (const ik of byIndexKey.keys()) {
      const remembered = this.memory.get(ik);
      if (remembered && remembered.expiresAt > now) {
        counts.memory++;
        answer(ik, remembered.pageId);
      } else {
        if (remembered) this.memory.delete(ik);
        pending.push(ik);
      }
    }

    if (pending.length > 0) {
      const [found, unknown] = await Promise.all([lookupIndex(this.env.DB, pending), lookupNegative(this.env.DB, pending, now)]);
      const rest: string[] = [];
      for (const ik of pending) {
        const pageId = found.get(ik);
        if (pageId !== undefined || unknown.has(ik)) {
          counts.d1++;
          this.remember(ik, pageId ?? null);
          answer(ik, pageId ?? null);
        } else {
          rest.push(ik);
        }
      }
      pending = rest;
    }

    if (pending.length > 0 && options.acceptRefreshWithinMs !== undefined && now - this.lastMissRefreshAt < options.acceptRefreshWithinMs) {
      // Unknown as of a recent refresh: answered null by the index just read, kept in memory only (not a verified
      // negative). An index answer that cost Notion nothing, so it counts as one (`canvas.lookup.d1`).
      counts.d1 += pending.length;
      for (const ik of pending) this.remember(ik, null);
    } else if (pending.length > 0) await this.resolveMisses(pending, answer, counts, options.seenAt);

    await incrementMetrics(this.env.DB, {
      "canvas.lookup.memory": counts.memory,
      "canvas.lookup.d1": counts.d1,
      "canvas.lookup.notion": counts.notion,
      "canvas.lookup.miss": counts.miss,
      "canvas.own_number": counts.own,
    });
    return result;
  }

  /** Forgets what memory says about these participants (e.g. after the relation was set by hand). */
  forget(keys: ParticipantKey[]): void {
    for (const key of keys) {
      const normal = normalizeParticipant(key, this.config.DEFAULT_REGION);
      if (normal) this.memory.delete(indexKey(normal));
    }
  }

  private async resolveMisses(pending: string[], answer: (ik: string, pageId: string | null) => void, counts: Record<"notion" | "miss", number>, seenAt?: number): Promise<void> {
    if (!this.config.NOTION_CANVAS_DATABASE_ID) {
      // No Canvas configured: nothing to ask, nothing to remember.
      counts.miss += pending.length;
      return;
    }
    const stub = this.env.CANVAS_INDEX.get(this.env.CANVAS_INDEX.idFromName(CANVAS_INDEX_OBJECT_NAME));
    const refresh = await stub.refreshForMisses(seenAt);
    if (this.counter) this.counter.notion += refresh.notionRequests;
    if (refresh.ok) this.lastMissRefreshAt = this.now();
    if (!refresh.ok) {
      // Notion could not be asked: answer "unknown" now without remembering it; relinking catches up later.
      counts.miss += pending.length;
      return;
    }
    const found = await lookupIndex(this.env.DB, pending);
    const { CANVAS_CREATE_UNKNOWN } = await getFlags(this.env);
    const unknown: string[] = [];
    for (const ik of pending) {
      let pageId = found.get(ik) ?? null;
      if (pageId === null && CANVAS_CREATE_UNKNOWN && ik.startsWith("phone:")) {
        pageId = await stub.createForUnknown(ik.slice("phone:".length)).catch((error: unknown) => {
          createLogger(this.config.LOG_LEVEL).warn("could not create a Canvas page for an unknown number", { error });
          return null;
        });
      }
      if (pageId === null) {
        counts.miss++;
        unknown.push(ik);
      } else {
        counts.notion++;
      }
      this.remember(ik, pageId);
      answer(ik, pageId);
    }
    if (unknown.length > 0 && this.config.CANVAS_NEGATIVE_TTL_SECONDS > 0) {
      await rememberNegative(this.env.DB, unknown, this.now(), this.config.CANVAS_NEGATIVE_TTL_SECONDS * 1000);
    }
  }

  private remember(ik: string, pageId: string | null): void {
    const ttl = pageId === null ? this.negativeMemoryTtlMs : this.memoryTtlMs;
    if (ttl > 0) this.memory.set(ik, { pageId, expiresAt: this.now() + ttl });
  }

  private async loadOwnNumbers(): Promise<Set<string>> {
    const now = this.now();
    if (this.ownNumbers && this.ownNumbers.expiresAt > now) return this.ownNumbers.numbers;
    let numbers = await readOwnNumbers(this.env.DB);
    if (numbers.size === 0 && !this.ownNumbersRequested && this.config.OPENPHONE_API_KEY) {
      // First lookup on a fresh install: read the lines once rather than risk matching one of them.
      this.ownNumbersRequested = true;
      const stub = this.env.CANVAS_INDEX.get(this.env.CANVAS_INDEX.idFromName(CANVAS_INDEX_OBJECT_NAME));
      const loaded = await stub.ensureOwnNumbers().catch(() => false);
      if (loaded) numbers = await readOwnNumbers(this.env.DB);
    }
    this.ownNumbers = { numbers, expiresAt: now + OWN_NUMBERS_TTL_MS };
    return numbers;
  }
}
