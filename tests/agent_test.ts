import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { runTransform, startAgent } from "./_support/agent_process.ts";
import { startBroker } from "./_support/broker.ts";
import { assertEndToEnd, loadExamples } from "./_support/scenario.ts";

Deno.test("the agent writes one record per payload, dead-letters the broken ones and counts it all", async () => {
  // `deno run` of a checkout knows no revision.
  await assertEndToEnd((env) => startAgent(env), { revision: "unknown" });
});
Deno.test("the agent serves health, readiness, a status page, and 404/405 for the rest", async () => {
  await using broker = await startBroker();
  await using agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `http-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
  });
  assert.deepEqual(await agent.get("/healthz"), { status: 200, body: "ok\n" });
  assert.deepEqual(await agent.get("/readyz"), { status: 200, body: "ready\n" });
  const index = await agent.get("/");
  assert.equal(index.status, 200);
  assert.match(index.body, /href="\/metrics"/);
  assert.match(index.body, /connected/);
  assert.equal((await agent.get("/nope")).status, 404);
  const post = await fetch(`http://127.0.0.1:${agent.port}/metrics`, { method: "POST" });
  await post.body?.cancel();
  assert.equal(post.status, 405);

  // readyz follows the connection
  await broker.stop();
  await agent.waitFor(async () => (await agent.get("/readyz")).status === 503, "readyz 503");
  assert.equal(await agent.metric("ammp_agent_broker_connected"), 0);
  assert.equal(await agent.stop("SIGINT"), 0);
});

Deno.test("a bad setting stops the agent with one line naming it and exit code 2", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ MQTT_QOS: "3" }, /^Invalid MQTT_QOS "3": expected one of 1, 0$/],
    [{ MQTT_URL: "http://x" }, /^Invalid MQTT_URL "http:\/\/x": scheme "http" is not supported/],
    [{ MQTT_CA_FILE: "/nonexistent/ca.pem", MQTT_URL: "mqtts://h" }, /^Cannot read MQTT_CA_FILE/],
    [{ METRICS_LISTEN: "nope" }, /^Invalid METRICS_LISTEN "nope"/],
    [{ MQTT_URL: "mqtt://127.0.0.1:0" }, /^Invalid MQTT_URL "mqtt:\/\/127\.0\.0\.1:0": port 0/],
    [{ METRICS_LISTEN: "a b:2667" }, /^Invalid METRICS_LISTEN "a b:2667": /],
    [
      { NODE_ID: "B8/27 EB", MQTT_TOPICS: "u/data" },
      /^Invalid NODE_ID "B8\/27 EB": expected 1 to 64 /,
    ],
    // .invalid never resolves (RFC 6761).
    [
      { METRICS_LISTEN: "agent.invalid:2667" },
      /^Invalid METRICS_LISTEN "agent\.invalid:2667": cannot listen on host "agent\.invalid": /,
    ],
  ];
  for (const [env, message] of cases) {
    const agent = await startAgent(env, { waitReady: false });
    // An agent that takes the setting runs on: stop it after a deadline.
    const deadline = setTimeout(() => agent.stop("SIGKILL"), 15_000);
    const code = await agent.exited();
    clearTimeout(deadline);
    assert.equal(code, 2, `${JSON.stringify(env)}: ${agent.stderr}`);
    const lines = agent.stderr.trim().split("\n");
    assert.equal(lines.length, 1, agent.stderr);
    assert.match(lines[0], message);
    assert.deepEqual(agent.lines, []);
  }
});

Deno.test("a METRICS_LISTEN address this host does not have stops the agent with one line and exit code 1", async () => {
  // 192.0.2.1 (TEST-NET-1) is no address of this host; it may become one
  // later, so systemd is to try again (exit code 1, not 2).
  const agent = await startAgent({ METRICS_LISTEN: "192.0.2.1:2667" }, { waitReady: false });
  const deadline = setTimeout(() => agent.stop("SIGKILL"), 15_000);
  const code = await agent.exited();
  clearTimeout(deadline);
  assert.equal(code, 1, agent.stderr);
  assert.equal(
    agent.stderr,
    'Cannot listen on METRICS_LISTEN "192.0.2.1:2667": Cannot assign requested address\n',
  );
});

Deno.test("an option of another command stops the agent with one line naming it and exit code 2", async () => {
  const agent = await startAgent({}, { args: ["--quiet-seconds", "3"], waitReady: false });
  assert.equal(await agent.exited(), 2);
  assert.equal(
    agent.stderr.trim(),
    'Option --quiet-seconds is for "ammp-agent leave"; see ammp-agent --help',
  );
});

