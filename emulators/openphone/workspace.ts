/**
 * The workspace the emulator starts with: an organisation, its users, its lines (phone numbers) and the shared
 * roster as contacts. Deterministic for a seed, so the sandbox, the tests and the Notion emulator's demo Canvas all
 * describe the same people.
 */
import { createRandom, generateRoster, pick, type RosterPerson } from "../shared/roster.ts";
import { hexId, randomId } from "./identifiers.ts";
import type { Contact, ContactCustomField, PhoneNumber, User } from "./model.ts";

export interface WorkspaceOptions {
  seed: number;
  lines: number;
  users: number;
  rosterSeed: number;
  rosterSize: number;
}

export interface Workspace {
  orgId: string;
  users: User[];
  phoneNumbers: PhoneNumber[];
  contacts: Contact[];
  customFields: ContactCustomField[];
  roster: RosterPerson[];
}

const TEAM = [
  ["Alex", "Morgan"],
  ["Sam", "Rivera"],
  ["Jamie", "Chen"],
  ["Robin", "Okafor"],
  ["Kai", "Lindberg"],
  ["Noor", "Haddad"],
] as const;
const LINE_NAMES = ["Main line", "Sales", "Support", "Billing", "Field team", "After hours"];
const LINE_SYMBOLS = ["📞", "💼", "🛠️", "💳", "🚚", "🌙"];
const LINE_AREAS = ["415", "212", "312", "617", "720", "503"];

export const CUSTOM_FIELDS: ContactCustomField[] = [
  { name: "Customer since", key: "customer-since", type: "date" },
  { name: "Tier", key: "tier", type: "multi-select" },
  { name: "Account value", key: "account-value", type: "number" },
];

function formatNational(e164: string): string {
  const digits = e164.slice(2);
  return `(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`;
}

export function generateWorkspace(options: WorkspaceOptions, createdAt: Date): Workspace {
  const random = createRandom(options.seed ^ 0x0ff1ce);
  const stamp = createdAt.toISOString();
  const orgId = randomId(random, "OR", 10);
  const users: User[] = [];
  for (let i = 0; i < Math.max(1, options.users); i++) {
    const [firstName, lastName] = TEAM[i % TEAM.length]!;
    users.push({
      id: randomId(random, "US", 10),
      email: `${firstName}.${lastName}${i >= TEAM.length ? i : ""}@example.com`.toLowerCase(),
      firstName,
      lastName,
      pictureUrl: null,
      role: i === 0 ? "owner" : i === 1 ? "admin" : "member",
      createdAt: stamp,
      updatedAt: stamp,
    });
  }
  const roster = generateRoster(options.rosterSeed, options.rosterSize);
  const taken = new Set(roster.flatMap((p) => [p.phone, p.secondPhone ?? ""]));
  const phoneNumbers: PhoneNumber[] = [];
  for (let i = 0; i < Math.max(1, options.lines); i++) {
    let number: string;
    let attempt = 0;
    do number = `+1${LINE_AREAS[i % LINE_AREAS.length]}555${String(100 + i * 7 + attempt++).padStart(4, "0")}`;
    while (taken.has(number));
    taken.add(number);
    const groupId = randomId(random, "GR", 10);
    const members = [users[i % users.length]!, ...(users.length > 1 && i === 0 ? [users[1]!] : [])];
    phoneNumbers.push({
      id: randomId(random, "PN", 10),
      groupId,
      portRequestId: null,
      formattedNumber: formatNational(number),
      forward: null,
      name: LINE_NAMES[i % LINE_NAMES.length]! + (i >= LINE_NAMES.length ? ` ${i + 1}` : ""),
      number,
      portingStatus: null,
      symbol: LINE_SYMBOLS[i % LINE_SYMBOLS.length]!,
      users: members.map((u) => ({ id: u.id, email: u.email, firstName: u.firstName, lastName: u.lastName, role: u.role, groupId })),
      createdAt: stamp,
      updatedAt: stamp,
      restrictions: {
        calling: { US: "unrestricted", CA: "unrestricted", Intl: i === 0 ? "unrestricted" : "restricted" },
        messaging: { US: "unrestricted", CA: "unrestricted", Intl: "restricted" },
      },
    });
  }
  // One minute apart, in roster order, so lists sorted by creation follow the roster.
  const contacts = roster.map((person, i) => contactFromPerson(random, person, users[0]!.id, new Date(createdAt.getTime() - (roster.length - i) * 60_000).toISOString()));
  return { orgId, users, phoneNumbers, contacts, customFields: CUSTOM_FIELDS, roster };
}

function contactFromPerson(random: () => number, person: RosterPerson, ownerId: string, stamp: string): Contact {
  const phoneNumbers = [{ name: "mobile", value: person.phone, id: hexId(random, 12) }];
  if (person.secondPhone) phoneNumbers.push({ name: "work", value: person.secondPhone, id: hexId(random, 12) });
  return {
    id: hexId(random),
    externalId: null,
    source: null,
    sourceUrl: null,
    defaultFields: {
      firstName: person.firstName,
      lastName: person.lastName,
      company: person.company,
      role: pick(random, ["Owner", "Office manager", "Buyer", null]),
      emails: [{ name: "work", value: person.email, id: hexId(random, 12) }],
      phoneNumbers,
    },
    customFields: [
      { name: "Tier", key: "tier", id: hexId(random), type: "multi-select", value: [pick(random, ["gold", "silver", "bronze"])] },
      { name: "Account value", key: "account-value", id: hexId(random), type: "number", value: Math.round(random() * 50_000) },
    ],
    createdAt: stamp,
    updatedAt: stamp,
    createdByUserId: ownerId,
  };
}
