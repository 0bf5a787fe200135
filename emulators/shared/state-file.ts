/**
 * An emulator's state kept in one JSON file, so a sandbox started with `--persist` comes back with the same calls,
 * texts, pages and id generators (ids never repeat, remembered page ids stay valid). Writes are debounced after a
 * change and atomic (a temporary file renamed over the old one), so a crash leaves the previous whole snapshot, never
 * half of one; `flush()` writes synchronously on the way out.
 */
import fs from "node:fs";
import path from "node:path";

export interface StateFileOptions {
  /** How long after the first unsaved change the snapshot is written. */
  debounceMs?: number;
  /** Where a failed write is reported (a sandbox that cannot save must say so). */
  onError?: (error: unknown) => void;
}

export class StateFile<T> {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private readonly debounceMs: number;
  private readonly onError: (error: unknown) => void;

  constructor(
    readonly file: string,
    private readonly snapshot: () => T,
    options: StateFileOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 1000;
    this.onError = options.onError ?? ((error) => console.error(`could not save emulator state to ${file}:`, error));
  }

  /** The saved snapshot, or undefined when there is none yet. A file that is not valid JSON is an error, not a reset. */
  static read<T>(file: string): T | undefined {
    if (!fs.existsSync(file)) return undefined;
    const text = fs.readFileSync(file, "utf8");
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new Error(`${file} is not a valid state snapshot (${error instanceof Error ? error.message : String(error)}); move it away to start empty`);
    }
  }

  /** Something changed: write within `debounceMs`. */
  changed(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Writes now if anything changed since the last write. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    try {
      writeAtomically(this.file, JSON.stringify(this.snapshot()));
    } catch (error) {
      this.dirty = true;
      this.onError(error);
    }
  }
}

function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}
