/** The whole workspace as JSON (`GET /_emulator/dump`), in 2025-09-03 shapes, for tests and for looking inside. */
import { serializeChild, serializeDatabase, serializeDataSource, serializePage } from "./serialize.ts";
import type { Workspace } from "./workspace.ts";

const VERSION = "2025-09-03";

/** A page's or block's children, nested, as block objects with a `children` array. */
export function contentOf(ws: Workspace, holderId: string): Record<string, unknown>[] {
  const holder = ws.pages.get(holderId) ?? ws.blocks.get(holderId);
  if (!holder) return [];
  return holder.childIds
    .filter((id) => ws.blocks.has(id) && !ws.blocks.get(id)!.archived)
    .map((id) => ({ ...serializeChild(ws, id, holderId), children: contentOf(ws, id) }));
}

export function dumpWorkspace(ws: Workspace): Record<string, unknown> {
  return {
    databases: [...ws.databases.values()].map((db) => serializeDatabase(ws, db, VERSION)),
    dataSources: [...ws.dataSources.values()].map((ds) => serializeDataSource(ws, ds)),
    pages: [...ws.pages.values()].map((page) => ({ ...serializePage(ws, page, VERSION), content: contentOf(ws, page.id) })),
  };
}
