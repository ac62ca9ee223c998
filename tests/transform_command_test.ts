import assert from "node:assert/strict";
import { minimalEnv, ROOT } from "./_support/agent_process.ts";

const PAYLOAD = '{"t":1709288100,"r":[{"_vid":"m","P":1}]}\n';

function transformInto(stdout: "null" | "piped", args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--permission-set=agent",
      "--no-prompt",
      "main.ts",
      "transform",
      ...args,
    ],
    cwd: ROOT,
    clearEnv: true,
    env: minimalEnv(),
    stdin: "piped",
    stdout,
    stderr: "piped",
  }).spawn();
  return child;
}

Deno.test("`transform` into a reader that goes away says so in one line and exits 1", async () => {
  const child = transformInto("piped", []);
  // The reader is gone before the first record is written.
  await child.stdout.cancel();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(PAYLOAD.repeat(2000))).catch(() => {});
  await writer.close().catch(() => {});
  const { code, stderr } = await child.output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 1, text);
  assert.doesNotMatch(text, /Uncaught| {4}at /);
  assert.equal(text.trim().split("\n").length, 1, text);
  assert.match(text, /Cannot write records to stdout/);
});

Deno.test("`transform` of a folder says so in one line and exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const child = transformInto("null", [dir]);
    await child.stdin.close();
    const { code, stderr } = await child.output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 2, text);
    assert.doesNotMatch(text, /Uncaught| {4}at /);
    assert.equal(text.trim().split("\n").length, 1, text);
    assert.match(text, new RegExp(`Cannot read ${dir}`));
  } finally {
    await Deno.remove(dir);
  }
});
