/** The frequent cron's Canvas work, done by the Canvas index Durable Object so it never overlaps a refresh. */
import { getConfig } from "../config";
import type { CanvasCronSummary } from "./canvas-index-durable-object";
import { CANVAS_INDEX_OBJECT_NAME } from "./matcher";

export async function runCanvasCron(env: Pick<Env, "CANVAS_INDEX">): Promise<CanvasCronSummary | undefined> {
  const { config } = getConfig(env);
  // Nothing to index or link until the user names a Canvas or a Mail database (and gives a Notion token).
  if (!config.NOTION_TOKEN || (!config.NOTION_CANVAS_DATABASE_ID && !config.NOTION_MAIL_DATABASE_ID)) return undefined;
  return env.CANVAS_INDEX.get(env.CANVAS_INDEX.idFromName(CANVAS_INDEX_OBJECT_NAME)).runScheduled();
}
