-- Audits: OpenPhone (the truth) compared with Notion. One row per audit, with its figures and the drift it found,
-- so the dashboard and the alerts read the last run without running one.
CREATE TABLE audit_runs (
  id TEXT PRIMARY KEY,
  trigger TEXT NOT NULL CHECK (trigger IN ('api', 'cron')),
  since INTEGER NOT NULL,                    -- start of the window (epoch ms)
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  checked INTEGER NOT NULL,                  -- calls and texts listed in OpenPhone and compared
  missing INTEGER NOT NULL,
  duplicated INTEGER NOT NULL,
  stale INTEGER NOT NULL,
  complete INTEGER NOT NULL,                 -- 0 when the request or time budget ended the audit early
  stopped_by TEXT,                           -- why it ended early ("request budget", "time budget") or what failed
  openphone_requests INTEGER NOT NULL,
  notion_requests INTEGER NOT NULL,
  repaired TEXT,                             -- JSON: what --repair did, when asked
  drift TEXT NOT NULL                        -- JSON: {missing, duplicated, stale} as reported (capped)
);
CREATE INDEX audit_runs_ended ON audit_runs (ended_at);

-- Duplicate pages merged and trashed: which page was kept, which was trashed and what was moved onto the kept one.
CREATE TABLE duplicate_repairs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  audit_id TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('call', 'message')),
  resource_id TEXT NOT NULL,                 -- the Call ID / Message ID both pages carried
  kept_page_id TEXT NOT NULL,
  trashed_page_id TEXT NOT NULL,
  moved_properties TEXT NOT NULL,            -- JSON array of property names copied onto the kept page
  moved_blocks INTEGER NOT NULL,             -- body blocks copied onto the kept page
  repaired_at INTEGER NOT NULL
);
CREATE INDEX duplicate_repairs_resource ON duplicate_repairs (resource_id);
