/**
 * Fault tests of the delivery guarantees against a real broker: each
 * scenario publishes a numbered stream, injects a fault mid-stream, and
 * asserts that no message is lost.
 */

import assert from "node:assert/strict";
import { type AgentProcess, ROOT, startAgent } from "./_support/agent_process.ts";
import {
  hasMosquitto,
  mosquittoRequired,
  startBroker,
  type TestBroker,
} from "./_support/broker.ts";
import {
  nodeOf,
  numberedPayload,
  peakRss,
  publishStream,
  range,
  type Tally,
  tally,
  TcpRelay,
} from "./_support/stream.ts";
import { transformToLine } from "../src/transform/transform.ts";

// Restarts and persistent queues need mosquitto; aedes keeps no sessions
// across its restart. The other cases run on aedes without mosquitto,
// in MQTT 3.1.1.
const ignore = !hasMosquitto() && !mosquittoRequired();
const needs = ignore ? " (ignored: mosquitto not installed)" : "";

function report(name: string, published: number, result: Tally): void {
  console.log(
    `${name}: published ${published}, written ${result.written}, lost ${result.lost.length}, duplicated ${result.duplicated}`,
  );
}

function agentEnv(broker: TestBroker, extra: Record<string, string> = {}) {
  return {
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `delivery-${crypto.randomUUID()}`,
    MQTT_RECONNECT_MAX_SECONDS: "2",
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    LOG_FORMAT: "json",
    ...extra,
  };
}

async function withBroker(
  options: Parameters<typeof startBroker>[0],
  body: (broker: TestBroker, agents: AgentProcess[]) => Promise<void>,
): Promise<void> {
  await using broker = await startBroker({ require: true, ...options });
  const agents: AgentProcess[] = [];
  try {
    await body(broker, agents);
  } finally {
    for (const agent of agents) await agent.stop("SIGKILL");
  }
}

Deno.test({
  name: `no message is lost when the connection is cut mid-stream`,
  fn: () =>
    withBroker({ require: false }, async (broker, agents) => {
      const relay = new TcpRelay({ hostname: broker.host, port: broker.port });
      try {
        const env = agentEnv(broker, { MQTT_URL: `mqtt://127.0.0.1:${relay.port}` });
        const agent = await startAgent(env);
        agents.push(agent);
        const count = 4000;
        let cuts = 0;
        await publishStream(broker.url, count, {
          protocolVersion: broker.protocolVersion,
          onPublished: (seq) => {
            if (seq === 1000 || seq === 2500) cuts += relay.sever();
          },
        });
        await agent.waitFor(() => tally(agent.lines, range(0, count)).lost.length === 0, "all");
        const result = tally(agent.lines, range(0, count));
        report("connection cut", count, result);
        assert.ok(cuts >= 2, "the relay cut live connections");
        assert.deepEqual(result.lost, []);
        assert.ok((await agent.metric("ammp_agent_broker_reconnects_total"))! >= 1);
      } finally {
        relay.close();
      }
    }),
});

Deno.test({
  name: `no message is lost when the broker restarts mid-stream${needs}`,
  ignore,
  fn: () =>
    withBroker({ persistence: true }, async (broker, agents) => {
      const agent = await startAgent(agentEnv(broker));
      agents.push(agent);
      const count = 4000;
      let restart: Promise<void> | undefined;
      await publishStream(broker.url, count, {
        onPublished: (seq) => {
          if (seq === 1500) restart = broker.restart();
        },
      });
      await restart;
      await agent.waitFor(() => tally(agent.lines, range(0, count)).lost.length === 0, "all");
      const result = tally(agent.lines, range(0, count));
      report("broker restart", count, result);
      assert.deepEqual(result.lost, []);
    }),
});

Deno.test({
  name: `no message is lost when the agent is killed mid-stream and started again`,
  fn: () =>
    withBroker({ require: false }, async (broker, agents) => {
      const env = agentEnv(broker);
      const first = await startAgent(env);
      agents.push(first);
      const count = 4000;
      let killed: Promise<number> | undefined;
      const publishing = publishStream(broker.url, count, {
        protocolVersion: broker.protocolVersion,
        onPublished: (seq) => {
          if (seq === 1500) killed = first.stop("SIGKILL");
        },
      });
      await publishing;
      await killed;
      const second = await startAgent(env);
      agents.push(second);
      const all = () => [...first.lines, ...second.lines];
      await second.waitFor(() => tally(all(), range(0, count)).lost.length === 0, "all");
      const result = tally(all(), range(0, count));
      report("agent SIGKILL", count, result);
      assert.deepEqual(result.lost, []);
      assert.equal(first.partialLine, "", "no half record on stdout");
    }),
});

