/**
 * `OUTPUT_FILE` and `DEAD_LETTER_FILE` against a real broker: a torn last
 * line repaired at start, SIGHUP reopening after rotation, a full disk.
 */

import assert from "node:assert/strict";
import { type AgentProcess, ROOT, startAgent } from "./_support/agent_process.ts";
import { startBroker, type TestBroker } from "./_support/broker.ts";
import { publishStream, range, tally } from "./_support/stream.ts";

async function withAgentFiles(
  body: (broker: TestBroker, dir: string, agents: AgentProcess[]) => Promise<void>,
): Promise<void> {
  // Without mosquitto, the in-process broker (MQTT 3.1.1) keeps the
  // sessions the restarts need for as long as it runs.
  await using broker = await startBroker();
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-output-file-" });
  const agents: AgentProcess[] = [];
  try {
    await body(broker, dir, agents);
  } finally {
    for (const agent of agents) await agent.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
}

function agentEnv(broker: TestBroker, extra: Record<string, string>) {
  return {
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `output-file-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    LOG_FORMAT: "json",
    ...extra,
  };
}

// The complete lines of a file; throws if it ends in a torn one.
function readLines(path: string): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  if (text === "") return [];
  assert.ok(text.endsWith("\n"), `${path} ends in a torn line`);
  return text.slice(0, -1).split("\n");
}

Deno.test({
  name: `OUTPUT_FILE: a torn last line is removed at start and its message comes again`,
  fn: () =>
    withAgentFiles(async (broker, dir, agents) => {
      const file = `${dir}/records.ndjson`;
      const kept = '{"node_id":"b827eb000000","time":"2023-11-14T22:13:20+00:00","data":{}}';
      const torn = '{"node_id":"b827eb000001","time":"2023-1';
      await Deno.writeTextFile(file, `${kept}\n${torn}`);
      const agent = await startAgent(agentEnv(broker, { OUTPUT_FILE: file }));
      agents.push(agent);
      assert.ok(
        agent.logMessages.some((message) =>
          message.startsWith(`Removed a torn last line of ${torn.length} bytes from OUTPUT_FILE`)
        ),
        agent.stderr,
      );
      await publishStream(broker.url, 100, { protocolVersion: broker.protocolVersion });
      await agent.waitFor(() => readLines(file).length === 101, "101 lines in the file");
      const lines = readLines(file);
      assert.equal(lines[0], kept);
      for (const line of lines) JSON.parse(line);
      assert.deepEqual(tally(lines.slice(1), range(0, 100)).lost, []);
      assert.deepEqual(agent.lines, [], "nothing on stdout");
      assert.equal(await agent.stop(), 0);
    }),
});

Deno.test({
  name:
    `SIGHUP reopens OUTPUT_FILE and DEAD_LETTER_FILE after rotation, losing and cutting nothing`,
  fn: () =>
    withAgentFiles(async (broker, dir, agents) => {
      const records = `${dir}/records.ndjson`;
      const dead = `${dir}/dead.ndjson`;
      const agent = await startAgent(
        agentEnv(broker, { OUTPUT_FILE: records, DEAD_LETTER_FILE: dead }),
      );
      agents.push(agent);
      const count = 2000;
      const invalid = (seq: number) => seq % 10 === 9;
      // logrotate: rename the files, then SIGHUP (postrotate), mid-stream.
      await publishStream(broker.url, count, {
        protocolVersion: broker.protocolVersion,
        invalid,
        onPublished: (seq) => {
          if (seq !== 1000) return;
          Deno.renameSync(records, `${records}.1`);
          Deno.renameSync(dead, `${dead}.1`);
          agent.child.kill("SIGHUP");
        },
      });
      const valid = range(0, count).filter((seq) => !invalid(seq));
      const all = () => [...readLines(`${records}.1`), ...readLines(records)];
      await agent.waitFor(() => tally(all(), valid).lost.length === 0, "every record");
      const deadLetters = () => [...readLines(`${dead}.1`), ...readLines(dead)];
      await agent.waitFor(() => deadLetters().length >= count / 10, "every dead letter");
      assert.ok(readLines(records).length > 0, "records went to the new file");
      assert.ok(readLines(`${records}.1`).length > 0, "and to the old one before");
      assert.ok(readLines(dead).length > 0, "dead letters went to the new file");
      for (const line of deadLetters()) assert.equal(JSON.parse(line).reason, "not_json");
      assert.equal(await agent.stop(), 0, "SIGHUP did not stop it");
      assert.ok(agent.logMessages.includes("Received SIGHUP, reopening the output files"));
    }),
});

Deno.test({
  name:
    `a full OUTPUT_FILE stops the agent with exit code 1, naming it, and acknowledges nothing unwritten`,
  fn: () =>
    withAgentFiles(async (broker, dir, agents) => {
      const env = agentEnv(broker, { OUTPUT_FILE: "/dev/full" });
      // Deno opens a device such as /dev/full only to a program with every permission.
      const first = await startAgent(env, {
        command: [Deno.execPath(), "run", "--quiet", "-A", `${ROOT}main.ts`],
      });
      agents.push(first);
      await publishStream(broker.url, 100, { protocolVersion: broker.protocolVersion });
      assert.equal(await first.exitedWithin(15_000), 1);
      const fatal = first.stderr.split("\n").filter((line) =>
        /Cannot write records to OUTPUT_FILE \\"\/dev\/full\\": No space left on device/.test(line)
      );
      assert.equal(fatal.length, 1, first.stderr);
      assert.doesNotMatch(first.stderr, /Uncaught|^\s+at /m, "no stack trace");

      const file = `${dir}/records.ndjson`;
      const second = await startAgent({ ...env, OUTPUT_FILE: file });
      agents.push(second);
      await second.waitFor(
        () => tally(readLines(file), range(0, 100)).lost.length === 0,
        "every record, delivered again",
      );
    }),
});
