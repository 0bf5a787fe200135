/**
 * What an audit answers (`POST /admin/audit`, `npm run audit -- --json`). Types only, with no Worker types, so the
 * command-line client shares them.
 */

export type StaleField = "recording" | "transcript" | "summary" | "voicemail" | "media";

export interface DuplicateRepair {
  id: string;
  kind: "call" | "message";
  keptPageId: string;
  trashedPageIds: string[];
  movedProperties: string[];
  movedBlocks: number;
}

export interface DriftItem {
  id: string;
  kind: "call" | "message";
  lineId: string;
  createdAt: string;
}

export interface AuditReport {
  id: string;
  since: string;
  checked: number;
  missing: DriftItem[];
  duplicated: (DriftItem & { pageIds: string[] })[];
  stale: (DriftItem & { pageId: string; lacks: StaleField[] })[];
  /** Unfinished calls left out of the comparison. */
  skipped: number;
  complete: boolean;
  stoppedBy?: string;
  /** Set when it stopped at its budget: send it back as `after` (with the same `since`) to check the rest. */
  next?: string;
  requests: { openphone: number; notion: number };
  repaired?: AuditRepairs;
}

export interface AuditRepairs {
  resynced: string[];
  duplicatesRepaired: DuplicateRepair[];
  failed: { id: string; reason: string }[];
}

