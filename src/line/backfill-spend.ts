/**
 * What flushing backfilled calls and texts costs, credited to their backfill run (`backfill_runs`): the Notion and
 * OpenPhone requests of each flush, the items written to Notion (each once: at the first flush that leaves it with a
 * page) and the items that failed for good. A Line Durable Object collects it over one
 * alarm and writes one D1 update per run, so `GET /admin/backfill/<id>` shows the whole cost of a run, not only its
 * listings.
 */
import { isBackfillEnvelope } from "../backfill/envelope";
import { addBackfillFlushCounts } from "../db/backfill-runs";
import type { RequestCounter } from "../gates/gated-fetch";
import type { WebhookMessage } from "../queue/messages";
import type { FlushResult } from "./flush";

/** The run whose synthetic event brought this resource in (`backfillRunId` on the backfill envelope). */
export function backfillRunOf(messages: WebhookMessage[]): string | undefined {
  for (const message of messages) {
    // Backfill events stored before runs were credited carry no run id.
    if (isBackfillEnvelope(message.envelope) && typeof message.envelope.backfillRunId === "string") return message.envelope.backfillRunId;
  }
  return undefined;
}

export class BackfillSpend {
  private readonly byRun = new Map<string, { notionRequests: number; openphoneRequests: number; failed: number; written: number }>();

  /** `hadPage`: whether the item already had its Notion page before this flush (it was credited then). */
  add(runId: string | undefined, counter: RequestCounter, outcome: FlushResult["outcome"], hadPage: boolean): void {
    if (!runId) return;
    const spent = this.byRun.get(runId) ?? { notionRequests: 0, openphoneRequests: 0, failed: 0, written: 0 };
    spent.notionRequests += counter.notion;
    spent.openphoneRequests += counter.openphone;
    if (outcome === "failed") spent.failed++;
    if (!hadPage && (outcome === "created" || outcome === "updated" || outcome === "unchanged")) spent.written++;
    this.byRun.set(runId, spent);
  }

  async write(db: D1Database): Promise<void> {
    for (const [runId, spent] of this.byRun) await addBackfillFlushCounts(db, runId, spent);
    this.byRun.clear();
  }
}
