-- Lag over time: each line's pending count and oldest pending age, sampled by the five-minute cron and by every
-- `GET /admin/stats`, kept per five-minute bucket (the worst sample of the bucket) for the dashboard's 24-hour chart.
CREATE TABLE lag_samples (
  line_id TEXT NOT NULL,                     -- the Line Durable Object's name (PN…, or a routing key such as `unknown`)
  bucket INTEGER NOT NULL,                   -- start of the five-minute bucket, epoch ms
  pending INTEGER NOT NULL,
  oldest_pending_seconds INTEGER NOT NULL,   -- -1 when the line did not answer
  PRIMARY KEY (line_id, bucket)
);
CREATE INDEX lag_samples_bucket ON lag_samples (bucket);

-- Listed items new to their line and handed to it; `written` now counts only those the line wrote to Notion.
ALTER TABLE backfill_runs ADD COLUMN handed INTEGER NOT NULL DEFAULT 0;
