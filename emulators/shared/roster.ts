/**
 * The sandbox's cast of customers, shared by both emulators so they describe the same world: the OpenPhone emulator
 * makes them contacts and call/text participants, the Notion emulator's demo Canvas holds most of them as customer
 * pages (their numbers typed in assorted formats). Deterministic for a seed.
 */

/** A seeded random source whose position can be saved: `createRandom(r.state)` continues where `r` stands. */
export type SeededRandom = (() => number) & { readonly state: number };

/** A small, fast, seedable PRNG (mulberry32). */
export function createRandom(seed: number): SeededRandom {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.defineProperty(next, "state", { get: () => a, enumerable: true }) as SeededRandom;
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

const FIRST = ["Ada", "Ben", "Chloé", "Dmitri", "Elena", "Farah", "Gus", "Hana", "Ivan", "Jonas", "Keiko", "Liam", "Maya", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë"];
const LAST = ["Abbott", "Brennan", "Castillo", "Dubois", "Eriksen", "Fujita", "García", "Haddad", "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Müller", "Nakamura", "O'Neil", "Petrov", "Quispe", "Rossi", "Schmidt", "Tanaka", "Ulrich", "Varga", "Walsh", "Xu", "Yilmaz", "Zimmermann"];
const COMPANY = ["Acme Dental", "Bright Roofing", "Cobalt Legal", "Delta Logistics", "Evergreen Realty", "Fjord Studio", "Granite Builders", "Harbor Clinic", "Indigo Events", "Juniper Cafe"];
/** Area codes that libphonenumber accepts as valid US/CA numbers. */
const AREA = ["212", "305", "312", "415", "503", "617", "646", "702", "720", "808", "917", "416", "604"];
const INTERNATIONAL = ["+442079460958", "+33142685300", "+4930901820", "+61293744000", "+81335899900"];

export interface RosterPerson {
  /** Stable index within the roster. */
  index: number;
  firstName: string;
  lastName: string;
  company: string;
  /** The customer's main number, E.164. */
  phone: string;
  /** A second number for some people, E.164. */
  secondPhone?: string;
  email: string;
}

/** `count` distinct people for `seed`. The same seed always yields the same people in the same order. */
export function generateRoster(seed: number, count: number): RosterPerson[] {
  const random = createRandom(seed ^ 0x5eed);
  const used = new Set<string>();
  const people: RosterPerson[] = [];
  for (let index = 0; index < count; index++) {
    const firstName = pick(random, FIRST);
    const lastName = pick(random, LAST);
    let phone: string;
    do {
      phone = index % 12 === 11 ? pick(random, INTERNATIONAL).slice(0, -2) + String(Math.floor(random() * 90) + 10) : `+1${pick(random, AREA)}555${String(Math.floor(random() * 10000)).padStart(4, "0")}`;
    } while (used.has(phone));
    used.add(phone);
    let secondPhone: string | undefined;
    if (random() < 0.2) {
      do secondPhone = `+1${pick(random, AREA)}555${String(Math.floor(random() * 10000)).padStart(4, "0")}`;
      while (used.has(secondPhone));
      used.add(secondPhone);
    }
    const email = `${firstName}.${lastName}${index}@example.com`
      .toLowerCase()
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9.@]/g, "");
    people.push({ index, firstName, lastName, company: pick(random, COMPANY), phone, secondPhone, email });
  }
  return people;
}

/** The roster both emulators use in the sandbox unless told otherwise. */
/** Whether the Notion emulator's demo Canvas holds this person (every seventh one is left out, an unknown caller). */
export function inDemoCanvas(person: RosterPerson): boolean {
  return person.index % 7 !== 6;
}

export const SANDBOX_SEED = 42;
export const SANDBOX_ROSTER_SIZE = 40;
