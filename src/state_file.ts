/**
 * A JSON file the agent keeps across restarts (under `STATE_DIRECTORY`),
 * replaced atomically so that a power cut leaves either the old file or
 * the new one, never half of each.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Writes `value` as JSON to `path`: to a temporary file beside it, synced
 * to disk, then renamed over `path`, and the folder synced so that the
 * rename itself survives a power cut. Throws what the file system threw,
 * with the temporary file removed.
 */
export async function saveJson(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    // `createNew` refuses a file (or a link) planted under that name.
    using file = await Deno.open(temporary, { write: true, createNew: true, mode: 0o600 });
    const bytes = encoder.encode(JSON.stringify(value));
    let offset = 0;
    while (offset < bytes.byteLength) offset += await file.write(bytes.subarray(offset));
    await file.syncData();
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
  try {
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
  await syncFolder(folderOf(path));
}

/**
 * Reads the JSON at `path`: `undefined` when there is no such file.
 * Throws an `Error` whose message says what is wrong, quoting the path,
 * when it cannot be read or is not JSON.
 */
export async function loadJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`Cannot read "${path}": ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Cannot read "${path}": not JSON (${(error as Error).message})`);
  }
}

function folderOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash === -1) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

async function syncFolder(folder: string): Promise<void> {
  try {
    using dir = await Deno.open(folder, { read: true });
    await dir.sync();
  } catch {
    // Some file systems cannot sync a folder; the rename stands regardless.
  }
}