Deno.test("`transform` stops at a bad LOG_LEVEL, LOG_FORMAT or MAX_PAYLOAD_BYTES with one line and exit code 2", async () => {
  const line = '{"t":1709288100,"r":[{"_vid":"m","P":1}]}\n';
  const cases: [Record<string, string>, RegExp][] = [
    [{ LOG_LEVEL: "bogus" }, /^Invalid LOG_LEVEL "bogus": expected one of /],
    [{ LOG_FORMAT: "xml" }, /^Invalid LOG_FORMAT "xml": expected one of /],
    [{ MAX_PAYLOAD_BYTES: "abc" }, /^Invalid MAX_PAYLOAD_BYTES "abc": expected a whole number/],
    [{ MAX_PAYLOAD_BYTES: "10" }, /^Invalid MAX_PAYLOAD_BYTES "10": expected a whole number/],
  ];
  for (const [env, message] of cases) {
    const run = await runTransform(line, { env });
    assert.equal(run.code, 2, JSON.stringify(env));
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], message);
    assert.equal(run.stdout, "");
  }
});

Deno.test("`transform` honours MAX_PAYLOAD_BYTES and needs no broker settings", async () => {
  const small = '{"t":1709288100,"r":[{"_vid":"m","P":1}]}';
  const large = JSON.stringify({ t: 1709288100, r: [{ _vid: "m", note: "x".repeat(200) }] });
  // Settings transform does not use are not read, so a broken one does not stop it.
  const run = await runTransform(`${small}\n${large}\n`, {
    env: { MAX_PAYLOAD_BYTES: "100", MQTT_URL: "http://x", MQTT_QOS: "7" },
  });
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, '{"time":"2024-03-01T10:15:00+00:00","data":{"m":{"P":1}}}\n');
  const deadLetters = run.stderr.trim().split("\n").map((line) => JSON.parse(line));
  assert.equal(deadLetters.length, 1);
  assert.equal(deadLetters[0].reason, "too_large");
});

Deno.test("`main.ts transform` replays payload lines with the live transform", async () => {
  const examples = loadExamples().filter((example) => example.topic === "a/b827eb000001/u/data");
  const input = examples.map((example) => new TextDecoder().decode(example.payload).trim())
    .join("\n");
  const { code, stdout, stderr } = await runTransform(input + "\n", {
    topic: "a/b827eb000001/u/data",
  });
  const expected = examples.filter((e) => e.expected !== undefined).map((e) => e.expected);
  assert.deepEqual(stdout.trim().split("\n"), expected);
  const deadLines = stderr.trim().split("\n");
  assert.equal(deadLines.length, examples.length - expected.length);
  assert.equal(code, 1, "exit code 1 when a line became a dead letter");
});

Deno.test("a reading from the far future is counted and does not pin the last reading time", async () => {
  const broker = await startBroker();
  const agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `future-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
  });
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  try {
    const now = Math.floor(Date.now() / 1000);
    for (const t of [now - 60, 4102444800, now - 30]) {
      await publisher.publishAsync("a/b827eb000001/u/data", `{"t":${t},"r":[{"_vid":"m","P":1}]}`, {
        qos: 1,
      });
    }
    // All three are written: only the lag gauge leaves the far future out.
    await agent.waitForLines(3);
    await agent.waitFor(
      async () => (await agent.metric("ammp_agent_records_written_total")) === 3,
      "3 records counted",
    );
    assert.equal(await agent.metric("ammp_agent_last_reading_timestamp_seconds"), now - 30);
    assert.equal(await agent.metric("ammp_agent_readings_from_future_total"), 1);
  } finally {
    await publisher.endAsync();
    await agent.stop("SIGKILL");
    await broker.stop();
  }
});

Deno.test("a METRICS_LISTEN port in use stops the agent with a last line quoting it and exit code 1", async () => {
  await using broker = await startBroker();
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const listen = `127.0.0.1:${(taken.addr as Deno.NetAddr).port}`;
  const agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `in-use-${crypto.randomUUID()}`,
    METRICS_LISTEN: listen,
  }, { waitReady: false });
  const deadline = setTimeout(() => agent.stop("SIGKILL"), 15_000);
  const code = await agent.exited();
  clearTimeout(deadline);
  assert.equal(code, 1, agent.stderr);
  assert.equal(
    agent.logMessages.at(-1),
    `Cannot listen on METRICS_LISTEN "${listen}": address already in use`,
  );
});

Deno.test("the agent's last line counts the records it wrote, in the singular for one", async () => {
  await using broker = await startBroker();
  await using agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `one-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
  });
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  try {
    const t = Math.floor(Date.now() / 1000);
    await publisher.publishAsync("a/b827eb000001/u/data", `{"t":${t},"r":[{"_vid":"m","P":1}]}`, {
      qos: 1,
    });
    await agent.waitForLines(1);
  } finally {
    await publisher.endAsync();
  }
  assert.equal(await agent.stop(), 0);
  assert.equal(agent.logMessages.at(-1), "Stopped after writing 1 record");
});
