/** Texts: list per conversation, get, send (202, then "delivered" and its webhook a moment later). */
import { ApiError } from "../error-envelope.ts";
import { buildMessage } from "../message-builder.ts";
import { inCreatedWindow, paginate } from "../pagination.ts";
import type { ApiHandler } from "./context.ts";

export const listMessages: ApiHandler = ({ store, query }) => {
  const line = store.line(query.phoneNumberId as string);
  if (!line) throw new ApiError(404, `Phone number ${String(query.phoneNumberId)} not found`);
  const wanted = [...new Set(query.participants as string[])].sort().join(",");
  const matching = [...store.messages.values()]
    .map((r) => r.message)
    .filter((m) => {
      if (m.phoneNumberId !== line.id) return false;
      const external = [...new Set([m.from, ...m.to].filter((n) => n !== line.number))].sort().join(",");
      return external === wanted && (query.userId === undefined || m.userId === query.userId) && inCreatedWindow(m.createdAt, query);
    });
  return { status: 200, body: paginate(matching, { maxResults: query.maxResults as number, pageToken: query.pageToken as string | undefined, key: (m) => `${m.createdAt}|${m.id}`, descending: true }) };
};

export const getMessageById: ApiHandler = ({ store, path }) => {
  const record = store.messages.get(path.id!);
  if (!record) throw new ApiError(404, `Message ${path.id} not found`);
  return { status: 200, body: { data: record.message } };
};

interface SendBody {
  content: string;
  from?: string;
  phoneNumberId?: string;
  to: string[];
  userId?: string;
}

export const sendMessage: ApiHandler = ({ store, scheduler, config, body, now }) => {
  const request = body as SendBody;
  const fromValue = request.from ?? request.phoneNumberId;
  if (!fromValue) throw new ApiError(400, "from is required", [{ path: "body.from", message: "from is required", schema: { type: "string" } }]);
  const line = store.lineByNumberOrId(fromValue);
  if (!line) throw new ApiError(403, `${fromValue} is not a phone number of this workspace`);
  const to = request.to[0]!;
  if (!to.startsWith("+1") && line.restrictions.messaging.Intl === "restricted") throw new ApiError(403, `International messaging is disabled for ${line.number}`);
  if (request.userId && !store.workspace.users.some((u) => u.id === request.userId)) throw new ApiError(404, `User ${request.userId} not found`);
  const record = buildMessage(store, { phoneNumberId: line.id, participant: to, alsoTo: [], direction: "outgoing", text: request.content, media: 0, status: "queued", userId: request.userId }, new Date(now));
  store.addMessage(record);
  scheduler.planMessage(record, { deliverAfterMs: config.eventGapsMs.messageDelivered / config.timeFactor });
  return { status: 202, body: { data: { ...record.message } } };
};
