/**
 * Who is on the other end of a generated call or text: mostly people from the shared roster (so the sync can link
 * them to Canvas customers), sometimes a number nobody knows.
 */
import { inDemoCanvas, pick } from "../shared/roster.ts";
import type { EmulatorStore } from "./store.ts";

const UNKNOWN_AREAS = ["312", "646", "702", "917", "305"];
export const ROSTER_SHARE = 0.85;

export function pickParticipant(store: EmulatorStore): string {
  const { random } = store;
  const roster = store.workspace.roster;
  if (roster.length > 0 && random() < ROSTER_SHARE) {
    // Their main number: the one the Notion emulator's demo Canvas holds for them.
    return pick(random, roster).phone;
  }
  const known = new Set(roster.flatMap((p) => [p.phone, p.secondPhone]));
  let number: string;
  do number = `+1${pick(random, UNKNOWN_AREAS)}555${String(Math.floor(random() * 10000)).padStart(4, "0")}`;
  while (known.has(number) || store.workspace.phoneNumbers.some((l) => l.number === number));
  return number;
}

/**
 * The other people on a group text: one or two of the roster's Canvas customers besides `main`, so the sandbox shows
 * a text linked to several customers. Without a roster, numbers nobody knows.
 */
export function pickGroupMembers(store: EmulatorStore, main: string): string[] {
  const { random } = store;
  const customers = store.workspace.roster.filter((p) => inDemoCanvas(p) && p.phone !== main).map((p) => p.phone);
  const count = random() < 0.5 ? 2 : 1;
  const members: string[] = [];
  for (let i = 0; i < 20 && members.length < count; i++) {
    const next = customers.length > 0 ? pick(random, customers) : pickParticipant(store);
    if (next !== main && !members.includes(next)) members.push(next);
  }
  return members;
}
