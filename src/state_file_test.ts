import assert from "node:assert/strict";
import { StateFile } from "./state_file.ts";

async function names(dir: string): Promise<string[]> {
  const found = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

Deno.test("StateFile.save() replaces the file whole, owner-only, and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  const file = new StateFile(`${dir}/`, "nodes.json");
  try {
    assert.equal(file.path, `${dir}/nodes.json`);
    await file.save({ a: 1 });
    await file.save({ a: 2, b: [1, 2] });
    assert.deepEqual(file.load(), { a: 2, b: [1, 2] });
    assert.deepEqual(await names(dir), ["nodes.json"]);
    assert.equal((await Deno.stat(file.path)).mode! & 0o777, 0o600);
  } finally {
    file.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StateFile.save() removes its temporary file when the rename fails", async () => {
  const dir = await Deno.makeTempDir();
  const file = new StateFile(dir, "nodes.json");
  try {
    // A folder in the file's place: the rename fails.
    await Deno.mkdir(file.path);
    await Deno.writeTextFile(`${file.path}/keep`, "x");
    await assert.rejects(() => file.save({ a: 2 }));
    assert.deepEqual(await names(dir), ["nodes.json"]);
  } finally {
    file.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StateFile.load() answers undefined for a missing file and names a corrupt one", async () => {
  const dir = await Deno.makeTempDir();
  const file = new StateFile(dir, "nodes.json");
  try {
    assert.equal(file.load(), undefined);
    await Deno.writeTextFile(file.path, '{"version":1,"nod');
    assert.throws(
      () => file.load(),
      new RegExp(`^Error: Cannot read "${dir}/nodes.json": not JSON`),
    );
  } finally {
    file.close();
    await Deno.remove(dir, { recursive: true });
  }
});
