import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { minimalEnv, ROOT } from "./_support/agent_process.ts";

// Deno warns on every run that takes its permissions from deno.json
// (`--permission-set`), unless it runs with `--quiet`.
const WARNING = /experimental/i;

for (const task of ["demo", "simulate", "start", "transform", "dev"]) {
  Deno.test(`\`deno task ${task} --help\` prints its help and no warning of an experimental feature`, async () => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["task", task, "--help"],
      cwd: ROOT,
      clearEnv: true,
      env: minimalEnv(),
      stdin: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const errors = new TextDecoder().decode(stderr);
    assert.equal(code, 0, errors);
    assert.match(new TextDecoder().decode(stdout), /Usage|ammp-agent/);
    const warnings = errors.split("\n").filter((line) => WARNING.test(line));
    assert.deepEqual(warnings, []);
  });
}

Deno.test("every task that takes a permission set from deno.json runs Deno with --quiet", () => {
  const loud = Object.entries(denoJson.tasks).flatMap(([name, command]) =>
    command.split("&&").map((part) => part.trim())
      .filter((part) => /--permission-set\b/.test(part) && !/\s--quiet\b/.test(part))
      .map((part) => `${name}: ${part}`)
  );
  assert.deepEqual(loud, []);
});
