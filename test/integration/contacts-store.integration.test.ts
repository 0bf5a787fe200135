import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyContactWebhook } from "../../src/contacts/apply-webhook";
import { readContactsByIds, readContactsByPhones } from "../../src/db/openphone-contacts";

const options = { defaultRegion: "US" };
const hana = (updatedAt: string, firstName = "Hana", phone = "+16175552722") => ({ id: "ct-hana", firstName, lastName: "Rossi", company: "Rossi Design", phoneNumbers: [{ value: phone, type: "phone-number" }], emails: [], updatedAt });

describe("OpenPhone contacts from webhooks, in D1", () => {
  it("stores a contact, finds it by number and by id, and ignores an older update arriving late", async () => {
    expect(await applyContactWebhook(env.DB, "contact.updated", hana("2026-02-01T00:00:00.000Z"), options)).toEqual({ outcome: "stored", contactId: "ct-hana" });
    expect(await applyContactWebhook(env.DB, "contact.updated", hana("2026-01-01T00:00:00.000Z", "Old"), options)).toEqual({ outcome: "stale", contactId: "ct-hana" });
    const byPhone = await readContactsByPhones(env.DB, ["+16175552722"]);
    expect(byPhone.get("+16175552722")?.map((c) => c.firstName)).toEqual(["Hana"]);
    expect((await readContactsByIds(env.DB, ["ct-hana"])).get("ct-hana")?.company).toBe("Rossi Design");
  });

  it("a changed number moves the lookup; a delete removes it and a late update does not bring it back", async () => {
    await applyContactWebhook(env.DB, "contact.updated", hana("2026-03-01T00:00:00.000Z", "Hana", "+16175550000"), options);
    expect((await readContactsByPhones(env.DB, ["+16175552722"])).size).toBe(0);
    expect((await readContactsByPhones(env.DB, ["+16175550000"])).size).toBe(1);
    expect(await applyContactWebhook(env.DB, "contact.deleted", hana("2026-03-02T00:00:00.000Z"), options)).toEqual({ outcome: "deleted", contactId: "ct-hana" });
    expect(await applyContactWebhook(env.DB, "contact.updated", hana("2026-03-01T12:00:00.000Z"), options)).toEqual({ outcome: "stale", contactId: "ct-hana" });
    expect((await readContactsByPhones(env.DB, ["+16175550000", "+16175552722"])).size).toBe(0);
    expect((await readContactsByIds(env.DB, ["ct-hana"])).size).toBe(0);
  });

  it("reads the legacy v1 shape and refuses an unreadable payload with the reason", async () => {
    const v1 = { id: "ct-v1", object: "contact", defaultFields: { firstName: "Ana", lastName: null, company: null, phoneNumbers: [{ name: "m", value: "555-555-0199" }], emails: [] } };
    expect(await applyContactWebhook(env.DB, "contact.updated", v1, options)).toEqual({ outcome: "stored", contactId: "ct-v1" });
    expect((await readContactsByPhones(env.DB, ["+15555550199"])).get("+15555550199")?.[0]?.id).toBe("ct-v1");
    expect(await applyContactWebhook(env.DB, "contact.updated", { firstName: "No id" }, options)).toEqual({ outcome: "invalid", reason: "contact.updated: the contact has no id" });
    expect(await applyContactWebhook(env.DB, "call.completed", v1, options)).toMatchObject({ outcome: "invalid" });
  });
});
