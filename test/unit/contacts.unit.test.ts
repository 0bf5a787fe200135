import { describe, expect, it } from "vitest";
import { contactLabel, parseOpenPhoneContact } from "../../src/contacts/openphone-contact";
import { createContactBody, updateContactBody } from "../../src/contacts/sync-bodies";
import { CONTACT_SOURCE, canonicalContact, desiredContactOf, planContactSync, splitName, type PlanInput } from "../../src/contacts/sync-plan";
import type { CanvasCustomer } from "../../src/db/contact-sync";
import type { OpenPhoneContactRecord } from "../../src/contacts/openphone-contact";

const customer = (pageId: string, title: string, phone: string, extra: Partial<CanvasCustomer> = {}): CanvasCustomer => ({
  pageId,
  title,
  company: null,
  phones: phone ? [{ value: phone, property: "Phone" }] : [],
  emails: [],
  unreadablePhones: [],
  ...extra,
});

const contact = (id: string, phones: string[], extra: Partial<OpenPhoneContactRecord> = {}): OpenPhoneContactRecord => ({
  id, externalId: null, source: null, firstName: "Hand", lastName: "Made", company: null, role: null, emails: [], phones, updatedAt: null, ...extra,
});

function input(customers: CanvasCustomer[], more: Partial<PlanInput> = {}): PlanInput {
  const hashes = new Map<string, string>();
  for (const c of customers) {
    const d = desiredContactOf(c);
    if (d.ok) hashes.set(c.pageId, canonicalContact(d.desired));
  }
  return { customers, hashes, rows: new Map(), contactsByPhone: new Map(), contactsByExternalId: new Map(), ...more };
}

describe("reading OpenPhone contacts", () => {
  it("reads the v1 REST shape and the 2026-03-30 webhook shape alike, numbers in E.164", () => {
    const v1 = parseOpenPhoneContact({ id: "c1", defaultFields: { firstName: "Hana", lastName: "Rossi", company: "Rossi Design", phoneNumbers: [{ name: "mobile", value: "(617) 555-2722" }], emails: [{ name: "w", value: "Hana@Rossi.example" }] }, updatedAt: "2026-01-01T00:00:00.000Z" }, "US");
    const quo = parseOpenPhoneContact({ id: "c1", firstName: "Hana", lastName: "Rossi", company: "Rossi Design", phoneNumbers: [{ value: "+16175552722", type: "phone-number" }], emails: [{ value: "hana@rossi.example", type: "email" }], updatedAt: "2026-01-01T00:00:00.000Z" }, "US");
    expect(v1).toEqual(quo);
    expect(v1.ok && v1.contact.phones).toEqual(["+16175552722"]);
    expect(v1.ok && contactLabel(v1.contact)).toBe("Hana Rossi (Rossi Design)");
  });

  it("refuses a contact without an id, with the reason", () => {
    expect(parseOpenPhoneContact({ firstName: "X" }, "US")).toEqual({ ok: false, reason: "the contact has no id" });
  });
});

describe("planning the Canvas → OpenPhone contact sync", () => {
  it("creates one contact per customer with the name split, externalId and source", () => {
    const [item] = planContactSync(input([customer("p1", "Ada Lovelace King", "+14165550001", { company: "Acme" })]));
    expect(item).toMatchObject({ action: "create", desired: { firstName: "Ada Lovelace", lastName: "King", company: "Acme", externalId: "p1", source: CONTACT_SOURCE } });
    expect(createContactBody((item as unknown as { desired: never }).desired)).toMatchObject({ defaultFields: { phoneNumbers: [{ name: "Phone", value: "+14165550001" }] }, externalId: "p1" });
  });

  it("leaves an unchanged customer alone and updates a changed one", () => {
    const c = customer("p1", "Ada King", "+14165550001");
    const hash = canonicalContact((desiredContactOf(c) as unknown as { desired: never }).desired);
    const row = { pageId: "p1", contactId: "k1", sentHash: hash, status: "created" as const, reason: null, conflict: null, items: { phones: { "+14165550001": "i1" }, emails: {} } };
    expect(planContactSync(input([c], { rows: new Map([["p1", row]]) }))[0]).toMatchObject({ action: "unchanged", contactId: "k1" });
    const edited = customer("p1", "Ada Queen", "+14165550002");
    const [update] = planContactSync(input([edited], { rows: new Map([["p1", row]]) }));
    expect(update).toMatchObject({ action: "update", contactId: "k1" });
    // The old number is removed by its id, the new one added.
    expect(updateContactBody((update as unknown as { desired: never }).desired, row.items).defaultFields.phoneNumbers).toEqual([
      { name: "Phone", value: "+14165550002" },
      { name: "removed", value: null, id: "i1" },
    ]);
  });

  it("never touches a hand-made contact with the same number, and reports it", () => {
    const [item] = planContactSync(input([customer("p1", "Ada King", "+14165550001")], { contactsByPhone: new Map([["+14165550001", [contact("h1", ["+14165550001"])]]]) }));
    expect(item).toMatchObject({ action: "conflict", contactIds: ["h1"] });
    expect((item as { conflict: string }).conflict).toContain('"Hand Made" (h1)');
  });

  it("gives two customers with one number a contact each, both reported as a conflict", () => {
    const items = planContactSync(input([customer("p1", "Ada", "+14165550001"), customer("p2", "Bob", "+14165550001")]));
    expect(items.map((i) => i.action)).toEqual(["create", "create"]);
    expect(items.every((i) => "conflict" in i && typeof i.conflict === "string" && i.conflict.includes("+14165550001"))).toBe(true);
  });

  it("skips a customer whose number cannot be read, naming the value; keeps the contact of one removed from Canvas", () => {
    const bad = customer("p1", "Ada", "", { unreadablePhones: [{ property: "Phone", raw: "call me" }] });
    const removedRow = { pageId: "gone", contactId: "k9", sentHash: "x", status: "created" as const, reason: null, conflict: null, items: null };
    const items = planContactSync(input([bad], { rows: new Map([["gone", removedRow]]) }));
    expect(items).toEqual([
      { action: "skip", pageId: "p1", title: "Ada", reason: 'the phone number "call me" (Phone) cannot be read' },
      { action: "removed", pageId: "gone", title: null, contactId: "k9", reason: "removed from Canvas; its OpenPhone contact is kept" },
    ]);
  });

  it("adopts its own contact found by externalId, but not someone else's", () => {
    const ours = contact("k1", ["+14165550001"], { externalId: "p1", source: CONTACT_SOURCE });
    expect(planContactSync(input([customer("p1", "Ada", "+14165550001")], { contactsByExternalId: new Map([["p1", ours]]) }))[0]).toMatchObject({ action: "update", contactId: "k1", items: null });
    const theirs = contact("k2", [], { externalId: "p1", source: "custom-crm" });
    expect(planContactSync(input([customer("p1", "Ada", "+14165550001")], { contactsByExternalId: new Map([["p1", theirs]]) }))[0]).toMatchObject({ action: "conflict" });
  });

  it("splits names", () => {
    expect(splitName("Cher")).toEqual({ firstName: "Cher", lastName: null });
  });
});
