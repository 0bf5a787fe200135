/**
 * The workspace a real user would already have (`--demo-data`): a **Canvas** database of customers built from the
 * shared roster, with their numbers typed the way people type them, and a **Mail** database of emails whose
 * Canvas relation is still empty. Deterministic for a seed.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js";
import { createRandom, generateRoster, inDemoCanvas, pick, type RosterPerson, SANDBOX_ROSTER_SIZE } from "../shared/roster.ts";
import { createPage } from "./pages.ts";
import type { Workspace } from "./workspace.ts";

export interface DemoDatabase {
  databaseId: string;
  dataSourceId: string;
}

export interface DemoWorkspace {
  canvas: DemoDatabase;
  mail: DemoDatabase;
  /** Roster indexes of the people who have a Canvas page (everyone but every 7th). */
  canvasRosterIndexes: number[];
}

/**
 * The Worker settings that point the sync at the demo Canvas and Mail databases: where customers' phones, e-mail
 * addresses and names are, and where a mail's addresses and its Canvas relation are.
 */
export function demoWorkerSettings(workspace: { canvas?: { databaseId: string }; mail?: { databaseId: string } }): Record<string, string> {
  return {
    ...(workspace.canvas
      ? { NOTION_CANVAS_DATABASE_ID: workspace.canvas.databaseId, CANVAS_PHONE_PROPERTIES: "Phone, Other phones", CANVAS_EMAIL_PROPERTIES: "Email", CANVAS_TITLE_PROPERTY: "Name" }
      : {}),
    ...(workspace.mail ? { NOTION_MAIL_DATABASE_ID: workspace.mail.databaseId, MAIL_ADDRESS_PROPERTIES: "From, To", MAIL_CANVAS_RELATION_PROPERTY: "Canvas" } : {}),
  };
}

const text = (content: string) => [{ type: "text", text: { content } }];
const OUR_ADDRESS = "team@sandbox-company.example";
const SUBJECTS = ["Quote for the spring job", "Re: invoice 1042", "Scheduling next week", "Question about your estimate", "Contract draft", "Thanks for the call", "Photos from the site", "Follow-up on our conversation"];
const STRANGERS = ["newsletter@vendor.example", "billing@saas-tool.example", "jamie.lee@unknown-client.example", "noreply@calendar.example"];

/** The main number as a person might have typed it; the format rotates through the roster. */
export function typedPhone(e164: string, index: number): string {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return e164;
  if (parsed.countryCallingCode !== "1") return parsed.formatInternational(); // e.g. +44 20 7946 0958
  const national = parsed.nationalNumber;
  const [area, prefix, line] = [national.slice(0, 3), national.slice(3, 6), national.slice(6)];
  switch (index % 6) {
    case 0:
      return `(${area}) ${prefix}-${line}`;
    case 1:
      return `${area}.${prefix}.${line}`;
    case 2:
      return `+1 ${area} ${prefix} ${line}`;
    case 3:
      return `${area}-${prefix}-${line} x${10 + (index % 30)}`;
    case 4:
      return e164;
    default:
      return `${area}-${prefix}-${line}`;
  }
}

function canvasProperties(person: RosterPerson): Record<string, unknown> {
  const name = `${person.firstName} ${person.lastName}`;
  // Every ninth customer has the number only in the free-text field, as people do.
  const phoneOnlyInText = person.index % 9 === 4;
  const main = typedPhone(person.phone, person.index);
  const others: string[] = [];
  if (person.secondPhone) others.push(`cell ${typedPhone(person.secondPhone, person.index + 1)}`, `office ${typedPhone(person.phone, person.index + 2)}`);
  if (phoneOnlyInText) others.unshift(main);
  const email = person.index % 5 === 2 ? person.email.replace(/^./, (c) => c.toUpperCase()).replace("@example.com", "@Example.com") : person.email;
  return {
    Name: { title: text(name) },
    Phone: { phone_number: phoneOnlyInText ? null : main },
    "Other phones": { rich_text: others.length > 0 ? text(others.join("; ")) : [] },
    Email: { email },
    Company: { rich_text: text(person.company) },
  };
}

export function buildDemoData(ws: Workspace, seed: number): DemoWorkspace {
  const random = createRandom(seed ^ 0xdead);
  const canvasDb = ws.createDatabase("demo.canvas", {
    parentPageId: ws.rootPageId,
    title: text("Canvas"),
    description: undefined,
    isInline: false,
    properties: {
      Name: { title: {} },
      Phone: { phone_number: {} },
      "Other phones": { rich_text: {} },
      Email: { email: {} },
      Company: { rich_text: {} },
    },
  });
  const canvas = { databaseId: canvasDb.id, dataSourceId: canvasDb.dataSourceIds[0]! };
  const mailDb = ws.createDatabase("demo.mail", {
    parentPageId: ws.rootPageId,
    title: text("Mail"),
    description: undefined,
    isInline: false,
    properties: {
      Subject: { title: {} },
      From: { email: {} },
      To: { rich_text: {} },
      Date: { date: {} },
      Canvas: { relation: { data_source_id: canvas.dataSourceId, dual_property: {} } },
    },
  });
  const mail = { databaseId: mailDb.id, dataSourceId: mailDb.dataSourceIds[0]! };
  // The Canvas side of the two-way relation, named as a user would name it.
  const mirror = ws.dataSource(canvas.dataSourceId).properties.find((p) => p.type === "relation");
  if (mirror) ws.updateDataSource("demo", canvas.dataSourceId, { properties: { [mirror.name]: { name: "Mail" } } });

  const roster = generateRoster(seed, SANDBOX_ROSTER_SIZE);
  const canvasRosterIndexes: number[] = [];
  for (const person of roster) {
    if (!inDemoCanvas(person)) continue;
    createPage(ws, { parent: { data_source_id: canvas.dataSourceId }, properties: canvasProperties(person) });
    canvasRosterIndexes.push(person.index);
  }

  const start = Date.UTC(2026, 0, 5, 9, 0, 0);
  for (let i = 0; i < 30; i++) {
    const stranger = random() < 0.25;
    const person = pick(random, roster);
    const address = stranger ? pick(random, STRANGERS) : random() < 0.2 ? person.email.toUpperCase() : person.email;
    const inbound = random() < 0.6;
    const to = inbound ? OUR_ADDRESS : random() < 0.3 ? `${address}, ${pick(random, roster).email}` : address;
    const date = new Date(start + i * 7 * 3_600_000 + Math.floor(random() * 3_600_000)).toISOString();
    createPage(ws, {
      parent: { data_source_id: mail.dataSourceId },
      properties: {
        Subject: { title: text(pick(random, SUBJECTS)) },
        From: { email: inbound ? address : OUR_ADDRESS },
        To: { rich_text: text(to) },
        Date: { date: { start: date } },
        Canvas: { relation: [] },
      },
    });
  }
  return { canvas, mail, canvasRosterIndexes };
}
