/**
 * The Line Durable Object's SQLite storage, all of its SQL in one place.
 *
 * - `events`: every webhook once (deduplicated by envelope id), with the queue message kept whole so a permanent
 *   failure can be dead-lettered as the original, replayable message.
 * - `resources`: per call or text, the merged state, whether it needs a flush and when, the Notion page id, the
 *   create claim (`creating` is written durably before Notion is asked to create), what was last written
 *   (properties and body sections) so updates send only what changed, and a permanent failure if one happened.
 * - `users`, `line_info`: small caches of OpenPhone lookups.
 * - `line_health`: the last successful Notion write and the last error, for the object's liveness report; kept
 *   durably so a restarted object still says when it last wrote.
 * - `media_copies`, `media_notices`: see media/line-media-storage.ts.
 */
import type { MediaItem } from "../media/plan";
import { MediaStorage } from "../media/line-media-storage";
import type { WebhookMessage } from "../queue/messages";
import type { PageProperties } from "../notion/mapping";
import type { ResourceState } from "./state";

export interface ResourceRecord {
  resourceId: string;
  kind: "call" | "message";
  state: ResourceState;
  version: number;
  dirty: boolean;
  dueAt: number | null;
  attempts: number;
  pageId: string | null;
  claim: "creating" | null;
  claimProps: PageProperties | null;
  claimSections: string[];
  /** When the create claim was recorded (a page created then may take a moment to show in queries). */
  claimedAt: number | null;
  /** When the last create attempt ended with an unknown outcome; the wait for its page to show counts from here. */
  claimUnknownAt: number | null;
  /** Unique-id lookups since that attempt that did not find the page (bounded, see flush.ts). */
  claimLookups: number;
  writtenProps: PageProperties;
  bodySections: string[];
  links: Record<string, string>;
  canvasPageId: string | null;
  failedAt: number | null;
  failedReason: string | null;
  failedProperty: string | null;
  firstEventAt: number;
  source: string;
}

