import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { ENV_VARS } from "../src/settings/settings.ts";
import { DEV_FLAGS } from "../tools/dev.ts";
import { minimalEnv, ROOT, startAgent } from "./_support/agent_process.ts";
import { startBroker } from "./_support/broker.ts";

interface PermissionSet {
  env: { allow: string[]; ignore: boolean };
  [name: string]: unknown;
}

const denoJson = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
const agentSet: PermissionSet = denoJson.permissions.agent;

Deno.test("the agent permission set lists exactly the variables the agent reads", () => {
  assert.deepEqual([...agentSet.env.allow].sort(), [...ENV_VARS].sort());
  // Any other variable reads as unset instead of failing: dependencies
  // look at some (DEBUG, NODE_*) and must not see them.
  assert.equal(agentSet.env.ignore, true);
});

Deno.test("the agent permission set grants no subprocesses, no FFI, and not everything", () => {
  assert.deepEqual(Object.keys(agentSet).sort(), ["env", "net", "read", "sys", "write"]);
  // The node id derived on the gateway: Deno lets only every permission read /sys.
  assert.deepEqual(agentSet.sys, ["hostname", "networkInterfaces"]);
  let checked = 0;
  for (const [name, command] of Object.entries<string>(denoJson.tasks)) {
    if (!/\bdeno (run|compile)\b.*\bmain\.ts\b/.test(command)) continue;
    assert.match(command, /--permission-set=agent\b/, name);
    assert.doesNotMatch(command, /(^|\s)(-A|--allow-\w+)/, name);
    checked++;
  }
  assert.ok(checked >= 2, "start and transform run the agent");
  // `deno task dev` runs it from tools/dev.ts.
  assert.ok(DEV_FLAGS.includes("--permission-set=agent"), DEV_FLAGS.join(" "));
  assert.ok(!DEV_FLAGS.some((flag) => /^(-A|--allow-\w+)/.test(flag)), DEV_FLAGS.join(" "));
});

Deno.test("once started with DEAD_LETTER_FILE the agent holds only the network and write, to reopen it", async () => {
  const broker = await startBroker();
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-permissions-" });
  await Deno.writeTextFile(`${dir}/agent.env`, "LOG_FORMAT=json\n");
  const agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `permissions-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    DEAD_LETTER_FILE: `${dir}/dead.ndjson`,
    // Not in the agent's list: MQTT.js's debug output must stay off.
    DEBUG: "*",
  }, { args: ["--env-file", `${dir}/agent.env`] });
  try {
    const line = agent.stderr.split("\n").find((l) => l.includes("Running with permissions"));
    assert.ok(line, agent.stderr);
    const entry = JSON.parse(line);
    assert.equal(entry.message, "Running with permissions: net, write");
    assert.equal(entry.permissions.net, "granted");
    assert.equal(entry.permissions.write, "granted");
    for (const name of ["read", "env", "sys", "run", "ffi"]) {
      assert.notEqual(entry.permissions[name], "granted", name);
    }

    const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
    await publisher.publishAsync("a/b827eb000001/u/data", "not json", { qos: 1 });
    await publisher.publishAsync("a/b827eb000001/u/data", '{"t":1,"r":[]}', { qos: 1 });
    await publisher.endAsync();
    await agent.waitForLines(1);
    assert.equal(await agent.stop(), 0);

    // Opened before the permissions were dropped, the file stays writable.
    // (write is kept for SIGHUP, which opens the path again after rotation.)
    const dead = (await Deno.readTextFile(`${dir}/dead.ndjson`)).trim().split("\n");
    assert.equal(dead.length, 1);
    assert.equal(JSON.parse(dead[0]).reason, "not_json");
    // Every stderr line is the agent's own JSON: no debug output slipped in.
    for (const l of agent.stderr.trim().split("\n")) JSON.parse(l);
  } finally {
    await agent.stop("SIGKILL");
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`transform` reads its files with the network, writing and the environment given up", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/in.jsonl`, '{"t":1,"r":[{"_vid":"m","P":1}]}\n');
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--permission-set=agent",
        "--no-prompt",
        "main.ts",
        "transform",
        "--topic",
        "a/n/u/data",
        `${dir}/in.jsonl`,
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(code, 0);
    assert.equal(
      new TextDecoder().decode(stdout),
      '{"node_id":"n","time":"1970-01-01T00:00:01+00:00","data":{"m":{"P":1}}}\n',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run with every permission (-A), the agent still gives up the environment, and connects", async () => {
  await using broker = await startBroker();
  await using agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `permissions-all-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    LOG_FORMAT: "json",
  }, { command: [Deno.execPath(), "run", "--quiet", "-A", `${ROOT}main.ts`] });
  const line = agent.stderr.split("\n").find((l) => l.includes("Running with permissions"));
  assert.ok(line, agent.stderr);
  const { permissions } = JSON.parse(line);
  for (const name of ["read", "write", "env", "sys"]) {
    assert.notEqual(permissions[name], "granted", name);
  }
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  await publisher.publishAsync("a/b827eb000001/u/data", '{"t":1,"r":[]}', { qos: 1 });
  await publisher.endAsync();
  await agent.waitForLines(1);
  assert.equal(await agent.stop(), 0);
});

Deno.test("a device named as an output file is refused in one line that says to leave it unset", async () => {
  for (
    const [name, path, stream] of [["DEAD_LETTER_FILE", "/dev/stderr", "stderr"], [
      "OUTPUT_FILE",
      "/dev/stdout",
      "stdout",
    ]]
  ) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--permission-set=agent", "--no-prompt", "main.ts"],
      cwd: ROOT,
      clearEnv: true,
      env: minimalEnv({ [name]: path }),
      stdin: "null",
      stdout: "null",
    }).output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 2, text);
    assert.equal(
      text,
      `Cannot write ${name} "${path}": not allowed by the agent's permissions, as every device; leave ${name} unset to write to ${stream}\n`,
    );
  }
});
