-- Alerts: one row per incident (a condition that started being true and, later, stopped). The "opened" and the
-- "resolved" message are each sent once to ALERT_WEBHOOK_URL; a send that fails is kept 'failed' and tried again at
-- the next evaluation, so an outage of the receiver loses nothing. At most one open incident per key.
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,                         -- what is wrong: 'notion-errors', 'lag:PN…', 'breaker:notion', …
  opened_at INTEGER NOT NULL,
  resolved_at INTEGER,                       -- NULL while the incident is open
  last_text TEXT NOT NULL,                   -- the latest description (updated while open; repeats are not sent)
  last_seen_at INTEGER NOT NULL,             -- the last evaluation that found the condition true
  open_status TEXT NOT NULL DEFAULT 'pending' CHECK (open_status IN ('pending', 'sent', 'failed', 'unconfigured')),
  open_sent_at INTEGER,
  resolved_status TEXT CHECK (resolved_status IN ('pending', 'sent', 'failed', 'unconfigured')),
  resolved_sent_at INTEGER,
  send_attempts INTEGER NOT NULL DEFAULT 0,
  last_send_error TEXT
);
CREATE UNIQUE INDEX alerts_open_key ON alerts (key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_opened_at ON alerts (opened_at);

-- When alerts were last evaluated: the cron always evaluates, the queue consumer at most once a minute (it claims
-- the slot by moving this time forward in one statement, so concurrent consumers evaluate once).
CREATE TABLE alert_evaluations (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  evaluated_at INTEGER NOT NULL
);
