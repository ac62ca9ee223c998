import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { transform } from "../src/transform/transform.ts";
import { ROOT } from "./_support/agent_process.ts";
import { startBroker } from "./_support/broker.ts";
import { BACKFILL_SECONDS, SiteFaults } from "../tools/simulate.ts";
import { waitFor } from "./_support/wait_for.ts";

Deno.test("`deno task simulate` publishes the asked count at QoS 1, each message of the kind it says", async () => {
  await using broker = await startBroker();
  const subscriber = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  const received: { topic: string; payload: Uint8Array; qos: number }[] = [];
  subscriber.on("message", (topic, payload, packet) => {
    received.push({ topic, payload: new Uint8Array(payload), qos: packet.qos });
  });
  await subscriber.subscribeAsync("a/#", { qos: 1 });
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "--quiet",
        "simulate",
        ...["--url", broker.url, "--protocol-version", String(broker.protocolVersion)],
        ...["--nodes", "6", "--count", "300", "--rate", "max", "--seed", "5"],
        ...["--malformed", "0.1", "--non-data", "0.1"],
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const errors = new TextDecoder().decode(stderr);
    assert.equal(code, 0, errors);
    const summary = JSON.parse(new TextDecoder().decode(stdout));
    assert.equal(summary.published, 300);
    assert.equal(summary.acknowledged, 300);
    assert.equal(summary.seed, 5);
    assert.equal(summary.kinds.data + summary.kinds.malformed + summary.kinds.non_data, 300);
    assert.ok(summary.kinds.malformed > 0 && summary.kinds.non_data > 0, JSON.stringify(summary));
    assert.match(errors, /Published 300 messages .* 300 acknowledged/);

    await waitFor(() => received.length >= 300, {
      what: () => `300 messages (have ${received.length})`,
      timeoutMs: 10_000,
    });
    assert.equal(received.length, 300);
    const outcomes = { record: 0, dead: 0, ignored: 0 };
    const nodes = new Set<string>();
    for (const message of received) {
      assert.equal(message.qos, 1);
      const result = transform(message.topic, message.payload);
      outcomes[result.kind]++;
      if (result.kind === "record") nodes.add(result.record.node_id!);
    }
    assert.deepEqual(outcomes, {
      record: summary.kinds.data,
      dead: summary.kinds.malformed,
      ignored: summary.kinds.non_data,
    });
    assert.equal(nodes.size, 6);
    for (const node of nodes) assert.match(node, /^[0-9a-f]{12}$/);
  } finally {
    await subscriber.endAsync();
  }
});

