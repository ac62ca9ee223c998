import assert from "node:assert/strict";
import { OutputFile } from "./output_file.ts";

// Opens and closes the file; how many bytes of a torn line that removed.
function repair(path: string): number {
  const file = new OutputFile(path, { setting: "OUTPUT_FILE" });
  file.close();
  return file.removedBytes;
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-output-file-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("OutputFile removes a torn last line at open and appends after the last complete one", () =>
  withDir(async (dir) => {
    const path = `${dir}/records.ndjson`;
    await Deno.writeTextFile(path, '{"n":1}\n{"n":2}\n{"n":');
    const file = new OutputFile(path, { setting: "OUTPUT_FILE" });
    assert.equal(file.removedBytes, 5);
    await file.write(new TextEncoder().encode('{"n":3}\n'));
    file.close();
    assert.equal(await Deno.readTextFile(path), '{"n":1}\n{"n":2}\n{"n":3}\n');
  }));

Deno.test("OutputFile finds the last newline however far back a long torn line starts", () =>
  withDir(async (dir) => {
    const path = `${dir}/records.ndjson`;
    const torn = "x".repeat(200_000);
    await Deno.writeTextFile(path, `{"n":1}\n${torn}`);
    assert.equal(repair(path), torn.length);
    assert.equal(await Deno.readTextFile(path), '{"n":1}\n');
    // Nothing complete at all: the whole file is one torn line.
    await Deno.writeTextFile(path, torn);
    assert.equal(repair(path), torn.length);
    assert.equal(await Deno.readTextFile(path), "");
  }));

Deno.test("OutputFile leaves a file that ends in a newline, and creates a missing one", () =>
  withDir(async (dir) => {
    const path = `${dir}/records.ndjson`;
    assert.equal(repair(path), 0);
    assert.equal(await Deno.readTextFile(path), "");
    await Deno.writeTextFile(path, '{"n":1}\n');
    assert.equal(repair(path), 0);
    assert.equal(await Deno.readTextFile(path), '{"n":1}\n');
  }));

Deno.test("OutputFile names its setting and path when it cannot open the file", () =>
  withDir((dir) => {
    assert.throws(
      () => new OutputFile(`${dir}/missing/dead.ndjson`, { setting: "DEAD_LETTER_FILE" }),
      /^Error: Cannot open DEAD_LETTER_FILE ".*\/missing\/dead.ndjson": /,
    );
    return Promise.resolve();
  }));

Deno.test("OutputFile.reopen() writes to the file now at its path, after a rename", () =>
  withDir(async (dir) => {
    const path = `${dir}/records.ndjson`;
    const file = new OutputFile(path, { setting: "OUTPUT_FILE" });
    const encoder = new TextEncoder();
    await file.write(encoder.encode("old\n"));
    await Deno.rename(path, `${path}.1`);
    file.reopen();
    await file.write(encoder.encode("new\n"));
    await file.syncData();
    file.close();
    assert.equal(await Deno.readTextFile(`${path}.1`), "old\n");
    assert.equal(await Deno.readTextFile(path), "new\n");
  }));
