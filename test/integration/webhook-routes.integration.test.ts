import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { claimLineOfResource, findLinesOfResources, recordWebhookRoutes } from "../../src/db/webhook-routes";

describe("webhook routes in D1", () => {
  it("finds the line of each resource from the intake's routes or the resources mirror, and leaves out the unknown", async () => {
    await recordWebhookRoutes(env.DB, [{ resourceId: "ACroute1", phoneNumberId: "PNroutes1" }], 1);
    await claimLineOfResource(env.DB, "ACroute2", "call", "PNroutes2", 1);
    const lines = await findLinesOfResources(env.DB, ["ACroute1", "ACroute2", "ACnowhere"]);
    expect(Object.fromEntries(lines)).toEqual({ ACroute1: "PNroutes1", ACroute2: "PNroutes2" });
    expect((await findLinesOfResources(env.DB, [])).size).toBe(0);
  });

  it("gives an id to the first line that claims it; a later line is told the holder", async () => {
    expect(await claimLineOfResource(env.DB, "ACclaim1", "call", "PNfirst", 1)).toBe("PNfirst");
    expect(await claimLineOfResource(env.DB, "ACclaim1", "call", "PNsecond", 2)).toBe("PNfirst");
    const row = await env.DB.prepare("SELECT phone_number_id FROM resources WHERE resource_id = 'ACclaim1'").first<{ phone_number_id: string }>();
    expect(row?.phone_number_id).toBe("PNfirst");
  });
});
