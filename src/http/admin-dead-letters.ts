/**
 * `/admin/dead-letters`: work that failed for good, one entry per call or text with its events, the reason and the
 * Notion property at fault, and its replay.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { countOpenDeadLetterItems, countOpenDeadLetters, listOpenDeadLetterItems } from "../db/dead-letters";
import { groupDeadLetters } from "../queue/dead-letter-groups";
import { replayDeadLetters } from "../queue/dead-letter-replay";

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
const replayBody = z
  .object({
    ids: z.array(z.number().int().positive()).max(10_000).optional(),
    items: z.array(z.string().min(1).max(200)).max(1000).optional(),
  })
  .strict();

export const deadLettersAdmin = new Hono<{ Bindings: Env }>()
  /** Calls and texts with open (not yet replayed) dead letters, oldest first; `limit` counts items. */
  .get("/", async (c) => {
    const query = listQuery.safeParse(c.req.query());
    if (!query.success) throw new HTTPException(400, { message: "limit must be a whole number from 1 to 1000" });
    const [letters, open, openLetters] = await Promise.all([listOpenDeadLetterItems(c.env.DB, query.data.limit), countOpenDeadLetterItems(c.env.DB), countOpenDeadLetters(c.env.DB)]);
    return c.json({ open, openLetters, items: groupDeadLetters(letters) });
  })
  /** Sends dead letters back onto the sync queue: every open one, `{items}` (calls or texts), or `{ids}` (letters). */
  .post("/replay", async (c) => {
    const text = await c.req.text();
    let json: unknown = {};
    if (text.trim() !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        throw new HTTPException(400, { message: 'The body must be JSON: {}, {"items": ["AC…"]} or {"ids": [1, 2]}' });
      }
    }
    const body = replayBody.safeParse(json);
    if (!body.success) throw new HTTPException(400, { message: 'The body must be {}, {"items": [call or text ids]} or {"ids": [positive whole numbers]}' });
    const result = await replayDeadLetters(c.env, { ids: body.data.ids, items: body.data.items });
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
