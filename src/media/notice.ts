/**
 * The note a call or text page shows while some of its media could not be copied into R2: one callout block, at the
 * end of the page, naming each missing file and why. The link to it is already on the page and never changes, so
 * once a retry stores the file the note is simply removed and the player starts working.
 *
 * Pure: from the files that are unavailable (and how the page names them) to the block, or to nothing.
 */
import { richText, type Block } from "../notion/mapping";

export interface UnavailableMedia {
  /** How the page names the file: "Recording 2", "Voicemail", "Attachment 1". */
  label: string;
  reason: string;
  /** The sync will try this file again by itself (false once its retries are used up). */
  retrying: boolean;
}

/** The callout's text, or null when every file is stored (then there is no note). */
export function mediaNoticeText(items: ReadonlyArray<UnavailableMedia>): string | null {
  if (items.length === 0) return null;
  const lines = items.map(
    (item) => `${item.label} is unavailable: it could not be copied from OpenPhone (${item.reason.replace(/[.\s]+$/, "")}).${item.retrying ? "" : " The sync has stopped retrying it."}`,
  );
  const one = items.length === 1;
  const closing = items.some((item) => item.retrying)
    ? `The sync tries again automatically; this note disappears once the ${one ? "file is" : "files are"} stored, and ${one ? "its link" : "their links"} then ${one ? "plays" : "play"}.`
    : `An operator can try again with POST /admin/media/retry {"all": true}; this note disappears once the ${one ? "file is" : "files are"} stored.`;
  return [...lines, closing].join("\n");
}

export function mediaNoticeBlock(text: string): Block {
  return { type: "callout", callout: { rich_text: richText(text), icon: { type: "emoji", emoji: "⚠️" }, color: "yellow_background" } };
}
