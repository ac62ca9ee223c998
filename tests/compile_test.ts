// `deno task compile`'s own checks and messages. deno compile itself cannot
// finish without its runtime (tests/build_test.ts covers what it builds).
import assert from "node:assert/strict";
import { ROOT } from "./_support/agent_process.ts";
import { freePort } from "./_support/broker.ts";
import { compileProblem, denortProblem } from "../scripts/compile.ts";

/** Runs scripts/compile.ts as `deno task compile` does. */
async function compile(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--permission-set=build", "scripts/compile.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

/** An ELF header that names `machine` (62 x86_64, 183 aarch64), as a denort would start. */
async function fakeRuntime(machine: number): Promise<string> {
  const header = new Uint8Array(64);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  const view = new DataView(header.buffer);
  view.setUint16(16, 3, true);
  view.setUint16(18, machine, true);
  const path = await Deno.makeTempFile({ prefix: "ammp-agent-denort-" });
  await Deno.writeFile(path, header, { mode: 0o755 });
  return path;
}

Deno.test("deno task compile refuses a DENORT_BIN of another architecture in one line naming it", async () => {
  const x86 = await fakeRuntime(62);
  try {
    const { code, stderr } = await compile(["--target", "aarch64-unknown-linux-gnu"], {
      DENORT_BIN: x86,
    });
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `Invalid DENORT_BIN "${x86}": it is a runtime for x86_64, expected one for aarch64 (--target aarch64-unknown-linux-gnu)\n`,
    );
  } finally {
    await Deno.remove(x86);
  }
});

Deno.test("denortProblem() reads the ELF header: the right machine passes, others and non-ELF files are named", async () => {
  const arm = await fakeRuntime(183);
  const text = await Deno.makeTempFile();
  await Deno.writeTextFile(text, "#!/bin/sh\n");
  try {
    assert.equal(denortProblem(arm, "aarch64-unknown-linux-gnu"), undefined);
    assert.equal(
      denortProblem(arm, "x86_64-unknown-linux-gnu"),
      `Invalid DENORT_BIN "${arm}": it is a runtime for aarch64, expected one for x86_64 (--target x86_64-unknown-linux-gnu)`,
    );
    assert.match(denortProblem(text, "x86_64-unknown-linux-gnu")!, /not an ELF executable/);
    assert.match(denortProblem(`${text}.nope`, "x86_64-unknown-linux-gnu")!, /file not found$/);
  } finally {
    await Deno.remove(arm);
    await Deno.remove(text);
  }
});

Deno.test("deno task compile names a bad option in one line and exits 2", async () => {
  for (const args of [["--bogus"], ["extra"], ["--target"]]) {
    const { code, stderr } = await compile(args);
    assert.equal(code, 2, stderr);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.match(stderr, /usage: deno task compile/);
    assert.doesNotMatch(stderr, /TypeError|Uncaught| {4}at /);
  }
});

Deno.test("deno task compile says in one line that DENORT_BIN is the way around a runtime it cannot download", async () => {
  // A proxy that is not there stands for a blocked download, wherever this runs.
  const proxy = `http://127.0.0.1:${freePort()}`;
  const { code, stderr } = await compile(["--target", "x86_64-unknown-linux-gnu"], {
    HTTPS_PROXY: proxy,
    HTTP_PROXY: proxy,
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "/tmp",
  });
  assert.equal(code, 1, stderr);
  const failures = stderr.trim().split("\n").filter((line) => !line.startsWith("Building "));
  assert.equal(failures.length, 1, stderr);
  assert.match(
    failures[0],
    /^Cannot build x86_64-unknown-linux-gnu: deno compile could not download its runtime https:\/\/\S+denort\S+; set DENORT_BIN to a denort \S+ for x86_64-unknown-linux-gnu and pass --target x86_64-unknown-linux-gnu$/,
  );
});

Deno.test("compileProblem() keeps deno's innermost cause when the download is not what failed", () => {
  const said =
    "error: Writing deno compile executable\n\nCaused by:\n    0: Setting up base binary.\n    1: No space left on device\n\nStack backtrace:\n   0: <unknown>\n";
  assert.equal(
    compileProblem(said, "aarch64-unknown-linux-gnu"),
    "Cannot build aarch64-unknown-linux-gnu: No space left on device",
  );
});
