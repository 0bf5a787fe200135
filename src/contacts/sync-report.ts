/**
 * What one pass of the Canvas → OpenPhone contact sync reports. Types only, so the `npm run contacts` client reads
 * them without the Worker's types.
 */

export type ContactSyncAction = "create" | "update" | "unchanged" | "skip" | "conflict" | "removed";

export interface ContactSyncItemReport {
  action: ContactSyncAction | "failed";
  pageId: string;
  title: string | null;
  contactId?: string;
  reason?: string;
  conflict?: string;
}

export interface ContactSyncReport {
  dryRun: boolean;
  startedAt: number;
  finishedAt: number;
  openphoneRequests: number;
  /** Whether OpenPhone's contacts were listed afresh before creating. */
  listed: boolean;
  counts: Record<ContactSyncAction | "failed", number>;
  /** Why the pass stopped before the end (the gate paused it, OpenPhone is unavailable, the per-pass cap). */
  stoppedEarly?: string;
  items: ContactSyncItemReport[];
}

