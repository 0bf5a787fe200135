/**
 * Content blocks in requests (page `children`, append) with Notion's limits: 100 blocks per array, two levels of
 * nesting below the top level, 1000 block elements per payload; and blocks as `GET /v1/blocks/...` answers them.
 */
import { bodyInvalid, mustBeDefined, notPresent, validationError } from "./errors.ts";
import { type BlockRecord, isoMinute } from "./model.ts";
import { checkLength, expectArray, expectObject, expectString, MAX_URL, parseRichText } from "./rich-text.ts";

const TEXT_BLOCKS = ["paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item", "quote", "toggle", "to_do", "callout", "code"];
const MEDIA_BLOCKS = ["audio", "image", "video", "file", "pdf"];
const URL_BLOCKS = ["embed", "bookmark"];
const EMPTY_BLOCKS = ["divider", "table_of_contents", "breadcrumb"];
export const BLOCK_TYPES = [...TEXT_BLOCKS, ...MEDIA_BLOCKS, ...URL_BLOCKS, ...EMPTY_BLOCKS];
const NESTABLE = new Set(["paragraph", "bulleted_list_item", "numbered_list_item", "quote", "toggle", "to_do", "callout", "heading_1", "heading_2", "heading_3"]);

/** Levels below the top-level blocks of one request that may still hold children (the SDK's three request tiers). */
const MAX_NESTING = 2;
export const MAX_BLOCKS_PER_PAYLOAD = 1000;

export interface ParsedBlock {
  type: string;
  content: Record<string, unknown>;
  children: ParsedBlock[];
}

/** Parses a `children` array; `counter.count` collects the number of block elements for the payload limit. */
export function parseBlocks(path: string, raw: unknown, depth: number, counter: { count: number }): ParsedBlock[] {
  const blocks = expectArray(path, raw).map((item, index) => parseBlock(`${path}[${index}]`, item, depth, counter));
  if (depth === 0 && counter.count > MAX_BLOCKS_PER_PAYLOAD) {
    throw validationError(`body failed validation: ${path} should hold at most \`${MAX_BLOCKS_PER_PAYLOAD}\` block elements in one request, instead was \`${counter.count}\`.`);
  }
  return blocks;
}

function parseBlock(path: string, raw: unknown, depth: number, counter: { count: number }): ParsedBlock {
  const block = expectObject(path, raw);
  const type = typeof block.type === "string" ? block.type : BLOCK_TYPES.find((t) => block[t] !== undefined);
  if (!type || !BLOCK_TYPES.includes(type)) {
    throw validationError(`body failed validation: ${path} should be a block of one of the types ${BLOCK_TYPES.join(", ")}, instead was \`${JSON.stringify(block).slice(0, 100)}\`.`);
  }
  counter.count++;
  const at = `${path}.${type}`;
  if (block[type] === undefined) throw mustBeDefined(at);
  const body = expectObject(at, block[type]);
  if (block.children !== undefined) throw notPresent(`${path}.children`, block.children);
  let children: ParsedBlock[] = [];
  if (body.children !== undefined) {
    if (!NESTABLE.has(type) || depth >= MAX_NESTING) throw notPresent(`${at}.children`, body.children);
    children = expectArray(`${at}.children`, body.children).map((child, i) => parseBlock(`${at}.children[${i}]`, child, depth + 1, counter));
  }
  return { type, content: parseContent(at, type, body), children };
}

/** Parses a block's type object (without children); also used by `PATCH /v1/blocks/{id}`. */
export function parseContent(path: string, type: string, body: Record<string, unknown>): Record<string, unknown> {
  if (TEXT_BLOCKS.includes(type)) {
    const content: Record<string, unknown> = { rich_text: parseRichText(`${path}.rich_text`, body.rich_text), color: body.color === undefined ? "default" : expectString(`${path}.color`, body.color) };
    if (type === "to_do") {
      if (body.checked !== undefined && typeof body.checked !== "boolean") throw bodyInvalid(`${path}.checked`, "should be a boolean", body.checked);
      content.checked = body.checked ?? false;
    }
    if (type.startsWith("heading_")) content.is_toggleable = body.is_toggleable === true;
    if (type === "callout") content.icon = body.icon ?? { type: "emoji", emoji: "💡" };
    if (type === "code") content.language = body.language === undefined ? "plain text" : expectString(`${path}.language`, body.language);
    return content;
  }
  const caption = body.caption === undefined ? [] : parseRichText(`${path}.caption`, body.caption);
  if (MEDIA_BLOCKS.includes(type)) {
    const content: Record<string, unknown> = { caption };
    if (body.external !== undefined) {
      const url = expectString(`${path}.external.url`, expectObject(`${path}.external`, body.external).url);
      checkLength(`${path}.external.url`, url, MAX_URL);
      Object.assign(content, { type: "external", external: { url } });
    } else if (body.file_upload !== undefined) {
      throw validationError(`body failed validation: ${path}.file_upload refers to a file upload this emulator does not hold; use \`external\`.`);
    } else {
      throw mustBeDefined(`${path}.external`);
    }
    if (type === "file" && body.name !== undefined) content.name = expectString(`${path}.name`, body.name);
    return content;
  }
  if (URL_BLOCKS.includes(type)) {
    const url = expectString(`${path}.url`, body.url);
    checkLength(`${path}.url`, url, MAX_URL);
    return { url, caption };
  }
  return {};
}

/** A block as the API answers it. `parent` says whether the block hangs off a page or another block. */
export function serializeBlock(block: BlockRecord, parent: { type: "page_id"; page_id: string } | { type: "block_id"; block_id: string }, botId: string): Record<string, unknown> {
  return {
    object: "block",
    id: block.id,
    parent,
    created_time: isoMinute(block.createdTime),
    last_edited_time: isoMinute(block.lastEditedTime),
    created_by: { object: "user", id: botId },
    last_edited_by: { object: "user", id: botId },
    has_children: block.childIds.length > 0,
    archived: block.archived,
    in_trash: block.archived,
    type: block.type,
    [block.type]: block.content,
  };
}
