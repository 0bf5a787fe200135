/** What test/emulators-setup.ts provides to the workers tests (types only, shared by both sides). */
export interface NotionEmulatorContext {
  url: string;
  token: string;
  /** POST {"now": ms} pins the emulator's clock, {"now": null} lets it follow real time again. */
  clockUrl: string;
  callsDatabaseId: string;
  messagesDatabaseId: string;
  messagesDataSourceId: string;
  callsDataSourceId: string;
}

export interface OpenPhoneEmulatorContext {
  url: string;
  key: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    notionEmulator: NotionEmulatorContext;
    openphoneEmulator: OpenPhoneEmulatorContext;
  }
}
