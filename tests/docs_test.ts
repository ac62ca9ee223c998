import assert from "node:assert/strict";
import { AGENT_ENV, agentEnv, README, withSettingsTable } from "../scripts/docs.ts";
import { readEnvFile } from "../src/settings/env_file.ts";
import { SETTINGS } from "../src/settings/settings.ts";
import { ROOT } from "./_support/agent_process.ts";

Deno.test("the README's configuration table is the one `deno task docs` writes from the settings", () => {
  const readme = Deno.readTextFileSync(`${ROOT}${README}`);
  assert.equal(readme, withSettingsTable(readme), "run deno task docs");
});

Deno.test("deploy/agent.env is the one `deno task docs` writes from the settings", () => {
  assert.equal(Deno.readTextFileSync(`${ROOT}${AGENT_ENV}`), agentEnv(), "run deno task docs");
});

Deno.test("deploy/agent.env sets only settings the agent reads, and no secret", () => {
  const set = Object.keys(readEnvFile(`${ROOT}${AGENT_ENV}`));
  assert.ok(set.length > 0);
  for (const name of set) {
    const entry = SETTINGS.find((candidate) => candidate.name === name);
    assert.ok(entry !== undefined, name);
    assert.ok(!entry.secret, name);
  }
});

// 2025-01-01T00:00:00Z: a payload older than this shows a newcomer's first
// node as backfilling, then silent, instead of reporting.
const FIXED_T_BEFORE = Date.UTC(2025, 0, 1) / 1000;

/** The `mosquitto_pub` commands of the code blocks of `markdown`, each on one line. */
function mosquittoPubCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)].map(([, block]) => block);
  return blocks.flatMap((block) => block.replaceAll("\\\n", " ").split("\n"))
    .filter((line) => /\bmosquitto_pub\b/.test(line));
}

Deno.test("no mosquitto_pub sample in README.md or docs/ publishes a fixed time before 2025", () => {
  const files = [
    "README.md",
    ...[...Deno.readDirSync(`${ROOT}docs`)].map(({ name }) => `docs/${name}`)
      .filter((name) => name.endsWith(".md")),
  ];
  let samples = 0;
  const stale: string[] = [];
  for (const file of files) {
    for (const command of mosquittoPubCommands(Deno.readTextFileSync(`${ROOT}${file}`))) {
      samples++;
      for (const [, t] of command.matchAll(/\\?"t\\?"\s*:\s*(\d+)/g)) {
        if (Number(t) < FIXED_T_BEFORE) stale.push(`${file}: t=${t} in ${command.trim()}`);
      }
    }
  }
  assert.ok(samples > 0, "no mosquitto_pub sample found: the pattern misses them");
  assert.deepEqual(stale, []);
});
