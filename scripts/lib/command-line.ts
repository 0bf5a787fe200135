/** Reading a command's flags the same way in every script: node's parseArgs, and on a bad flag the usage and exit 2. */
import { parseArgs, type ParseArgsConfig } from "node:util";

export function parseFlags<const O extends NonNullable<ParseArgsConfig["options"]>>(options: O, usage: string) {
  try {
    return parseArgs({ options }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    process.exit(2);
  }
}
