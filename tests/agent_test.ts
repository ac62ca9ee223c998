import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { startAgent } from "./agent_process.ts";
import { startBroker } from "./broker.ts";
import { assertEndToEnd, loadExamples } from "./scenario.ts";

Deno.test("the agent writes one record per payload, dead-letters the broken ones and counts it all", async () => {
  // `deno run` of a checkout knows no revision.
  await assertEndToEnd((env) => startAgent(env), { revision: "unknown" });
});
Deno.test("the agent serves health, readiness, a status page, and 404/405 for the rest", async () => {
  const broker = await startBroker();
  const agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `http-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
  });
  try {
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
  } finally {
    await agent.stop("SIGKILL");
    await broker.stop();
  }
});

Deno.test("a bad setting stops the agent with one line naming it and exit code 2", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ MQTT_QOS: "3" }, /^Invalid MQTT_QOS "3": expected one of 1, 0$/],
    [{ MQTT_URL: "http://x" }, /^Invalid MQTT_URL "http:\/\/x": scheme "http" is not supported/],
    [{ MQTT_CA_FILE: "/nonexistent/ca.pem", MQTT_URL: "mqtts://h" }, /^Cannot read MQTT_CA_FILE/],
    [{ METRICS_LISTEN: "nope" }, /^Invalid METRICS_LISTEN "nope"/],
  ];
  for (const [env, message] of cases) {
    const agent = await startAgent(env, { waitReady: false });
    assert.equal(await agent.exited(), 2, JSON.stringify(env));
    const lines = agent.stderr.trim().split("\n");
    assert.equal(lines.length, 1, agent.stderr);
    assert.match(lines[0], message);
    assert.deepEqual(agent.lines, []);
  }
});

Deno.test("an option of another command stops the agent with one line naming it and exit code 2", async () => {
  const agent = await startAgent({}, { args: ["--quiet-seconds", "3"], waitReady: false });
  assert.equal(await agent.exited(), 2);
  assert.equal(
    agent.stderr.trim(),
    'Option --quiet-seconds is for "ammp-agent leave"; see ammp-agent --help',
  );
});

Deno.test("`main.ts transform` replays payload lines with the live transform", async () => {
  const examples = loadExamples().filter((example) => example.topic === "a/b827eb000001/u/data");
  const input = examples.map((example) => new TextDecoder().decode(example.payload).trim())
    .join("\n");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--permission-set=agent",
      "main.ts",
      "transform",
      "--topic",
      "a/b827eb000001/u/data",
    ],
    cwd: new URL("../", import.meta.url).pathname,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input + "\n"));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const expected = examples.filter((e) => e.expected !== undefined).map((e) => e.expected);
  assert.deepEqual(new TextDecoder().decode(stdout).trim().split("\n"), expected);
  const deadLines = new TextDecoder().decode(stderr).trim().split("\n");
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
    await agent.waitFor(
      async () => (await agent.metric("ammp_agent_records_written_total")) === 3,
      "3 records",
    );
    // Still written: the record is the datalogger's; only the lag gauge ignores it.
    assert.equal(agent.lines.length, 3);
    assert.equal(await agent.metric("ammp_agent_last_reading_timestamp_seconds"), now - 30);
    assert.equal(await agent.metric("ammp_agent_readings_from_future_total"), 1);
  } finally {
    await publisher.endAsync();
    await agent.stop("SIGKILL");
    await broker.stop();
  }
});
