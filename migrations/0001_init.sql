-- First schema: what the sync needs to start. Times are Unix epoch milliseconds (INTEGER).
-- D1 holds queryable copies for the dashboard and admin API; the Line Durable Objects remain the source of truth
-- for which Notion page belongs to which call or message.

-- OpenPhone lines (phone numbers) seen by the sync, with the backfill watermark per line.
CREATE TABLE lines (
  phone_number_id TEXT PRIMARY KEY,          -- PN…
  number TEXT,                               -- E.164
  name TEXT,
  backfill_watermark INTEGER,                -- createdAfter for the next backfill of this line
  updated_at INTEGER NOT NULL
);

-- Mirror of every synced OpenPhone resource and its Notion page.
CREATE TABLE resources (
  resource_id TEXT PRIMARY KEY,              -- AC… (calls and messages share the prefix)
  kind TEXT NOT NULL CHECK (kind IN ('call', 'message')),
  phone_number_id TEXT NOT NULL,
  participant TEXT,                          -- the external number, E.164
  notion_page_id TEXT,
  canvas_page_id TEXT,
  status TEXT,
  occurred_at INTEGER,                       -- when the call started / the text was sent
  first_event_at INTEGER,                    -- when the first webhook for it arrived (for latency)
  synced_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX resources_participant ON resources (participant);
CREATE INDEX resources_unlinked ON resources (participant) WHERE canvas_page_id IS NULL;
CREATE INDEX resources_line ON resources (phone_number_id, occurred_at);

-- One row per flush that wrote (or failed to write) a Notion page.
CREATE TABLE sync_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  resource_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT 'webhook',   -- webhook | backfill | replay | resync
  notion_page_id TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('created', 'updated', 'unchanged', 'failed', 'skipped')),
  notion_requests INTEGER NOT NULL DEFAULT 0,
  openphone_requests INTEGER NOT NULL DEFAULT 0,
  latency_ms INTEGER,                        -- first webhook received → page written
  error TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX sync_history_at ON sync_history (at);
CREATE INDEX sync_history_resource ON sync_history (resource_id);

-- Canvas index: normalised phone numbers (E.164) and e-mail addresses → Canvas page.
CREATE TABLE canvas_pages (
  page_id TEXT PRIMARY KEY,
  title TEXT,
  last_edited_time TEXT NOT NULL,            -- Notion's ISO timestamp, compared as text
  archived INTEGER NOT NULL DEFAULT 0,
  indexed_at INTEGER NOT NULL
);
CREATE TABLE canvas_index (
  key TEXT NOT NULL,                         -- 'phone:+15551234567' or 'email:ann@example.com'
  page_id TEXT NOT NULL REFERENCES canvas_pages (page_id) ON DELETE CASCADE,
  property TEXT NOT NULL,                    -- the Canvas property it came from
  raw TEXT,                                  -- the value as typed in Notion
  PRIMARY KEY (key, page_id)
);
CREATE INDEX canvas_index_page ON canvas_index (page_id);
-- Values in Canvas that could not be parsed as a phone number or e-mail, shown to the user.
CREATE TABLE canvas_unparsed (
  page_id TEXT NOT NULL,
  property TEXT NOT NULL,
  raw TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (page_id, property, raw)
);
-- Key/value state of the index (watermark of the last refresh, last full build).
CREATE TABLE canvas_state (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Counters, bucketed by hour: request counts per API, 429s, Canvas lookups per source, unknown webhook types…
CREATE TABLE metrics (
  name TEXT NOT NULL,
  bucket INTEGER NOT NULL,                   -- start of the hour, epoch ms
  value REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (name, bucket)
);

-- Work that could not be done: permanent failures and messages that exhausted their retries.
CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT,
  queue TEXT NOT NULL,
  resource_id TEXT,
  body TEXT NOT NULL,                        -- the queue message body as JSON, replayable as is
  reason TEXT NOT NULL,
  property TEXT,                             -- the Notion property at fault, when known
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  replayed_at INTEGER
);
CREATE INDEX dead_letters_open ON dead_letters (created_at) WHERE replayed_at IS NULL;

-- Backfill runs and their progress.
CREATE TABLE backfill_runs (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
  trigger TEXT NOT NULL,                     -- cron | admin | cli
  since INTEGER,
  lines TEXT,                                -- JSON array of PN ids, NULL = every line
  planned INTEGER NOT NULL DEFAULT 0,
  fetched INTEGER NOT NULL DEFAULT 0,
  written INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  openphone_requests INTEGER NOT NULL DEFAULT 0,
  notion_requests INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  started_at INTEGER NOT NULL,
  ended_at INTEGER
);

-- Today's sync statistics (UTC day), one row per kind and outcome.
CREATE VIEW sync_stats_today AS
SELECT
  kind,
  outcome,
  COUNT(*) AS syncs,
  SUM(notion_requests) AS notion_requests,
  SUM(openphone_requests) AS openphone_requests,
  CAST(AVG(latency_ms) AS INTEGER) AS avg_latency_ms,
  MAX(latency_ms) AS max_latency_ms
FROM sync_history
WHERE at >= CAST(strftime('%s', 'now', 'start of day') AS INTEGER) * 1000
GROUP BY kind, outcome;

-- Canvas lookups today by where they were answered, and the share answered without asking Notion.
CREATE VIEW canvas_hit_ratio AS
SELECT
  COALESCE(SUM(CASE WHEN name = 'canvas.lookup.memory' THEN value END), 0) AS memory_hits,
  COALESCE(SUM(CASE WHEN name = 'canvas.lookup.d1' THEN value END), 0) AS d1_hits,
  COALESCE(SUM(CASE WHEN name = 'canvas.lookup.notion' THEN value END), 0) AS notion_lookups,
  COALESCE(SUM(CASE WHEN name = 'canvas.lookup.miss' THEN value END), 0) AS misses,
  CASE
    WHEN COALESCE(SUM(CASE WHEN name LIKE 'canvas.lookup.%' THEN value END), 0) = 0 THEN NULL
    ELSE ROUND(
      1.0 * COALESCE(SUM(CASE WHEN name IN ('canvas.lookup.memory', 'canvas.lookup.d1') THEN value END), 0)
        / SUM(CASE WHEN name LIKE 'canvas.lookup.%' THEN value END), 4)
  END AS hit_ratio
FROM metrics
WHERE name LIKE 'canvas.lookup.%'
  AND bucket >= CAST(strftime('%s', 'now', 'start of day') AS INTEGER) * 1000;
