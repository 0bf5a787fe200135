-- Dead letters are shown and replayed per call or text: an event that fails again while its letter is still open
-- updates that letter (its reason, property and attempts) instead of adding a row. `event_key` is the webhook's
-- event id (EV…), or the queue message id for other work; NULL where neither is known (each such letter stands alone).
ALTER TABLE dead_letters ADD COLUMN event_key TEXT;
UPDATE dead_letters SET event_key = COALESCE(CASE WHEN json_valid(body) THEN json_extract(body, '$.eventId') END, message_id);
-- Letters recorded twice before this migration: the newest of each open pair stays open.
UPDATE dead_letters SET replayed_at = created_at
 WHERE replayed_at IS NULL AND event_key IS NOT NULL
   AND id < (SELECT MAX(d.id) FROM dead_letters d WHERE d.event_key = dead_letters.event_key AND d.replayed_at IS NULL);
CREATE UNIQUE INDEX dead_letters_open_event ON dead_letters (event_key) WHERE event_key IS NOT NULL AND replayed_at IS NULL;
CREATE INDEX dead_letters_open_item ON dead_letters (resource_id) WHERE replayed_at IS NULL;
