import assert from "node:assert/strict";
import { StateFile } from "./state_file.ts";

async function inFolder(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("StateFile keeps the newest version across reopening, in owner-only files", async () => {
  await inFolder(async (dir) => {
    const file = new StateFile(`${dir}/`, "nodes");
    assert.equal(file.load(), undefined);
    await file.save({ a: 1 });
    await file.save({ a: 2 });
    await file.save({ a: 3, b: [1, 2] });
    file.close();
    const again = new StateFile(dir, "nodes");
    assert.deepEqual(again.load(), { a: 3, b: [1, 2] });
    await again.save({ a: 4 });
    again.close();
    const third = new StateFile(dir, "nodes");
    assert.deepEqual(third.load(), { a: 4 });
    third.close();
    for (const n of [1, 2]) {
      assert.equal((await Deno.stat(`${dir}/nodes.${n}.json`)).mode! & 0o777, 0o600);
    }
  });
});

Deno.test("StateFile loads the previous version when the last save was cut short", async () => {
  await inFolder(async (dir) => {
    const file = new StateFile(dir, "nodes");
    await file.save({ version: "old" });
    await file.save({ version: "new" });
    file.close();
    // A power cut in the middle of the next save: the file it was writing
    // (the older one) holds half a document.
    const older = JSON.parse(await Deno.readTextFile(`${dir}/nodes.1.json`)).seq === 1 ? 1 : 2;
    const text = JSON.stringify({ seq: 3, value: { version: "newest" } });
    await Deno.writeTextFile(`${dir}/nodes.${older}.json`, text.slice(0, text.length / 2));
    const again = new StateFile(dir, "nodes");
    assert.deepEqual(again.load(), { version: "new" });
    // The next save goes over the broken file, not over the good one.
    await again.save({ version: "next" });
    again.close();
    const third = new StateFile(dir, "nodes");
    assert.deepEqual(third.load(), { version: "next" });
    third.close();
    const other = older === 1 ? 2 : 1;
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/nodes.${other}.json`)).value, {
      version: "new",
    });
  });
});

Deno.test("StateFile.load() names both files when neither holds a saved version", async () => {
  await inFolder(async (dir) => {
    await Deno.writeTextFile(`${dir}/nodes.1.json`, '{"seq":1,"val');
    await Deno.writeTextFile(`${dir}/nodes.2.json`, '{"other":"program"}');
    const file = new StateFile(dir, "nodes");
    try {
      assert.throws(
        () => file.load(),
        new RegExp(
          `^Error: Cannot read "${dir}/nodes.1.json": .*; "${dir}/nodes.2.json": not a saved version$`,
        ),
      );
    } finally {
      file.close();
    }
  });
});
