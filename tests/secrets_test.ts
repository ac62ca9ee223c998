import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connectAsync } from "mqtt";
import { ROOT, startAgent } from "./_support/agent_process.ts";
import {
  hasMosquitto,
  mosquittoRequired,
  startBroker,
  type TestBroker,
  which,
} from "./_support/broker.ts";

// Distinctive enough that finding it anywhere can only mean a leak.
const PASSWORD = `pw-${crypto.randomUUID()}-Zq7 ~!`;
const WRONG = `wrong-${crypto.randomUUID()}`;
const USER = "field-agent";

const missing = !hasMosquitto()
  ? "mosquitto"
  : !which("mosquitto_passwd")
  ? "mosquitto_passwd"
  : undefined;
const ignore = missing !== undefined && !mosquittoRequired();

// Every way the password could show up: as it is, URL-encoded, base64.
function leaks(text: string, secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64")];
  return forms.filter((form) => text.includes(form));
}

async function withPasswordBroker(
  fn: (broker: TestBroker, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-secrets-" });
  try {
    const made = await new Deno.Command("mosquitto_passwd", {
      args: ["-b", "-c", `${dir}/passwd`, USER, PASSWORD],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    await Deno.writeTextFile(`${dir}/password`, `${PASSWORD}\n`, { mode: 0o600 });
    await using broker = await startBroker({
      require: true,
      config: ["allow_anonymous false", `password_file ${dir}/passwd`],
    });
    await fn(broker, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: `a full run never shows the password in logs, records, /metrics, the page or --help${
    ignore ? ` (ignored: ${missing} not installed)` : ""
  }`,
  ignore,
  async fn() {
    await withPasswordBroker(async (broker, dir) => {
      await using agent = await startAgent({
        MQTT_URL: broker.url,
        MQTT_CLIENT_ID: `secret-${crypto.randomUUID()}`,
        MQTT_USERNAME: USER,
        MQTT_PASSWORD_FILE: `${dir}/password`,
        LOG_LEVEL: "debug",
        // Would make MQTT.js print its packets; the agent cannot read it.
        DEBUG: "*",
      });
      const publisher = await connectAsync(broker.url, { username: USER, password: PASSWORD });
      await publisher.publishAsync("a/b827eb000001/u/data", '{"t":1,"r":[{"_vid":"m","P":1}]}', {
        qos: 1,
      });
      await publisher.publishAsync("a/b827eb000001/u/data", "not json", { qos: 1 });
      await publisher.endAsync();
      await agent.waitForLines(1);
      await agent.waitFor(
        async () =>
          (await agent.metric('ammp_agent_messages_failed_total{reason="not_json"}')) === 1,
        "the dead letter",
      );
      const metrics = (await agent.get("/metrics")).body;
      const page = (await agent.get("/")).body;
      assert.match(page, /connected/);
      assert.equal(await agent.stop(), 0);

      assert.ok(agent.stderr.includes("Dead letter"), "the log has content to search");
      assert.deepEqual(leaks(agent.stderr, PASSWORD), [], "stderr");
      assert.deepEqual(leaks(agent.lines.join("\n"), PASSWORD), [], "stdout");
      assert.deepEqual(leaks(metrics, PASSWORD), [], "/metrics");
      assert.deepEqual(leaks(page, PASSWORD), [], "/");
      for (const line of agent.stderr.trim().split("\n")) JSON.parse(line);

      const help = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--permission-set=agent", "--no-prompt", "main.ts", "--help"],
        cwd: ROOT,
        env: { MQTT_PASSWORD: PASSWORD, MQTT_USERNAME: USER },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(help.code, 0);
      const helpText = new TextDecoder().decode(help.stdout) +
        new TextDecoder().decode(help.stderr);
      assert.match(helpText, /MQTT_PASSWORD_FILE/);
      assert.deepEqual(leaks(helpText, PASSWORD), [], "--help");
    });
  },
});

Deno.test({
  name: `a refused login names the user, not the password, and the agent keeps trying${
    ignore ? ` (ignored: ${missing} not installed)` : ""
  }`,
  ignore,
  async fn() {
    await withPasswordBroker(async (broker) => {
      await using agent = await startAgent({
        MQTT_URL: broker.url,
        MQTT_CLIENT_ID: `wrong-${crypto.randomUUID()}`,
        MQTT_USERNAME: USER,
        MQTT_PASSWORD: WRONG,
        MQTT_RECONNECT_MAX_SECONDS: "1",
        LOG_LEVEL: "debug",
      }, { waitReady: false });
      const refusals = () =>
        agent.logMessages.filter((message) => message.startsWith("Cannot connect to "));
      await agent.waitFor(() => refusals().length >= 2, "two refused logins");
      assert.match(
        refusals()[0],
        new RegExp(
          `^Cannot connect to mqtt://127\\.0\\.0\\.1:\\d+: the broker refused the login of user "${USER}": (not authorized|bad user name or password), check MQTT_USERNAME and the password; trying again in \\d+ ms$`,
        ),
      );
      assert.equal((await agent.get("/readyz")).status, 503);
      assert.equal(await agent.stop(), 0);
      assert.deepEqual(leaks(agent.stderr, WRONG), []);
      assert.deepEqual(leaks(agent.stderr, PASSWORD), []);
    });
  },
});

Deno.test({
  name: `the password can come from a systemd credential under $CREDENTIALS_DIRECTORY${
    ignore ? ` (ignored: ${missing} not installed)` : ""
  }`,
  ignore,
  async fn() {
    await withPasswordBroker(async (broker, dir) => {
      await Deno.mkdir(`${dir}/credentials`);
      await Deno.copyFile(`${dir}/password`, `${dir}/credentials/mqtt-password`);
      await using agent = await startAgent({
        MQTT_URL: broker.url,
        MQTT_CLIENT_ID: `credential-${crypto.randomUUID()}`,
        MQTT_USERNAME: USER,
        CREDENTIALS_DIRECTORY: `${dir}/credentials`,
      });
      assert.equal((await agent.get("/readyz")).status, 200);
      assert.equal(await agent.stop(), 0);
      assert.deepEqual(leaks(agent.stderr, PASSWORD), []);
    });
  },
});
