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
