-- Backfill job chains: one row per line of a run. The row is the chain's checkpoint: its step (so a duplicate or
-- stale queue message is recognised), the latest cursor (so a lost continuation can be sent again) and its status
-- (so the run ends when the last chain does, and a line is never backfilled by two runs at once).
CREATE TABLE backfill_run_lines (
  run_id TEXT NOT NULL REFERENCES backfill_runs (id),
  line_id TEXT NOT NULL,                     -- PN…
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  step INTEGER NOT NULL DEFAULT 0,           -- the step of the message the chain waits for
  cursor TEXT NOT NULL,                      -- JSON LineCursor of that step
  attempt TEXT,                              -- id of the invocation that committed the step (exact counts)
  conversations INTEGER NOT NULL DEFAULT 0,  -- conversations planned on this line
  listed INTEGER NOT NULL DEFAULT 0,         -- conversations fully listed
  items INTEGER NOT NULL DEFAULT 0,          -- calls and messages listed
  error TEXT,
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ended_at INTEGER,
  PRIMARY KEY (run_id, line_id)
);
-- At most one running chain per line, enforced by D1 itself so two concurrent requests cannot both start one.
CREATE UNIQUE INDEX backfill_run_lines_one_running ON backfill_run_lines (line_id) WHERE status = 'running';
CREATE INDEX backfill_runs_started ON backfill_runs (started_at);

-- Conversations fully listed, next to `planned` (conversations found), for a progress bar.
ALTER TABLE backfill_runs ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
