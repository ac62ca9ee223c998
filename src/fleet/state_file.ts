/**
 * A JSON document the agent keeps across restarts (under `STATE_DIRECTORY`),
 * saved so that a power cut leaves either the old version or the new one,
 * never half of each.
 *
 * The agent gives up opening files once it has started, and a rename needs
 * that right, so the document is not written to a temporary file and
 * renamed. It alternates instead between two files opened at the start,
 * `<name>.1.json` and `<name>.2.json`: each save empties the older one,
 * writes the whole document with a sequence number and syncs it to disk.
 * A save cut short leaves a file that is not JSON, and the other file
 * still holds the previous version; loading takes the newest that parses.
 *
 * @module
 */

const encoder = new TextEncoder();

interface _Slot {
  file: Deno.FsFile;
  path: string;
  /** The sequence number it holds; -1 when it holds nothing usable. */
  seq: number;
}

/** A document kept in two files in one folder; see the module's text. */
export class StateFile {
  /** Where the document is kept, for messages: `<folder>/<name>.{1,2}.json`. */
  readonly path: string;
  #slots: _Slot[];
  #closed = false;

  /**
   * Opens (or creates, owner-only) the two files of `name` in `folder`,
   * which must exist. Throws what the file system threw.
   */
  constructor(folder: string, name: string) {
    const base = `${folder.replace(/(.)\/+$/, "$1").replace(/\/$/, "")}/${name}`;
    this.path = `${base}.{1,2}.json`;
    this.#slots = [1, 2].map((n) => {
      const path = `${base}.${n}.json`;
      const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
      return { file, path, seq: -1 };
    });
  }

  /**
   * Reads the newest version saved: `undefined` when none was. Throws an
   * `Error` naming the files when both hold something that is not a saved
   * version (a file of another program, or two cut-short saves).
   */
  load(): unknown {
    let newest: { seq: number; value: unknown } | undefined;
    const problems: string[] = [];
    for (const slot of this.#slots) {
      // Read by path: loading happens at the start, while reading is allowed.
      const text = Deno.readTextFileSync(slot.path);
      if (text === "") continue;
      try {
        const saved = JSON.parse(text);
        if (!Number.isSafeInteger(saved?.seq) || !("value" in saved)) {
          throw new Error("not a saved version");
        }
        slot.seq = saved.seq;
        if (newest === undefined || saved.seq > newest.seq) newest = saved;
      } catch (error) {
        problems.push(`"${slot.path}": ${(error as Error).message}`);
      }
    }
    if (newest === undefined && problems.length > 0) {
      throw new Error(`Cannot read ${problems.join("; ")}`);
    }
    return newest?.value;
  }

  /**
   * Writes `value` as the newest version, in the file that holds the older
   * one, and syncs it to disk. Throws what the file system threw.
   */
  async save(value: unknown): Promise<void> {
    if (this.#closed) throw new Error(`Cannot save "${this.path}": it is closed`);
    const [older, newer] = this.#slots[0].seq <= this.#slots[1].seq
      ? this.#slots
      : [this.#slots[1], this.#slots[0]];
    const seq = Math.max(newer.seq, 0) + 1;
    const bytes = encoder.encode(JSON.stringify({ seq, value }));
    older.seq = -1;
    await older.file.truncate(0);
    await older.file.seek(0, Deno.SeekMode.Start);
    let offset = 0;
    while (offset < bytes.byteLength) offset += await older.file.write(bytes.subarray(offset));
    await older.file.syncData();
    older.seq = seq;
  }

  /** Closes both files. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots) slot.file.close();
  }
}
