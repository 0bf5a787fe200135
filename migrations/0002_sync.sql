-- Real-time sync: problems with the user's Notion databases found while writing pages.
-- A Notion 400 that names a property (renamed or retyped in Notion) is recorded here by the Line Durable Object;
-- /health and the dashboard show the open ones. The next successful write to that database resolves them.
CREATE TABLE schema_problems (
  database TEXT NOT NULL CHECK (database IN ('calls', 'messages')),
  property TEXT NOT NULL,                    -- the property Notion named, '' when the database itself is at fault
  message TEXT NOT NULL,                     -- Notion's message
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  resolved_at INTEGER,
  PRIMARY KEY (database, property)
);
CREATE INDEX schema_problems_open ON schema_problems (last_seen_at) WHERE resolved_at IS NULL;
