/** OpenPhone-style identifiers (`AC…`, `PN…`, `US…`), drawn from the emulator's seeded random source. */
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

export function randomId(random: () => number, prefix: string, length = 30): string {
  let id = prefix;
  for (let i = 0; i < length; i++) id += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return id;
}

/** 24 hex characters, the shape of contact ids. */
export function hexId(random: () => number, length = 24): string {
  let id = "";
  for (let i = 0; i < length; i++) id += Math.floor(random() * 16).toString(16);
  return id;
}
