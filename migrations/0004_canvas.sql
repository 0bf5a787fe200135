-- Canvas matching and Mail linking: what the index in 0001 does not hold.

-- When each index entry appeared, so a refresh can tell which numbers a page gained.
ALTER TABLE canvas_index ADD COLUMN added_at INTEGER;

-- Participants no customer has, remembered until expires_at so a burst of unknown numbers costs no more refreshes.
-- A refresh that adds the key to the index deletes its row.
CREATE TABLE canvas_negative (
  key TEXT PRIMARY KEY,                      -- 'phone:+15551234567' or 'email:ann@example.com'
  expires_at INTEGER NOT NULL,
  first_seen_at INTEGER NOT NULL,
  lookups INTEGER NOT NULL DEFAULT 1
);

-- Calls and messages whose Canvas relation was written after their sync, by the relinking on a Canvas refresh.
-- The Line Durable Object reads the 'linked' rows as "this relation is already written" so its next flush keeps it.
CREATE TABLE canvas_relinks (
  resource_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  notion_page_id TEXT NOT NULL,
  canvas_page_id TEXT NOT NULL,
  property TEXT NOT NULL,                    -- the relation property written
  status TEXT NOT NULL CHECK (status IN ('linked', 'failed')),
  error TEXT,
  linked_at INTEGER NOT NULL
);

-- Mail pages read by the Mail linking that matched no customer, not read again until the index changes
-- (index_version) or the page is edited (last_edited_time).
CREATE TABLE mail_unmatched (
  page_id TEXT PRIMARY KEY,
  last_edited_time TEXT NOT NULL,
  index_version INTEGER NOT NULL,
  addresses TEXT NOT NULL,                   -- JSON array of the addresses read
  checked_at INTEGER NOT NULL
);

-- Numbers or addresses two or more customers share; the match picks the smallest page id (stable), listed here.
CREATE VIEW canvas_ambiguous AS
SELECT key, COUNT(*) AS pages, GROUP_CONCAT(page_id, ',') AS page_ids, MIN(page_id) AS chosen_page_id
FROM canvas_index
GROUP BY key
HAVING COUNT(*) > 1;

-- Participants of synced calls and messages that are linked to no customer.
CREATE VIEW canvas_unmatched AS
SELECT participant, COUNT(*) AS resources, MAX(occurred_at) AS last_occurred_at
FROM resources
WHERE canvas_page_id IS NULL AND participant IS NOT NULL
GROUP BY participant;