Deno.test("`deno task simulate` names a bad option and an unreachable broker in one line", async () => {
  const run = async (args: string[]) => {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--permission-set=simulate", "tools/simulate.ts", ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    return { code, stderr: new TextDecoder().decode(stderr) };
  };
  const bad = await run(["--malformed", "2"]);
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    'Invalid --malformed "2": expected a number from 0 to 1; see deno task simulate --help\n',
  );
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const unreachable = await run(["--url", `mqtt://127.0.0.1:${port}`, "--count", "1"]);
  assert.equal(unreachable.code, 1);
  assert.match(
    unreachable.stderr,
    new RegExp(`Cannot connect to mqtt://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
  );
});

Deno.test("SiteFaults makes the last sites silent, offline and backfilling once the fault begins", () => {
  const faults = new SiteFaults(5, { silent: 1, offline: 1, backfill: 1, faultAfterSeconds: 10 });
  const now = 1_790_000_000;
  // Before the fault every site reports but the backfilling one, which is away.
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => faults.turn(i, 5, now).readingTimes), [
    [now],
    [now],
    [],
    [now],
    [now],
  ]);
  assert.deepEqual(faults.turn(4, 10, now), { bridgeDown: false, readingTimes: [] });
  assert.deepEqual(faults.turn(3, 10, now), { bridgeDown: true, readingTimes: [] });
  assert.deepEqual(faults.turn(3, 15, now), { bridgeDown: false, readingTimes: [] });
  assert.deepEqual(faults.turn(0, 15, now), { bridgeDown: false, readingTimes: [now] });
  // The backlog: two days, ten readings a minute apart per turn, then live.
  const first = faults.turn(2, 10, now).readingTimes;
  assert.deepEqual(first, Array.from({ length: 10 }, (_, k) => now - BACKFILL_SECONDS + 60 * k));
  let turns = 1;
  let last = first;
  while (last.length > 1 || last[0] < now) {
    last = faults.turn(2, 10 + turns, now).readingTimes;
    turns++;
  }
  assert.equal(turns, BACKFILL_SECONDS / 60 / 10 + 1);
  assert.deepEqual(last, [now]);
});

Deno.test("SiteFaults on the gateway: an offline site's data still comes while its bridge says 0", () => {
  const faults = new SiteFaults(1, { offline: 1, faultAfterSeconds: 10, local: true });
  const now = 1_790_000_000;
  assert.deepEqual(faults.turn(0, 10, now), { bridgeDown: true, readingTimes: [now] });
  assert.deepEqual(faults.turn(0, 15, now), { bridgeDown: false, readingTimes: [now] });
});

Deno.test("`deno task simulate` publishes each site's bridge state retained, and 0 for an offline site", async () => {
  await using broker = await startBroker();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--permission-set=simulate",
      "tools/simulate.ts",
      ...["--url", broker.url, "--protocol-version", String(broker.protocolVersion)],
      ...["--nodes", "3", "--interval", "0.2", "--offline", "1", "--fault-after", "0.5"],
      ...["--duration", "1.5", "--seed", "7"],
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const { code, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  // A subscriber that comes later is handed the retained states.
  const subscriber = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  const states = new Map<string, string>();
  subscriber.on("message", (topic, payload, packet) => {
    if (packet.retain) states.set(topic, new TextDecoder().decode(payload));
  });
  try {
    await subscriber.subscribeAsync("a/+/bridge_state", { qos: 1 });
    await waitFor(() => states.size >= 3, {
      what: () => `3 bridge states (have ${states.size})`,
      timeoutMs: 5000,
    });
    assert.deepEqual([...states.values()].sort(), ["0", "1", "1"]);
  } finally {
    await subscriber.endAsync();
  }
});

Deno.test("`deno task simulate --local` publishes as a datalogger on its gateway: u/data, and its bridge's state", async () => {
  await using broker = await startBroker();
  const subscriber = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  const received: { topic: string; payload: string; retain: boolean }[] = [];
  subscriber.on("message", (topic, payload, packet) => {
    received.push({ topic, payload: new TextDecoder().decode(payload), retain: packet.retain });
  });
  await subscriber.subscribeAsync("#", { qos: 1 });
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--permission-set=simulate",
        "tools/simulate.ts",
        ...["--url", broker.url, "--protocol-version", String(broker.protocolVersion)],
        ...["--local", "--node-id", "b827eb00beef", "--interval", "0.05", "--count", "6"],
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    await waitFor(() => received.length >= 6, {
      what: () => `6 messages (have ${received.length})`,
      timeoutMs: 10_000,
    });
    assert.deepEqual(received[0], {
      topic: "a/b827eb00beef/bridge_state",
      payload: "1",
      retain: false,
    });
    assert.deepEqual(
      new Set(received.slice(1).map((message) => message.topic)),
      new Set(["u/data"]),
    );
    // The agent on the gateway makes a record of NODE_ID's node of each.
    for (const message of received.slice(1)) {
      const result = transform(message.topic, new TextEncoder().encode(message.payload), {
        nodeId: "b827eb00beef",
      });
      assert.equal(result.kind === "record" && result.record.node_id, "b827eb00beef");
    }
  } finally {
    await subscriber.endAsync();
  }
});

Deno.test("`deno task simulate --local` is one datalogger, and takes only a node id that can be one", async () => {
  const run = async (args: string[]) => {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--permission-set=simulate", "tools/simulate.ts", ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    return { code, stderr: new TextDecoder().decode(stderr) };
  };
  assert.deepEqual(await run(["--local", "--nodes", "3"]), {
    code: 2,
    stderr:
      'Invalid --nodes "3": --local is one datalogger, expected 1; see deno task simulate --help\n',
  });
  const bad = await run(["--local", "--node-id", "B8/27"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^Invalid --node-id "B8\/27": expected 1 to 64 /);
});