interface ResourceRow extends Record<string, SqlStorageValue> {
  resource_id: string;
  kind: string;
  state: string;
  version: number;
  dirty: number;
  due_at: number | null;
  attempts: number;
  page_id: string | null;
  claim: string | null;
  claim_props: string | null;
  claim_sections: string | null;
  claimed_at: number | null;
  claim_unknown_at: number | null;
  claim_lookups: number | null;
  written_props: string | null;
  body_sections: string | null;
  links: string | null;
  canvas_page_id: string | null;
  failed_at: number | null;
  failed_reason: string | null;
  failed_property: string | null;
  first_event_at: number;
  source: string;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    resource_id TEXT,
    event_type TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    flushed_at INTEGER
  )`,
  `CREATE INDEX IF NOT EXISTS events_resource ON events (resource_id)`,
  // The business event behind each webhook (type + resource, see internal-event.ts): the same event sent through
  // both webhook systems carries two unrelated ids, and this is what makes the second copy a duplicate.
  `CREATE TABLE IF NOT EXISTS event_keys (
    dedupe_key TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    received_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS resources (
    resource_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    dirty INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    page_id TEXT,
    claim TEXT,
    claim_props TEXT,
    claim_sections TEXT,
    claimed_at INTEGER,
    claim_unknown_at INTEGER,
    claim_lookups INTEGER NOT NULL DEFAULT 0,
    written_props TEXT,
    body_sections TEXT,
    links TEXT,
    canvas_page_id TEXT,
    failed_at INTEGER,
    failed_reason TEXT,
    failed_property TEXT,
    first_event_at INTEGER NOT NULL,
    source TEXT NOT NULL DEFAULT 'webhook'
  )`,
  `CREATE INDEX IF NOT EXISTS resources_due ON resources (due_at) WHERE dirty = 1`,
  `CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, name TEXT NOT NULL, fetched_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS line_info (key TEXT PRIMARY KEY, value TEXT NOT NULL, fetched_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS line_health (key TEXT PRIMARY KEY, at INTEGER NOT NULL, message TEXT)`,
];

/** Columns added after the first release: added to a `resources` table created before them. */
const ADDED_RESOURCE_COLUMNS: [string, string][] = [
  ["claim_unknown_at", "INTEGER"],
  ["claim_lookups", "INTEGER NOT NULL DEFAULT 0"],
];

const json = <T>(text: string | null, fallback: T): T => (text ? (JSON.parse(text) as T) : fallback);

function toRecord(r: ResourceRow): ResourceRecord {
  return {
    resourceId: r.resource_id,
    kind: r.kind as "call" | "message",
    state: JSON.parse(r.state) as ResourceState,
    version: r.version,
    dirty: r.dirty === 1,
    dueAt: r.due_at,
    attempts: r.attempts,
    pageId: r.page_id,
    claim: r.claim === "creating" ? "creating" : null,
    claimProps: json<PageProperties | null>(r.claim_props, null),
    claimSections: json<string[]>(r.claim_sections, []),
    claimedAt: r.claimed_at,
    claimUnknownAt: r.claim_unknown_at ?? null,
    claimLookups: r.claim_lookups ?? 0,
    writtenProps: json<PageProperties>(r.written_props, {}),
    bodySections: json<string[]>(r.body_sections, []),
    links: json<Record<string, string>>(r.links, {}),
    canvasPageId: r.canvas_page_id,
    failedAt: r.failed_at,
    failedReason: r.failed_reason,
    failedProperty: r.failed_property,
    firstEventAt: r.first_event_at,
    source: r.source,
  };
}

export class LineStorage {
  /** Media copies and the "unavailable" notes, in the same database. */
  readonly media: MediaStorage;

  constructor(private readonly sql: SqlStorage) {
    this.media = new MediaStorage(sql);
  }

  migrate(): void {
    for (const statement of SCHEMA) this.sql.exec(statement);
    const present = new Set(this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('resources')").toArray().map((c) => c.name));
    for (const [name, type] of ADDED_RESOURCE_COLUMNS) if (!present.has(name)) this.sql.exec(`ALTER TABLE resources ADD COLUMN ${name} ${type}`);
    this.media.migrate();
  }

  /**
   * Stores the event; false when its id was seen before, or when `dedupeKey` names a business event already stored
   * under another id (the other webhook system's copy).
   */
  recordEvent(message: WebhookMessage, resourceId: string | null, eventType: string, at: number, dedupeKey?: string): boolean {
    if (dedupeKey !== undefined) {
      this.sql.exec("INSERT INTO event_keys (dedupe_key, event_id, received_at) VALUES (?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING", dedupeKey, message.eventId, message.receivedAt ?? at);
      const owner = this.sql.exec<{ event_id: string }>("SELECT event_id FROM event_keys WHERE dedupe_key = ?", dedupeKey).one().event_id;
      if (owner !== message.eventId) return false;
    }
    const cursor = this.sql.exec(
      "INSERT INTO events (event_id, resource_id, event_type, received_at, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
      message.eventId,
      resourceId,
      eventType,
      message.receivedAt ?? at,
      JSON.stringify(message),
    );
    return cursor.rowsWritten > 0;
  }

  /** The original queue messages of a resource's events, for dead-lettering. */
  eventMessages(resourceId: string): WebhookMessage[] {
    return this.sql
      .exec<{ body: string }>("SELECT body FROM events WHERE resource_id = ? ORDER BY received_at, event_id", resourceId)
      .toArray()
      .map((r) => JSON.parse(r.body) as WebhookMessage);
  }

  markEventsFlushed(resourceId: string, at: number): void {
    this.sql.exec("UPDATE events SET flushed_at = ? WHERE resource_id = ? AND flushed_at IS NULL", at, resourceId);
  }

  /** When the oldest event not yet written to Notion arrived (for the webhook → page latency). */
  pendingSince(resourceId: string): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(received_at) AS at FROM events WHERE resource_id = ? AND flushed_at IS NULL", resourceId).one().at;
  }

  /** Forgets events written long ago; their ids only matter while OpenPhone may still redeliver them. */
  pruneFlushedEvents(before: number): void {
    this.sql.exec("DELETE FROM events WHERE flushed_at IS NOT NULL AND flushed_at < ?", before);
    this.sql.exec("DELETE FROM event_keys WHERE received_at < ?", before);
  }

  pendingEvents(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE flushed_at IS NULL").one().n;
  }

  get(resourceId: string): ResourceRecord | undefined {
    const row = this.sql.exec<ResourceRow>("SELECT * FROM resources WHERE resource_id = ?", resourceId).toArray()[0];
    return row ? toRecord(row) : undefined;
  }

  put(r: ResourceRecord): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO resources (resource_id, kind, state, version, dirty, due_at, attempts, page_id, claim, claim_props,
        claim_sections, claimed_at, claim_unknown_at, claim_lookups, written_props, body_sections, links, canvas_page_id, failed_at, failed_reason, failed_property,
        first_event_at, source)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.resourceId,
      r.kind,
      JSON.stringify(r.state),
      r.version,
      r.dirty ? 1 : 0,
      r.dueAt,
      r.attempts,
      r.pageId,
      r.claim,
      r.claimProps ? JSON.stringify(r.claimProps) : null,
      JSON.stringify(r.claimSections),
      r.claimedAt,
      r.claimUnknownAt,
      r.claimLookups,
      JSON.stringify(r.writtenProps),
      JSON.stringify(r.bodySections),
      JSON.stringify(r.links),
      r.canvasPageId,
      r.failedAt,
      r.failedReason,
      r.failedProperty,
      r.firstEventAt,
      r.source,
    );
  }

  /** Dirty resources whose time has come, oldest first; live ones before backfilled ones, so history waits its turn. */
  due(now: number, limit: number): ResourceRecord[] {
    return this.sql
      .exec<ResourceRow>("SELECT * FROM resources WHERE dirty = 1 AND failed_at IS NULL AND due_at <= ? ORDER BY source = 'backfill', due_at LIMIT ?", now, limit)
      .toArray()
      .map(toRecord);
  }

  /** When the next flush is due, if any resource waits for one. */
  nextDueAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(due_at) AS at FROM resources WHERE dirty = 1 AND failed_at IS NULL").one().at;
  }

  /** Calls and texts waiting for a write (dirty, not parked as a permanent failure). */
  pendingCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM resources WHERE dirty = 1 AND failed_at IS NULL").one().n;
  }

  /** When the most overdue pending call or text fell due, or null when none is overdue at `now`. */
  oldestOverdueAt(now: number): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(due_at) AS at FROM resources WHERE dirty = 1 AND failed_at IS NULL AND due_at <= ?", now).one().at;
  }

  /** Records the last successful write (`write`) or the last error (`error`, with its message). */
  noteHealth(key: "write" | "error" | "name", at: number, message: string | null = null): void {
    this.sql.exec("INSERT OR REPLACE INTO line_health (key, at, message) VALUES (?, ?, ?)", key, at, message);
  }

  health(key: "write" | "error" | "name"): { at: number; message: string | null } | null {
    return this.sql.exec<{ at: number; message: string | null }>("SELECT at, message FROM line_health WHERE key = ?", key).toArray()[0] ?? null;
  }

  /** Records the create claim before Notion is asked to create the page. */
  claimCreate(resourceId: string, props: PageProperties, sections: string[], at: number): void {
    this.sql.exec("UPDATE resources SET claim = 'creating', claim_props = ?, claim_sections = ?, claimed_at = ?, claim_unknown_at = NULL, claim_lookups = 0 WHERE resource_id = ?", JSON.stringify(props), JSON.stringify(sections), at, resourceId);
  }

  userName(userId: string): string | undefined {
    return this.sql.exec<{ name: string }>("SELECT name FROM users WHERE user_id = ?", userId).toArray()[0]?.name;
  }

  putUserName(userId: string, name: string, at: number): void {
    this.sql.exec("INSERT OR REPLACE INTO users (user_id, name, fetched_at) VALUES (?, ?, ?)", userId, name, at);
  }

  lineInfo(key: string, maxAgeMs: number, now: number): string | undefined {
    return this.sql.exec<{ value: string; fetched_at: number }>("SELECT value, fetched_at FROM line_info WHERE key = ?", key).toArray().find((r) => now - r.fetched_at < maxAgeMs)?.value;
  }

  putLineInfo(key: string, value: string, at: number): void {
    this.sql.exec("INSERT OR REPLACE INTO line_info (key, value, fetched_at) VALUES (?, ?, ?)", key, value, at);
  }

  /** After the page is written: the media its links point to, for the copier (see media/line-media-storage.ts). */
  requestMediaCopies(items: MediaItem[], at: number): void {
    this.media.requestCopies(items, at);
  }
}
