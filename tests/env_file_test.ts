import assert from "node:assert/strict";
import { readEnvFile } from "../src/settings/env_file.ts";
import { ROOT, startAgent } from "./_support/agent_process.ts";
import { mosquittoRequired, startBroker } from "./_support/broker.ts";

const FIXTURE = `${ROOT}tests/fixtures/env/systemd.env`;
const EXPECTED: Record<string, string> = JSON.parse(
  Deno.readTextFileSync(`${ROOT}tests/fixtures/env/systemd.expected.json`),
);

// systemd's environment.d generator reads its files with the same parser as
// EnvironmentFile= (parse_env_file_internal() in src/basic/env-file.c) and
// runs without a running systemd. It differs in two ways, which the fixture
// keeps clear of or the test leaves out: it expands $VAR, and it drops
// empty values, which EnvironmentFile= passes on as empty (and the agent
// takes an empty value as unset either way).
const GENERATOR = [
  "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator",
  "/lib/systemd/user-environment-generators/30-systemd-environment-d-generator",
].find((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});
const ignore = GENERATOR === undefined && !mosquittoRequired();
const ignored = ignore ? " (ignored: systemd's environment.d generator not installed)" : "";

// Runs the generator on one file; its stdout has one NAME=value a line, the
// value in double quotes with C escapes where it needs them.
async function systemdReads(text: string): Promise<{ env: Record<string, string>; log: string }> {
  assert.ok(GENERATOR, "systemd's environment.d generator is required on CI");
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-env-" });
  try {
    await Deno.mkdir(`${dir}/environment.d`);
    await Deno.writeTextFile(`${dir}/environment.d/50-agent.conf`, text);
    const { code, stdout, stderr } = await new Deno.Command(GENERATOR, {
      clearEnv: true,
      env: { XDG_CONFIG_HOME: dir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(stderr);
    assert.equal(code, 0, log);
    return { env: _unquote(new TextDecoder().decode(stdout)), log };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  '"': '"',
  "\\": "\\",
  $: "$",
  "`": "`",
};

function _unquote(output: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of output.split("\n")) {
    const eq = line.indexOf("=");
    if (eq === -1) continue;
    let value = line.slice(eq + 1);
    if (value.startsWith('"')) {
      assert.ok(value.endsWith('"') && value.length >= 2, line);
      value = value.slice(1, -1).replace(/\\(.)/g, (_, c: string) => {
        assert.ok(c in ESCAPES, `unexpected escape \\${c} in ${line}`);
        return ESCAPES[c];
      });
    }
    env[line.slice(0, eq)] = value;
  }
  return env;
}

Deno.test({
  name: `systemd's own parser gives the shared fixture the values --env-file reads${ignored}`,
  ignore,
  async fn() {
    const { env } = await systemdReads(await Deno.readTextFile(FIXTURE));
    const agent = readEnvFile(FIXTURE);
    assert.deepEqual(agent, EXPECTED);
    for (const [name, value] of Object.entries(EXPECTED)) {
      if (value === "") continue;
      assert.equal(env[name], value, name);
    }
  },
});

Deno.test({
  name:
    `systemd drops or swallows the lines that --env-file refuses: a byte order mark, export, no =, an open quote${ignored}`,
  ignore,
  async fn() {
    const { env, log } = await systemdReads(
      '\ufeffFIRST=1\nexport SECOND=2\nTHIRD=3\nFOURTH\nFIFTH="open\nSIXTH=6\n',
    );
    assert.equal(env.FIRST, undefined);
    assert.equal(env.SECOND, undefined);
    assert.equal(env.THIRD, "3");
    assert.equal(env.FOURTH, undefined);
    assert.equal(env.FIFTH, "open\nSIXTH=6\n");
    assert.equal(env.SIXTH, undefined);
    assert.match(log, /invalid variable name/);
  },
});

Deno.test("--env-file reads MQTT_TOPICS=a/# whole, and stops at a byte order mark with one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-env-" });
  const broker = await startBroker();
  try {
    await Deno.writeTextFile(
      `${dir}/agent.env`,
      `MQTT_URL=${broker.url}\nMQTT_TOPICS=a/#\nMQTT_PROTOCOL_VERSION=${broker.protocolVersion}\n`,
    );
    await using agent = await startAgent({ MQTT_CLIENT_ID: `env-${crypto.randomUUID()}` }, {
      args: ["--env-file", `${dir}/agent.env`],
    });
    assert.match((await agent.get("/")).body, /a\/#/);
    assert.equal(await agent.stop(), 0);
    const connecting = agent.stderr.split("\n").find((line) => line.includes("Connecting to"));
    assert.deepEqual(JSON.parse(connecting ?? "{}").topics, ["a/#"]);

    await Deno.writeTextFile(`${dir}/bom.env`, "\ufeffMQTT_QOS=7\n");
    const bom = await startAgent({}, { args: ["--env-file", `${dir}/bom.env`], waitReady: false });
    // An agent that read the file otherwise runs on: stop it after a deadline.
    const deadline = setTimeout(() => bom.stop("SIGKILL"), 15_000);
    const code = await bom.exited();
    clearTimeout(deadline);
    assert.equal(code, 2, bom.stderr);
    const lines = bom.stderr.trim().split("\n");
    assert.equal(lines.length, 1, bom.stderr);
    assert.match(
      lines[0],
      /^Invalid --env-file ".*\/bom\.env" line 1: it starts with a byte order mark/,
    );
  } finally {
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
