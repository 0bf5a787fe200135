-- OpenPhone contacts, both ways: the workspace's contacts kept in D1 (names for callers no Canvas customer matches),
-- and what the Canvas → OpenPhone contact sync last sent for each customer.

-- Every OpenPhone contact, from the scheduled listing and from contact.* webhooks. A deleted contact keeps its row
-- (deleted = 1) so a late, older update cannot bring it back; updated_at is OpenPhone's and only moves forward.
CREATE TABLE openphone_contacts (
  id TEXT PRIMARY KEY,
  external_id TEXT,
  source TEXT,
  first_name TEXT,
  last_name TEXT,
  company TEXT,
  role TEXT,
  emails TEXT NOT NULL DEFAULT '[]',         -- JSON array of normalised addresses
  phones TEXT NOT NULL DEFAULT '[]',         -- JSON array of E.164 numbers
  updated_at TEXT,                           -- OpenPhone's updatedAt (ISO 8601)
  deleted INTEGER NOT NULL DEFAULT 0,
  seen_at INTEGER NOT NULL                   -- ms; last listing or webhook that carried it
);
CREATE INDEX openphone_contacts_external_id ON openphone_contacts (external_id);

-- The numbers of the contacts that are not deleted, for the lookup by caller.
CREATE TABLE openphone_contact_phones (
  phone TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  PRIMARY KEY (phone, contact_id)
);
CREATE INDEX openphone_contact_phones_contact ON openphone_contact_phones (contact_id);

-- One row per Canvas customer the contact sync has considered: the contact it owns, the hash of the body last
-- accepted by OpenPhone (an unchanged customer costs no request), and the outcome shown on the dashboard.
CREATE TABLE contact_sync (
  page_id TEXT PRIMARY KEY,                  -- the Canvas page id, sent as the contact's externalId
  contact_id TEXT,
  sent_hash TEXT,
  status TEXT NOT NULL CHECK (status IN ('created', 'updated', 'unchanged', 'skipped', 'conflict', 'failed', 'removed')),
  reason TEXT,                               -- why it was skipped or failed, or what else is worth knowing
  conflict TEXT,                             -- a number another customer shares, or that a contact not made here has
  items TEXT,                                -- JSON {phones: {value: id}, emails: {value: id}}: OpenPhone's item ids
  changed_at INTEGER NOT NULL                -- ms; when status or reason last changed
);

-- The company of each Canvas customer (CANVAS_COMPANY_PROPERTY), read with the index.
ALTER TABLE canvas_pages ADD COLUMN company TEXT;

