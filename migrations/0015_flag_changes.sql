-- Every change of a runtime flag made through PUT /admin/flags or the dashboard: when, which flag, from what to
-- what (NULL: no KV override, the var or the default applies). The flags themselves live in the FLAGS KV namespace.
CREATE TABLE flag_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  changed_at INTEGER NOT NULL,
  name TEXT NOT NULL,
  from_value TEXT,
  to_value TEXT,
  changed_by TEXT NOT NULL                   -- 'admin-api' or 'dashboard' (as the request said)
);
CREATE INDEX flag_changes_changed_at ON flag_changes (changed_at);
