/**
 * A JSON file the agent keeps across restarts (under `STATE_DIRECTORY`),
 * replaced atomically so that a power cut leaves either the old file or
 * the new one, never half of each.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * One JSON file in a folder. The folder is opened when the file is, so that
 * it can be synced after a rename once the agent has given up reading
 * files.
 */
export class StateFile {
  /** The file's path. */
  readonly path: string;
  #folder: Deno.FsFile | undefined;

  /**
   * Opens the folder `folder`, which must exist, for the file `name`.
   * Throws what the file system threw.
   */
  constructor(folder: string, name: string) {
    const trimmed = folder.replace(/(.)\/+$/, "$1");
    this.path = trimmed.endsWith("/") ? `${trimmed}${name}` : `${trimmed}/${name}`;
    try {
      this.#folder = Deno.openSync(trimmed, { read: true });
    } catch {
      // Some systems cannot open a folder; the renames stand regardless.
    }
  }

  /**
   * Reads the file: `undefined` when there is none. Throws an `Error` whose
   * message says what is wrong, quoting the path, when it cannot be read
   * or is not JSON.
   */
  load(): unknown {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new Error(`Cannot read "${this.path}": ${(error as Error).message}`);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new Error(`Cannot read "${this.path}": not JSON (${(error as Error).message})`);
    }
  }

  /**
   * Writes `value` as JSON: to a temporary file beside the file, synced to
   * disk, then renamed over it, and the folder synced so that the rename
   * itself survives a power cut. Throws what the file system threw, with
   * the temporary file removed.
   */
  async save(value: unknown): Promise<void> {
    const temporary = `${this.path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    try {
      // `createNew` refuses a file (or a link) planted under that name.
      using file = await Deno.open(temporary, { write: true, createNew: true, mode: 0o600 });
      const bytes = encoder.encode(JSON.stringify(value));
      let offset = 0;
      while (offset < bytes.byteLength) offset += await file.write(bytes.subarray(offset));
      await file.syncData();
      await Deno.rename(temporary, this.path);
    } catch (error) {
      await Deno.remove(temporary).catch(() => {});
      throw error;
    }
    await this.#folder?.sync().catch(() => {});
  }

  /** Closes the folder. */
  close(): void {
    this.#folder?.close();
    this.#folder = undefined;
  }
}
