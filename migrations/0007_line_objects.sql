-- Every Line Durable Object that has been handed work, by its name (a PN… line id, or a routing key such as
-- `unknown`), so the watchdog, the stats and /health can ask each one how far behind it is without trusting its alarm.
CREATE TABLE line_objects (
  name TEXT PRIMARY KEY,
  first_seen_at INTEGER NOT NULL
);
