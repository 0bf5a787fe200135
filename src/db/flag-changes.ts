/** `flag_changes`: the record of every runtime flag change (the values themselves live in the FLAGS KV namespace). */
import type { FlagChange } from "../flags/resolve";

export interface FlagChangeRow {
  changedAt: number;
  name: string;
  from: string | null;
  to: string | null;
  changedBy: string;
}

export async function recordFlagChanges(db: D1Database, changes: readonly FlagChange[], changedBy: string, at: number): Promise<void> {
  if (changes.length === 0) return;
  await db.batch(
    changes.map((c) =>
      db.prepare("INSERT INTO flag_changes (changed_at, name, from_value, to_value, changed_by) VALUES (?1, ?2, ?3, ?4, ?5)").bind(at, c.name, c.from, c.to, changedBy),
    ),
  );
}

/** The latest changes, newest first. */
export async function readFlagChanges(db: D1Database, limit = 50): Promise<FlagChangeRow[]> {
  const { results } = await db
    .prepare("SELECT changed_at, name, from_value, to_value, changed_by FROM flag_changes ORDER BY changed_at DESC, id DESC LIMIT ?1")
    .bind(limit)
    .all<{ changed_at: number; name: string; from_value: string | null; to_value: string | null; changed_by: string }>();
  return results.map((r) => ({ changedAt: r.changed_at, name: r.name, from: r.from_value, to: r.to_value, changedBy: r.changed_by }));
}
