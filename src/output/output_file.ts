/**
 * A file the agent appends its lines to (`OUTPUT_FILE`, `DEAD_LETTER_FILE`):
 * repaired at open, synced on request, reopened after rotation.
 *
 * @module
 */

import type { Output } from "./sink.ts";

/** Options for {@linkcode OutputFile}. */
export interface OutputFileOptions {
  /** The setting that names the file, for messages, e.g. `OUTPUT_FILE`. */
  setting: string;
}

/**
 * An append-only file of lines. Opening it removes a torn last line (one
 * that does not end in `"\n"`): a write cut short, by a crash or a full
 * disk, whose message was therefore never acknowledged and comes again
 * from the broker.
 */
export class OutputFile implements Output {
  /** The file's path. */
  readonly path: string;
  /** The setting that names the file. */
  readonly setting: string;
  /** How many bytes of a torn last line opening the file removed. */
  readonly removedBytes: number;
  #file: Deno.FsFile;
  #regular: boolean;
  // Opened with the file, while reading is allowed: a file created at open
  // or reopen is durable only once its folder is synced too.
  #folder: Deno.FsFile | undefined;

  /** Opens `path` for appending, creating it, and removes a torn last line. */
  constructor(path: string, options: OutputFileOptions) {
    this.path = path;
    this.setting = options.setting;
    try {
      this.removedBytes = removeTornLine(path);
      this.#file = Deno.openSync(path, { append: true, create: true });
      this.#regular = this.#file.statSync().isFile;
      if (this.#regular) this.#folder = openFolder(path);
      this.#syncFolder();
    } catch (error) {
      throw new Error(
        `Cannot open ${this.setting} "${path}": ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Appends `bytes`; may write fewer, as `Deno.FsFile.write` does. */
  write(bytes: Uint8Array): Promise<number> {
    return this.#file.write(bytes);
  }

  /** fdatasync: what was written survives a power cut. A no-op for a device or pipe. */
  async syncData(): Promise<void> {
    if (this.#regular) await this.#file.syncData();
  }

  /**
   * Opens the path again, for a file that was rotated away, and closes the
   * old one. It needs only the write permission the agent keeps: the new
   * file is taken to be of the same kind (a stat needs read).
   */
  reopen(): void {
    const file = Deno.openSync(this.path, { append: true, create: true });
    this.#file.close();
    this.#file = file;
    this.#syncFolder();
  }

  #syncFolder(): void {
    try {
      this.#folder?.syncSync();
    } catch {
      // Some file systems cannot sync a folder; the file's own sync stands.
    }
  }

  /** Closes the file. */
  close(): void {
    for (const file of [this.#file, this.#folder]) {
      try {
        file?.close();
      } catch {
        // already closed
      }
    }
    this.#folder = undefined;
  }
}

// The folder that holds `path`, open for syncing; undefined where a folder
// cannot be opened.
function openFolder(path: string): Deno.FsFile | undefined {
  const slash = path.lastIndexOf("/");
  const folder = slash === -1 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  try {
    return Deno.openSync(folder, { read: true });
  } catch {
    return undefined;
  }
}

// Cuts a regular file back to its last "\n" and returns how many bytes that
// removed; 0 for a missing, empty or non-regular file.
function removeTornLine(path: string): number {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true, write: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  try {
    const { isFile, size } = file.statSync();
    if (!isFile || size === 0) return 0;
    const buffer = new Uint8Array(64 * 1024);
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - buffer.byteLength);
      const chunk = buffer.subarray(0, end - start);
      file.seekSync(start, Deno.SeekMode.Start);
      for (let read = 0; read < chunk.byteLength;) {
        read += file.readSync(chunk.subarray(read)) ?? chunk.byteLength;
      }
      const newline = chunk.lastIndexOf(10);
      if (newline !== -1) {
        const keep = start + newline + 1;
        if (keep < size) file.truncateSync(keep);
        return size - keep;
      }
      end = start;
    }
    file.truncateSync(0);
    return size;
  } finally {
    file.close();
  }
}
