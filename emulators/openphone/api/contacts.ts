/** Contacts: the roster people, plus whatever clients create, update and delete. */
import { ApiError } from "../error-envelope.ts";
import { hexId } from "../identifiers.ts";
import type { Contact } from "../model.ts";
import { paginate } from "../pagination.ts";
import type { EmulatorStore } from "../store.ts";
import type { ApiHandler } from "./context.ts";

type Field = { name: string; value: string | null; id?: string };
interface ContactBody {
  defaultFields?: { firstName?: string | null; lastName?: string | null; company?: string | null; role?: string | null; emails?: Field[]; phoneNumbers?: Field[] };
  customFields?: { key?: string; id?: string; value: unknown }[];
  createdByUserId?: string;
  source?: string;
  sourceUrl?: string;
  externalId?: string | null;
}

const RESERVED_SOURCES = ["openphone", "device", "csv", "zapier", "google-people", "other"];

function checkSource(source: string | undefined): void {
  if (source !== undefined && (RESERVED_SOURCES.includes(source) || source.startsWith("openphone") || source.startsWith("csv"))) {
    throw new ApiError(400, `source "${source}" is reserved`, [{ path: "body.source", message: "reserved source", value: source, schema: { type: "string" } }]);
  }
}

function findContact(store: EmulatorStore, id: string): Contact {
  const contact = store.contactById(id);
  if (!contact) throw new ApiError(404, `Contact ${id} not found`);
  return contact;
}

/** Merges fields by id; an item whose value is null is removed, as the API documents. */
function mergeFields(current: Field[], updates: Field[] | undefined, random: () => number): Field[] {
  if (!updates) return current;
  const result = [...current];
  for (const update of updates) {
    const index = update.id ? result.findIndex((f) => f.id === update.id) : -1;
    if (index >= 0 && update.value === null) result.splice(index, 1);
    else if (index >= 0) result[index] = { ...result[index]!, ...update };
    else if (update.value !== null) result.push({ name: update.name, value: update.value, id: hexId(random, 12) });
  }
  return result;
}

/**
 * The spec lets any custom field carry any of the value shapes; a value must also fit its field's type (the API
 * answers "Invalid Custom Field Item" otherwise). null clears a field of any type.
 */
function valueFits(type: string, value: unknown): boolean {
  if (value === null) return true;
  switch (type) {
    case "multi-select":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    case "boolean":
      return typeof value === "boolean";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "date":
      return typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value));
    default:
      return typeof value === "string";
  }
}

function customFieldsFor(store: EmulatorStore, items: ContactBody["customFields"], existing: Contact["customFields"]): Contact["customFields"] {
  if (!items) return existing;
  const result = [...existing];
  for (const item of items) {
    const definition = store.workspace.customFields.find((d) => d.key === item.key || existing.some((e) => e.id === item.id && e.key === d.key));
    if (!definition) throw new ApiError(400, `Unknown custom field ${item.key ?? item.id}`, [{ path: "body.customFields", message: "Invalid Custom Field Item", value: item, schema: { type: "object" } }]);
    if (!valueFits(definition.type, item.value)) {
      throw new ApiError(400, `Invalid Custom Field Item: ${definition.key} is a ${definition.type} field`, [{ path: "body.customFields", message: "Invalid Custom Field Item", value: item, schema: { type: definition.type } }]);
    }
    const next = { name: definition.name, key: definition.key, id: hexId(store.random), type: definition.type, value: item.value } as Contact["customFields"][number];
    const index = result.findIndex((e) => e.key === definition.key);
    if (index >= 0) result[index] = { ...next, id: result[index]!.id };
    else result.push(next);
  }
  return result;
}

function checkExternalId(store: EmulatorStore, externalId: string | null | undefined, self?: string): void {
  if (externalId && store.workspace.contacts.some((c) => c.externalId === externalId && c.id !== self)) throw new ApiError(409, `A contact with externalId ${externalId} exists`);
}

export const createContact: ApiHandler = ({ store, body, now }) => {
  const request = body as ContactBody;
  checkSource(request.source);
  checkExternalId(store, request.externalId);
  const stamp = new Date(now).toISOString();
  const fields = request.defaultFields ?? {};
  const contact: Contact = {
    id: hexId(store.random),
    externalId: request.externalId ?? null,
    source: request.source ?? "public-api",
    sourceUrl: request.sourceUrl ?? null,
    defaultFields: {
      firstName: fields.firstName ?? null,
      lastName: fields.lastName ?? null,
      company: fields.company ?? null,
      role: fields.role ?? null,
      emails: mergeFields([], fields.emails, store.random),
      phoneNumbers: mergeFields([], fields.phoneNumbers, store.random),
    },
    customFields: customFieldsFor(store, request.customFields, []),
    createdAt: stamp,
    updatedAt: stamp,
    createdByUserId: request.createdByUserId ?? store.owner.id,
  };
  store.workspace.contacts.push(contact);
  return { status: 201, body: { data: contact } };
};

export const listContacts: ApiHandler = ({ store, query }) => {
  const externalIds = query.externalIds as string[] | undefined;
  const sources = query.sources as string[] | undefined;
  const matching = store.workspace.contacts.filter((c) => (!externalIds || (c.externalId !== null && externalIds.includes(c.externalId))) && (!sources || (c.source !== null && sources.includes(c.source))));
  return { status: 200, body: paginate(matching, { maxResults: query.maxResults as number, pageToken: query.pageToken as string | undefined, key: (c) => `${c.createdAt}|${c.id}`, descending: false }) };
};

export const getContactById: ApiHandler = ({ store, path }) => ({ status: 200, body: { data: findContact(store, path.id!) } });

export const updateContactById: ApiHandler = ({ store, path, body, now }) => {
  const contact = findContact(store, path.id!);
  const request = body as ContactBody;
  checkSource(request.source);
  checkExternalId(store, request.externalId, contact.id);
  const fields = request.defaultFields ?? {};
  const defaults = contact.defaultFields;
  const updated: Contact = {
    ...contact,
    externalId: request.externalId !== undefined ? request.externalId : contact.externalId,
    source: request.source ?? contact.source,
    sourceUrl: request.sourceUrl ?? contact.sourceUrl,
    defaultFields: {
      firstName: fields.firstName !== undefined ? fields.firstName : defaults.firstName,
      lastName: fields.lastName !== undefined ? fields.lastName : defaults.lastName,
      company: fields.company !== undefined ? fields.company : defaults.company,
      role: fields.role !== undefined ? fields.role : defaults.role,
      emails: mergeFields(defaults.emails, fields.emails, store.random),
      phoneNumbers: mergeFields(defaults.phoneNumbers, fields.phoneNumbers, store.random),
    },
    customFields: customFieldsFor(store, request.customFields, contact.customFields),
    updatedAt: new Date(now).toISOString(),
  };
  store.workspace.contacts[store.workspace.contacts.indexOf(contact)] = updated;
  return { status: 200, body: { data: updated } };
};

export const deleteContact: ApiHandler = ({ store, path }) => {
  const contact = findContact(store, path.id!);
  store.workspace.contacts.splice(store.workspace.contacts.indexOf(contact), 1);
  return { status: 204 };
};

export const getContactCustomFields: ApiHandler = ({ store }) => ({ status: 200, body: { data: store.workspace.customFields } });
