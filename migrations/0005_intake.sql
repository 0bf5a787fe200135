-- Which line each call belongs to, learnt at webhook intake from the first event that names it.
-- Summary and transcript webhooks carry only the call id; this lets the intake send them to the same Line Durable
-- Object as the call's other events as soon as any of those has arrived, without waiting for a sync to fill
-- `resources`. Rows are never updated: a call does not change lines.
CREATE TABLE webhook_routes (
  resource_id TEXT PRIMARY KEY,              -- AC… of the call
  phone_number_id TEXT NOT NULL,             -- PN… of its line
  first_seen_at INTEGER NOT NULL
);
