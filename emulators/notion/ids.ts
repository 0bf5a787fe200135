/**
 * Notion ids: UUIDs, accepted with or without dashes and always answered with dashes. The emulator draws them from a
 * seeded generator so the demo workspace has the same ids on every start (the sandbox configures the Worker with them).
 */
import { createRandom, type SeededRandom } from "../shared/roster.ts";

const HEX32 = /^[0-9a-f]{32}$/;

/** The dashed form of a Notion id, or null when the text is not one. */
export function normalizeId(raw: string): string | null {
  const hex = raw.trim().toLowerCase().replace(/-/g, "");
  if (!HEX32.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class IdSource {
  private readonly random: SeededRandom;

  /** `resumeAt`: the `state` of an earlier source, so a restored workspace goes on without repeating an id. */
  constructor(seed: number, resumeAt?: number) {
    this.random = createRandom(resumeAt ?? seed ^ 0x1d5);
  }

  /** Where the generator stands (saved with the workspace). */
  get state(): number {
    return this.random.state;
  }

  /** A version-4-shaped UUID. */
  uuid(): string {
    let hex = "";
    for (let i = 0; i < 32; i++) hex += Math.floor(this.random() * 16).toString(16);
    const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
    return normalizeId(`${hex.slice(0, 12)}4${hex.slice(13, 16)}${variant}${hex.slice(17)}`)!;
  }

  /** A short property id, like the ones Notion gives schema properties. */
  propertyId(): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let id = "";
    for (let i = 0; i < 4; i++) id += alphabet[Math.floor(this.random() * alphabet.length)];
    return id;
  }
}
