import assert from "node:assert/strict";
import { loadJson, saveJson } from "./state_file.ts";

Deno.test("saveJson() replaces the file whole and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/nodes.json`;
    await saveJson(path, { a: 1 });
    await saveJson(path, { a: 2, b: [1, 2] });
    assert.deepEqual(await loadJson(path), { a: 2, b: [1, 2] });
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["nodes.json"]);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("saveJson() removes its temporary file when the rename fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/nodes.json`;
    await saveJson(path, { a: 1 });
    // A folder in the file's place: the rename fails.
    await Deno.remove(path);
    await Deno.mkdir(path);
    await Deno.writeTextFile(`${path}/keep`, "x");
    await assert.rejects(() => saveJson(path, { a: 2 }));
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["nodes.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadJson() answers undefined for a missing file and names a corrupt one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await loadJson(`${dir}/none.json`), undefined);
    await Deno.writeTextFile(`${dir}/bad.json`, '{"version":1,"nod');
    await assert.rejects(
      () => loadJson(`${dir}/bad.json`),
      new RegExp(`^Error: Cannot read "${dir}/bad.json": not JSON`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
