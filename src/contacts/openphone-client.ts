/**
 * The OpenPhone client of the contact work (the contacts listing and the Canvas → OpenPhone sync). It spends the
 * shared OpenPhone budget as the backfill does: it waits at most CONTACTS_GATE_MAX_WAIT_MS for a permit, so when
 * real-time work is queued at the gate the contact pass stops (GateClosedError) and the next cron goes on with it.
 */
import type { Config } from "../config";
import { createGatedFetch, type RequestCounter } from "../gates/gated-fetch";
import { OpenPhoneClient } from "../openphone/client";

export function contactsOpenPhoneClient(env: Pick<Env, "GATE">, config: Config, counter: RequestCounter): OpenPhoneClient {
  return new OpenPhoneClient({
    apiKey: config.OPENPHONE_API_KEY ?? "",
    baseUrl: config.OPENPHONE_API_BASE,
    fetch: createGatedFetch({ api: "openphone", gate: env.GATE, config, counter, maxWaitMs: config.CONTACTS_GATE_MAX_WAIT_MS }),
  });
}
