/**
 * `/admin/dead-letters`: work that failed for good, with the reason and the Notion property at fault, and its replay.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { countOpenDeadLetters, listOpenDeadLetters } from "../db/dead-letters";
import { replayDeadLetters } from "../queue/dead-letter-replay";

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
const replayBody = z.object({ ids: z.array(z.number().int().positive()).max(10_000).optional() }).strict();

export const deadLettersAdmin = new Hono<{ Bindings: Env }>()
  /** Open (not yet replayed) dead letters, oldest first. */
  .get("/", async (c) => {
    const query = listQuery.safeParse(c.req.query());
    if (!query.success) throw new HTTPException(400, { message: "limit must be a whole number from 1 to 1000" });
    const [letters, open] = await Promise.all([listOpenDeadLetters(c.env.DB, query.data.limit), countOpenDeadLetters(c.env.DB)]);
    return c.json({
      open,
      deadLetters: letters.map((l) => ({
        id: l.id,
        resourceId: l.resourceId ?? null,
        reason: l.reason,
        property: l.property ?? null,
        queue: l.queue,
        attempts: l.attempts,
        createdAt: new Date(l.createdAt).toISOString(),
        eventType: eventTypeOf(l.body),
        body: l.body,
      })),
    });
  })
  /** Sends dead letters (all open ones, or `{ids}`) back onto the sync queue. Body optional. */
  .post("/replay", async (c) => {
    const text = await c.req.text();
    let json: unknown = {};
    if (text.trim() !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        throw new HTTPException(400, { message: "The body must be JSON: {} or {\"ids\": [1, 2]}" });
      }
    }
    const body = replayBody.safeParse(json);
    if (!body.success) throw new HTTPException(400, { message: "The body must be {} or {\"ids\": [positive whole numbers]}" });
    const result = await replayDeadLetters(c.env, body.data.ids);
    return c.json(
      {
        replayed: result.replayed.length,
        replayedIds: result.replayed,
        notFound: result.notFound,
        alreadyReplayed: result.alreadyReplayed,
        remaining: result.remaining,
        ...(result.error ? { error: result.error } : {}),
      },
      result.error ? 503 : 200,
    );
  });

function eventTypeOf(body: unknown): string | null {
  const value = (body as { eventType?: unknown; type?: unknown } | null)?.eventType ?? (body as { type?: unknown } | null)?.type;
  return typeof value === "string" ? value : null;
}
