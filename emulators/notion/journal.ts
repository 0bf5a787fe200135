/**
 * One API request as `GET /_emulator/requests` lists it: the JSON body of a write, the status answered. No imports,
 * so the workerd tests that read the journal take this type without the emulator's Node modules.
 */
export interface JournalEntry {
  operation: string;
  method: string;
  path: string;
  status: number;
  body: unknown;
}
