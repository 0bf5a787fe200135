-- Media copies (recordings, voicemails, MMS attachments): one row per R2 key, so the dashboard can show what is
-- stored and what is not, and the cron retries what could not be copied. Times are epoch milliseconds.
CREATE TABLE media_items (
  key TEXT PRIMARY KEY,                      -- the R2 key, e.g. recordings/2026/01/02/AC…/CR….mp3
  kind TEXT NOT NULL CHECK (kind IN ('recording', 'voicemail', 'mms')),
  resource_id TEXT NOT NULL,                 -- the call or message (AC…)
  media_id TEXT NOT NULL,                    -- CR… / VM… / attachment position
  source_url TEXT NOT NULL,                  -- the last source URL tried
  content_type TEXT NOT NULL,
  duration_seconds INTEGER,
  status TEXT NOT NULL CHECK (status IN ('stored', 'unavailable')),
  attempts INTEGER NOT NULL DEFAULT 0,       -- failed copy attempts so far
  reason TEXT,                               -- why the last attempt failed (NULL once stored)
  size INTEGER,                              -- bytes in R2 once stored
  next_attempt_at INTEGER,                   -- when the cron retries it; NULL = stored, or retries exhausted
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX media_items_resource ON media_items (resource_id);
CREATE INDEX media_items_due ON media_items (next_attempt_at) WHERE status = 'unavailable' AND next_attempt_at IS NOT NULL;
