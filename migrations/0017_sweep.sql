-- The frequent sweep of each line's recent conversations (backfill runs with trigger 'sweep') keeps its own
-- watermark, so a sweep never moves the backfill's: the history before a line's first backfill stays to be filled.
ALTER TABLE lines ADD COLUMN sweep_watermark INTEGER;
