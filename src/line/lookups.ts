/**
 * What a Line Durable Object looks up once and keeps in its storage: the Notion data source its pages are created
 * in, OpenPhone users' names and the line's own number and name.
 */
import type { Client } from "@notionhq/client";
import type { Config } from "../config";
import { resolvePageParent, type PageParent } from "../notion/pages";
import type { DatabaseKind } from "../notion/schema";
import { classifyOpenPhoneError, type OpenPhoneClient } from "../openphone/client";
import { userDisplayName } from "./enrich";
import type { LineLabel } from "./flush";
import type { LineStorage } from "./storage";

const LINE_INFO_MAX_AGE_MS = 24 * 3_600_000;

/** A 404 means "there is none"; anything else is the caller's problem. */
export function notFoundAsUndefined(error: unknown): undefined {
  if (classifyOpenPhoneError(error).kind === "not_found") return undefined;
  throw error;
}

export class LineLookups {
  private readonly parents = new Map<string, Promise<PageParent>>();

  constructor(private readonly store: LineStorage) {}

  pageParent(kind: DatabaseKind, config: Config, notion: Client): Promise<PageParent> {
    const databaseId = (kind === "calls" ? config.NOTION_CALLS_DATABASE_ID : config.NOTION_MESSAGES_DATABASE_ID) ?? "";
    const key = `parent:${config.NOTION_VERSION}:${databaseId}`;
    let parent = this.parents.get(key);
    if (!parent) {
      const stored = this.store.lineInfo(key, Number.POSITIVE_INFINITY, Date.now());
      parent = stored
        ? Promise.resolve(JSON.parse(stored) as PageParent)
        : resolvePageParent(notion, databaseId, config.NOTION_VERSION).then((resolved) => {
            this.store.putLineInfo(key, JSON.stringify(resolved), Date.now());
            return resolved;
          });
      parent.catch(() => this.parents.delete(key));
      this.parents.set(key, parent);
    }
    return parent;
  }

  async userNames(ids: string[], openphone: OpenPhoneClient): Promise<Record<string, string>> {
    const names: Record<string, string> = {};
    for (const id of ids) {
      let name = this.store.userName(id);
      if (name === undefined) {
        const user = await openphone.request("getUserById_v1", { path: { userId: id } }).catch(notFoundAsUndefined);
        name = user ? userDisplayName(user.data) : id;
        this.store.putUserName(id, name, Date.now());
      }
      names[id] = name;
    }
    return names;
  }

  async lineLabel(lineId: string | undefined, openphone: OpenPhoneClient): Promise<LineLabel> {
    if (!lineId) return {};
    const key = `line:${lineId}`;
    const cached = this.store.lineInfo(key, LINE_INFO_MAX_AGE_MS, Date.now());
    if (cached) return JSON.parse(cached) as LineLabel;
    const phone = await openphone.request("getPhoneNumberById_v1", { path: { phoneNumberId: lineId } }).catch(notFoundAsUndefined);
    const label: LineLabel = phone ? { label: phone.data.name ? `${phone.data.name} (${phone.data.number})` : phone.data.number, number: phone.data.number } : { label: lineId };
    this.store.putLineInfo(key, JSON.stringify(label), Date.now());
    return label;
  }

  /** The line's own number, when it has been looked up already. */
  cachedLineNumber(lineId: string | undefined): string | undefined {
    const cached = lineId ? this.store.lineInfo(`line:${lineId}`, Number.POSITIVE_INFINITY, Date.now()) : undefined;
    return cached ? (JSON.parse(cached) as LineLabel).number : undefined;
  }
}