Deno.test({
  name: `SIGTERM mid-stream drains: no loss and no more duplicates than the in-flight bound`,
  fn: () =>
    withBroker({ require: false }, async (broker, agents) => {
      const inFlight = 100;
      const env = agentEnv(broker, { MQTT_RECEIVE_MAXIMUM: String(inFlight) });
      const first = await startAgent(env);
      agents.push(first);
      const count = 4000;
      let stopped: Promise<number> | undefined;
      await publishStream(broker.url, count, {
        protocolVersion: broker.protocolVersion,
        onPublished: (seq) => {
          if (seq === 1500) stopped = first.stop("SIGTERM");
        },
      });
      assert.equal(await stopped, 0, "a drained SIGTERM exits 0");
      assert.match(first.stderr, /Received \\?"?SIGTERM/);
      const second = await startAgent(env);
      agents.push(second);
      const all = () => [...first.lines, ...second.lines];
      await second.waitFor(() => tally(all(), range(0, count)).lost.length === 0, "all");
      const result = tally(all(), range(0, count));
      report("agent SIGTERM", count, result);
      assert.deepEqual(result.lost, []);
      assert.ok(result.duplicated <= inFlight, `${result.duplicated} duplicates`);
    }),
});

Deno.test({
  name:
    `a stalled stdout reader loses nothing, and the agent stays under 100 MB with 100,000 waiting${needs}`,
  ignore,
  fn: () =>
    withBroker({}, async (broker, agents) => {
      const agent = await startAgent(agentEnv(broker));
      agents.push(agent);
      agent.pauseReading();
      const count = 100_000;
      // Memory must not follow the backlog: compare the peak with 10,000
      // waiting to the peak with ten times as many.
      const early = 10_000;
      await publishStream(broker.url, early, { window: 200 });
      await agent.get("/healthz");
      const rssEarly = peakRss(agent.child.pid);
      await publishStream(broker.url, count - early, { window: 200, from: early });
      // The agent keeps serving while its output is blocked.
      assert.equal((await agent.get("/healthz")).status, 200);
      const stalledAt = agent.lines.length;
      const rssStalled = peakRss(agent.child.pid);
      agent.resumeReading();
      await agent.waitFor(
        () => tally(agent.lines, range(0, count)).lost.length === 0,
        "all",
        120_000,
      );
      const result = tally(agent.lines, range(0, count));
      const rss = peakRss(agent.child.pid);
      report("stalled reader", count, result);
      const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
      console.log(
        `stalled reader: ${stalledAt} lines read while stalled, peak RSS ${
          mb(rssEarly)
        } MB with ${early} waiting, ${mb(rssStalled)} MB with ${count} waiting, ${
          mb(rss)
        } MB after the drain`,
      );
      assert.deepEqual(result.lost, []);
      assert.ok(stalledAt < count / 2, "the stall held the stream back");
      assert.ok(
        rssStalled - rssEarly < 5e6,
        `memory grew with the backlog: ${mb(rssEarly)} -> ${mb(rssStalled)} MB`,
      );
      assert.ok(rssStalled < 100e6, `peak RSS while stalled: ${mb(rssStalled)} MB`);
    }),
});

Deno.test("every tenth message invalid: the agent carries on and counts each failure exactly", async () => {
  await using broker = await startBroker();
  await using agent = await startAgent(agentEnv(broker, {
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
  }));
  const count = 3000;
  const invalid = (seq: number) => seq % 10 === 9;
  await publishStream(broker.url, count, { invalid, protocolVersion: broker.protocolVersion });
  const valid = range(0, count).filter((seq) => !invalid(seq));
  await agent.waitFor(
    async () => (await agent.metric("ammp_agent_messages_received_total")) === count,
    `${count} received`,
  );
  await agent.waitForLines(valid.length);
  const result = tally(agent.lines, valid);
  report("every tenth invalid", count, result);
  assert.deepEqual(result.lost, []);
  assert.equal(
    await agent.metric('ammp_agent_messages_failed_total{reason="not_json"}'),
    count / 10,
  );
  assert.equal(await agent.metric("ammp_agent_records_written_total"), valid.length);
});

Deno.test({
  name: `a refused login is logged as such and retried with backoff, not in a tight loop${needs}`,
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const passwords = `${dir}/passwords`;
    const made = await new Deno.Command("mosquitto_passwd", {
      args: ["-b", "-c", passwords, "agent", "right-password"],
    }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    await Deno.writeTextFile(`${dir}/agent-password`, "wrong-password\n");
    await withBroker(
      { config: ["allow_anonymous false", `password_file ${passwords}`] },
      async (broker, agents) => {
        const agent = await startAgent(
          agentEnv(broker, {
            MQTT_USERNAME: "agent",
            MQTT_PASSWORD_FILE: `${dir}/agent-password`,
            MQTT_RECONNECT_MAX_SECONDS: "60",
          }),
          { waitReady: false },
        );
        agents.push(agent);
        await agent.waitFor(async () => {
          try {
            return (await agent.get("/healthz")).status === 200;
          } catch {
            return false;
          }
        }, "healthz");
        // Counted up to the fourth attempt, not over a time window: each
        // retry must wait at least the delay the attempt before announced.
        const refusals = () =>
          agent.stderr.slice(0, agent.stderr.lastIndexOf("\n") + 1).split("\n").filter((line) =>
            line.includes("refused the login")
          );
        await agent.waitFor(() => refusals().length >= 4, "four refused logins", 30_000);
        assert.equal((await agent.get("/readyz")).status, 503);
        const attempts = refusals();
        const logged = attempts.map((line) => JSON.parse(line));
        const gaps = logged.slice(1).map((record, i) =>
          Date.parse(record["@timestamp"]) - Date.parse(logged[i]["@timestamp"])
        );
        console.log(
          `refused login: ${attempts.length} attempts, ${gaps.join(" ms, ")} ms apart`,
        );
        // 1 s, doubling, with jitter: 3 to 5 attempts in 6 s; a tight loop makes hundreds.
        assert.ok(attempts.length >= 2 && attempts.length <= 6, `${attempts.length} attempts`);
        gaps.forEach((gap, i) => {
          const { delayMs } = logged[i];
          // Equal jitter: at least half of 1 s doubled per attempt.
          assert.ok(delayMs >= 500 * 2 ** i, `retry ${i + 1} announced ${delayMs} ms`);
          assert.ok(gap >= delayMs - 5, `retry ${i + 1} came after ${gap} ms, not ${delayMs} ms`);
        });
        assert.match(
          attempts[0],
          /refused the login of .*agent.*: (bad user name or password|not authorized)/,
        );
        assert.ok(!agent.stderr.includes("wrong-password"), "the password is never logged");
      },
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: `a closed stdout stops the agent with exit code 1 and acknowledges nothing unwritten`,
  fn: () =>
    withBroker({ require: false }, async (broker, agents) => {
      const env = agentEnv(broker);
      const first = await startAgent(env);
      agents.push(first);
      await publishStream(broker.url, 200, { protocolVersion: broker.protocolVersion });
      await first.waitForLines(200);
      // The reader dies: close our end of the pipe.
      await first.closeStdout();
      await publishStream(broker.url, 300, {
        protocolVersion: broker.protocolVersion,
        from: 200,
      });
      const code = await first.exited();
      assert.equal(code, 1);
      assert.match(first.stderr, /Cannot write records to stdout/);
      const second = await startAgent(env);
      agents.push(second);
      const all = () => [...first.lines, ...second.lines];
      await second.waitFor(() => tally(all(), range(0, 500)).lost.length === 0, "all");
      const result = tally(all(), range(0, 500));
      report("closed stdout", 500, result);
      assert.deepEqual(result.lost, []);
    }),
});

// Deno opens a device such as /dev/full only to a program with every
// permission: the disk-full agents run with -A.
const WITH_ALL_PERMISSIONS = {
  command: [Deno.execPath(), "run", "--quiet", "-A", `${ROOT}main.ts`],
};

// The one line that says an output failed: it names the output and the
// cause, and no stack trace follows.
function assertOneFatalLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split("\n").filter((line) => pattern.test(line));
  assert.equal(lines.length, 1, stderr.slice(-3000));
  assert.doesNotMatch(stderr, /Uncaught|^\s+at /m, "no stack trace");
}

Deno.test({
  name:
    `a dead letter that cannot be written stops the agent with exit code 1, and stays at the broker`,
  fn: () =>
    withBroker({ require: false }, async (broker, agents) => {
      const env = agentEnv(broker, { DEAD_LETTER_FILE: "/dev/full" });
      const first = await startAgent(env, WITH_ALL_PERMISSIONS);
      agents.push(first);
      // A record, a payload that is not JSON, a record, in this order.
      await publishStream(broker.url, 3, {
        protocolVersion: broker.protocolVersion,
        window: 1,
        invalid: (seq) => seq === 1,
      });
      assert.equal(await first.exitedWithin(15_000), 1);
      assertOneFatalLine(
        first.stderr,
        /Cannot write dead letters to DEAD_LETTER_FILE \\?"\/dev\/full\\?": No space left on device/,
      );

      const dir = await Deno.makeTempDir({ prefix: "ammp-agent-delivery-" });
      try {
        const file = `${dir}/dead.ndjson`;
        const second = await startAgent({ ...env, DEAD_LETTER_FILE: file });
        agents.push(second);
        const all = () => [...first.lines, ...second.lines];
        await second.waitFor(() => tally(all(), [0, 2]).lost.length === 0, "both records");
        await second.waitFor(() => Deno.readTextFileSync(file).endsWith("\n"), "the dead letter");
        const dead = Deno.readTextFileSync(file).trim().split("\n").map((l) => JSON.parse(l));
        assert.deepEqual(dead.map((entry) => entry.reason), ["not_json"]);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});

Deno.test({
  name:
    `a dead letter on a closed stderr stops the agent with exit code 1, and stays at the broker`,
  fn: () =>
    withBroker({ require: false }, async (broker, agents) => {
      const env = agentEnv(broker);
      const first = await startAgent(env);
      agents.push(first);
      // The log reader dies (as `2>&1 | head -c 1` does).
      await first.closeStderr();
      await publishStream(broker.url, 2, {
        protocolVersion: broker.protocolVersion,
        window: 1,
        invalid: (seq) => seq === 0,
      });
      assert.equal(await first.exitedWithin(15_000), 1, "the failed dead letter is fatal");

      const second = await startAgent(env);
      agents.push(second);
      await second.waitFor(
        () => second.stderr.includes('"Dead letter (not_json)'),
        "the dead letter, delivered again",
      );
      await second.waitFor(() => tally(second.lines, [1]).lost.length === 0, "the record");
    }),
});

Deno.test({
  name:
    `ammp_agent_records_written_total counts what has reached stdout, not what waits for a stalled reader`,
  fn: () =>
    withBroker({ require: false }, async (broker, agents) => {
      const agent = await startAgent(agentEnv(broker));
      agents.push(agent);
      agent.pauseReading();
      const count = 3000;
      await publishStream(broker.url, count, {
        protocolVersion: broker.protocolVersion,
        window: 200,
      });
      // The in-flight window fills behind the full pipe.
      await agent.waitFor(
        async () => (await agent.metric("ammp_agent_messages_received_total"))! >= 1000,
        "the in-flight window to fill",
      );
      const written = (await agent.metric("ammp_agent_records_written_total"))!;
      const read = agent.lines.reduce((bytes, line) => bytes + line.length + 1, 0) +
        agent.partialLine.length;
      // What reached stdout is what the test read plus what fills the pipe
      // (64 KiB on Linux); no record line is shorter than the first one.
      const shortest = transformToLine(
        `a/${nodeOf(0, 5)}/u/data`,
        new TextEncoder().encode(numberedPayload(0)),
      );
      assert.equal(shortest.kind, "record");
      const lineBytes = shortest.line.length + 1;
      console.log(
        `stalled reader: ${written} counted written, ${read} bytes read, lines of ${lineBytes}+ bytes`,
      );
      assert.ok(
        written * lineBytes <= read + 65536,
        `${written} records counted written, but at most ${
          Math.floor((read + 65536) / lineBytes)
        } can have reached stdout`,
      );
      agent.resumeReading();
      await agent.waitFor(
        async () => (await agent.metric("ammp_agent_records_written_total")) === count,
        `${count} counted written`,
      );
      assert.deepEqual(tally(agent.lines, range(0, count)).lost, []);
    }),
});
