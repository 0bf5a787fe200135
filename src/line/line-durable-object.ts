/**
 * Line Durable Object: one per OpenPhone line. Every event of that line's calls and texts meets here, so the map
 * "resource → Notion page" is claimed in strongly consistent storage before Notion is called.
 *
 * Events are deduplicated by envelope id and stored durably before `ingest` returns (only then is a queue message
 * acknowledged); an alarm coalesces a burst of events into one flush.
 */
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../config";
import type { MessageOutcome, SyncMessage } from "../queue/messages";

export interface IngestResult {
  /** One outcome per message, in the order given. */
  outcomes: MessageOutcome[];
  accepted: number;
  duplicates: number;
}

export class LineDurableObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS events (
        event_id TEXT PRIMARY KEY,
        event_type TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        flushed_at INTEGER
      )`);
    });
  }

  /** Stores each event once and schedules a flush after the coalescing window. */
  async ingest(messages: SyncMessage[]): Promise<IngestResult> {
    let accepted = 0;
    let duplicates = 0;
    const outcomes: MessageOutcome[] = [];
    for (const message of messages) {
      if (message.type !== "webhook") {
        outcomes.push({ status: "failed", reason: `unsupported message type ${message.type}` });
        continue;
      }
      const cursor = this.sql.exec(
        "INSERT INTO events (event_id, event_type, received_at, body) VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
        message.eventId,
        message.eventType,
        message.receivedAt,
        JSON.stringify(message.envelope),
      );
      if (cursor.rowsWritten > 0) accepted++;
      else duplicates++;
      outcomes.push({ status: "done" });
    }
    if (accepted > 0) await this.scheduleFlush();
    return { outcomes, accepted, duplicates };
  }

  /** Events stored and not yet flushed. */
  pendingEvents(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE flushed_at IS NULL").one().n;
  }

  override async alarm(): Promise<void> {
    await this.flush();
  }

  private async scheduleFlush(): Promise<void> {
    const { config } = getConfig(this.env);
    const existing = await this.ctx.storage.getAlarm();
    if (existing === null) await this.ctx.storage.setAlarm(Date.now() + config.COALESCE_MS);
  }

  private async flush(): Promise<void> {
    this.sql.exec("UPDATE events SET flushed_at = ? WHERE flushed_at IS NULL", Date.now());
  }
}
