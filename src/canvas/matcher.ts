/**
 * Canvas matching: which customer page a phone number (E.164) or e-mail address belongs to.
 *
 * This first version answers from the D1 Canvas index only. The lookup path the product needs (memory → D1 →
 * incremental refresh → negative cache) extends this class without changing its signature.
 */
import type { Config } from "../config";
import type { RequestCounter } from "../gates/gated-fetch";

/** A participant key: `+15551234567` or `ann@example.com` (already normalised). */
export type ParticipantKey = string;

export class CanvasMatcher {
  constructor(
    private readonly env: Pick<Env, "DB" | "GATE">,
    private readonly config: Config,
    private readonly counter?: RequestCounter,
  ) {}

  /** For each key, the Canvas page id it belongs to, or null when no customer has it. */
  async match(keys: ParticipantKey[]): Promise<Map<ParticipantKey, string | null>> {
    const result = new Map<ParticipantKey, string | null>();
    const unique = [...new Set(keys)];
    if (unique.length === 0) return result;
    const indexKeys = unique.map((k) => (k.includes("@") ? `email:${k}` : `phone:${k}`));
    const placeholders = indexKeys.map((_, i) => `?${i + 1}`).join(", ");
    // Ambiguous numbers (two customers share one) resolve to the smallest page id, so the choice is stable.
    const { results } = await this.env.DB.prepare(
      `SELECT key, MIN(page_id) AS page_id FROM canvas_index WHERE key IN (${placeholders}) GROUP BY key`,
    )
      .bind(...indexKeys)
      .all<{ key: string; page_id: string }>();
    const found = new Map(results.map((r) => [r.key, r.page_id]));
    unique.forEach((key, i) => result.set(key, found.get(indexKeys[i]!) ?? null));
    return result;
  }
}
