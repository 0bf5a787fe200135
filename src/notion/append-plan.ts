/**
 * How a page body goes to Notion: the blocks a `pages.create` carries and the appends that follow, each within
 * Notion's request limits (100 children per array, 1000 block elements and 500 KB per request).
 *
 * Sections are kept whole where one fits a request, so a failure halfway leaves the body made of whole sections
 * and the next flush appends exactly the ones still missing. The create shares its request with the page's
 * properties, so it carries only what fits beside them; an append carries at most 100 blocks of at most
 * REQUEST_BUDGET_BYTES. A section bigger than one request was split by the mapping already (`sectionsOf`); should a
 * section still not fit, it gets a request of its own, and Notion's answer says why.
 */
import type { Block, BodySection } from "./mapping";

export const CHILDREN_PER_REQUEST = 100;
/** Bytes of JSON one request may spend on blocks and properties: Notion's 500 KB, less room for the envelope. */
export const REQUEST_BUDGET_BYTES = 450_000;

export interface PlannedRequest {
  keys: string[];
  blocks: Block[];
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a value's JSON. */
export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).length;
}

/** A block's own elements: itself and any children nested in its type object. */
function blockElements(block: Block): number {
  const children = (block[block.type] as { children?: Block[] } | undefined)?.children ?? [];
  return 1 + children.reduce((sum, child) => sum + blockElements(child), 0);
}

function fits(request: PlannedRequest & { bytes: number; elements: number }, section: BodySection, sectionBytes: number, budget: number): boolean {
  const elements = section.blocks.reduce((sum, b) => sum + blockElements(b), 0);
  return request.blocks.length + section.blocks.length <= CHILDREN_PER_REQUEST && request.bytes + sectionBytes <= budget && request.elements + elements <= 1000;
}

/**
 * Groups pending sections into requests. The first request is the create's when `createPropertiesBytes` is given:
 * it carries the sections that fit beside the properties (possibly none). Every other request is an append.
 */
export function planBodyRequests(sections: BodySection[], createPropertiesBytes?: number): { create: PlannedRequest | null; appends: PlannedRequest[] } {
  const requests: (PlannedRequest & { bytes: number; elements: number; budget: number })[] = [];
  if (createPropertiesBytes !== undefined) requests.push({ keys: [], blocks: [], bytes: 0, elements: 0, budget: Math.max(0, REQUEST_BUDGET_BYTES - createPropertiesBytes) });
  for (const section of sections) {
    const bytes = jsonBytes(section.blocks) + 1;
    const elements = section.blocks.reduce((sum, b) => sum + blockElements(b), 0);
    const last = requests[requests.length - 1];
    if (last && fits(last, section, bytes, last.budget)) {
      last.keys.push(section.key);
      last.blocks.push(...section.blocks);
      last.bytes += bytes;
      last.elements += elements;
    } else {
      requests.push({ keys: [section.key], blocks: [...section.blocks], bytes, elements, budget: REQUEST_BUDGET_BYTES });
    }
  }
  const strip = (r: PlannedRequest): PlannedRequest => ({ keys: r.keys, blocks: r.blocks });
  if (createPropertiesBytes === undefined) return { create: null, appends: requests.map(strip) };
  const [create, ...appends] = requests;
  return { create: strip(create!), appends: appends.map(strip) };
}
