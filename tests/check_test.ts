import assert from "node:assert/strict";
import { connect, connectAsync, type IClientOptions, type MqttClient } from "mqtt";
import { minimalEnv, ROOT } from "./_support/agent_process.ts";
import {
  freePort,
  hasMosquitto,
  mosquittoRequired,
  startBroker,
  which,
} from "./_support/broker.ts";
import { hasOpenssl, makeTestPki } from "./_support/certs.ts";

// Refused logins and sessions left behind need mosquitto's password file and
// MQTT 5 session handling, which the aedes fallback does not have.
const mosquitto = hasMosquitto() && which("mosquitto_passwd") !== undefined;
const ignore = !mosquitto && !mosquittoRequired();
const reason = ignore ? " (ignored: mosquitto and mosquitto_passwd not installed)" : "";

interface CheckRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function runCheck(env: Record<string, string>, args: string[] = []): Promise<CheckRun> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--permission-set=agent", `${ROOT}main.ts`, "check", ...args],
    cwd: ROOT,
    clearEnv: true,
    env: minimalEnv(env),
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

// Whether the broker still holds a session for the client id of `options`.
function sessionPresent(url: string, options: IClientOptions): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const client = connect(url, { ...options, reconnectPeriod: 0 });
    client.once("connect", (connack) => {
      client.end(true, {}, () => resolve(connack.sessionPresent));
    });
    client.once("error", reject);
  });
}

Deno.test({
  name:
    `\`check\` reports connection, login, subscription and the first message, then exits 0${reason}`,
  ignore,
  async fn() {
    const broker = await startBroker({ require: true });
    const clientId = `check-${crypto.randomUUID()}`;
    const publisher = await connectAsync(broker.url);
    const publishing = setInterval(() => {
      publisher.publish("a/b827eb000001/u/data", '{"t":1709288100,"r":[{"_vid":"m","P":1}]}', {
        qos: 1,
      });
    }, 100);
    try {
      const run = await runCheck(
        { MQTT_URL: broker.url, MQTT_CLIENT_ID: clientId, MQTT_TOPICS: "a/+/u/data,a/+/data" },
        ["--wait-message", "10"],
      );
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, "");
      const lines = run.stdout.trim().split("\n");
      assert.match(lines[0], new RegExp(`^ok +configuration: .*client id "${clientId}-check"`));
      assert.match(lines[1], /^ok +connection: 127\.0\.0\.1:\d+, TLS: no/);
      assert.match(lines[2], /^ok +login: accepted without a user name/);
      assert.match(lines[3], /^ok +subscription: a\/\+\/u\/data granted at QoS 1$/);
      assert.match(lines[4], /^ok +subscription: a\/\+\/data granted at QoS 1$/);
      assert.match(
        lines[5],
        /^ok +first message: after [\d.]+ s: a\/b827eb000001\/u\/data, 41 bytes: a record of node b827eb000001, 1 device at 2024-03-01T10:15:00\+00:00$/,
      );
      assert.equal(lines[6], "Check passed");
      assert.equal(lines.length, 7);

      // Nothing stays behind: the check's client id has no session on the broker.
      const present = await sessionPresent(broker.url, {
        clientId: `${clientId}-check`,
        clean: false,
        protocolVersion: 5,
        properties: { sessionExpiryInterval: 60 },
      });
      assert.equal(present, false, "the broker kept a session for the check");
    } finally {
      clearInterval(publishing);
      await publisher.endAsync();
      await broker.stop();
    }
  },
});

Deno.test("`check` on the gateway prints the node id a record of u/data gets", async () => {
  await using broker = await startBroker();
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  const publishing = setInterval(() => {
    publisher.publish("u/data", '{"t":1709288100,"r":[{"_vid":"m","P":1}]}', { qos: 1 });
  }, 100);
  try {
    const run = await runCheck({
      MQTT_URL: broker.url,
      MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
      MQTT_TOPICS: "u/data",
      NODE_ID: "b827eb00beef",
    }, ["--wait-message", "10"]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.equal(
      lines[1],
      "ok   configuration: node id b827eb00beef from NODE_ID for records whose topic carries none",
    );
    assert.match(
      lines.at(-2)!,
      /^ok +first message: after [\d.]+ s: u\/data, 41 bytes: a record of node b827eb00beef, 1 device at 2024-03-01T10:15:00\+00:00$/,
    );
  } finally {
    clearInterval(publishing);
    await publisher.endAsync();
  }
});

Deno.test({
  name: `\`check\` takes no message queued for the agent's own session${reason}`,
  ignore,
  async fn() {
    await using broker = await startBroker({ require: true });
    const clientId = `check-${crypto.randomUUID()}`;
    const session = {
      clientId,
      clean: false,
      protocolVersion: 5 as const,
      properties: { sessionExpiryInterval: 600 },
    };
    // The agent's session: subscribed, then away while a message is queued for it.
    const agent = await connectAsync(broker.url, session);
    await agent.subscribeAsync("a/+/u/data", { qos: 1 });
    await agent.endAsync();
    const publisher = await connectAsync(broker.url);
    await publisher.publishAsync("a/b827eb000001/u/data", '{"t":1,"r":[]}', { qos: 1 });
    await publisher.endAsync();

    const run = await runCheck({ MQTT_URL: broker.url, MQTT_CLIENT_ID: clientId });
    assert.equal(run.code, 0, run.stderr);

    const back = connect(broker.url, session);
    const received = new Promise<string>((resolve) => {
      back.on("message", (_topic, payload) => resolve(new TextDecoder().decode(payload)));
    });
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("none"), 5000));
    const got = await Promise.race([received, timeout]);
    await back.endAsync();
    assert.equal(got, '{"t":1,"r":[]}', "the queued message was still there for the agent");
  },
});

Deno.test({
  name: `\`check\` names a refused login in one line and exits 1${reason}`,
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-check-" });
    const passwords = `${dir}/passwd`;
    const made = await new Deno.Command("mosquitto_passwd", {
      args: ["-b", "-c", passwords, "field-engineer", "right-password"],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    const broker = await startBroker({
      require: true,
      config: ["allow_anonymous false", `password_file ${passwords}`],
    });
    try {
      await Deno.writeTextFile(`${dir}/wrong`, "wrong-password\n");
      const refused = await runCheck({
        MQTT_URL: broker.url,
        MQTT_CLIENT_ID: `check-${crypto.randomUUID()}`,
        MQTT_USERNAME: "field-engineer",
        MQTT_PASSWORD_FILE: `${dir}/wrong`,
      });
      assert.equal(refused.code, 1);
      // mosquitto answers a wrong password with "not authorized" (MQTT 5 reason code 135).
      assert.match(
        refused.stderr,
        new RegExp(
          `^Check failed: Cannot connect to ${broker.url}: the broker refused the login of ` +
            'user "field-engineer": (not authorized|bad user name or password), check ' +
            "MQTT_USERNAME and the password\\n$",
        ),
      );
      assert.ok(!refused.stdout.includes("wrong-password") && !refused.stderr.includes("wrong"));

      await Deno.writeTextFile(`${dir}/right`, "right-password\n");
      const accepted = await runCheck({
        MQTT_URL: broker.url,
        MQTT_CLIENT_ID: `check-${crypto.randomUUID()}`,
        MQTT_USERNAME: "field-engineer",
        MQTT_PASSWORD_FILE: `${dir}/right`,
      });
      assert.equal(accepted.code, 0, accepted.stderr);
      assert.match(accepted.stdout, /^ok +login: accepted for user "field-engineer"$/m);
    } finally {
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("`check` names an unreachable broker in one line and exits 1", async () => {
  const port = freePort();
  const run = await runCheck({
    MQTT_URL: `mqtt://127.0.0.1:${port}`,
    MQTT_CLIENT_ID: `check-${crypto.randomUUID()}`,
  });
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    new RegExp(
      `^Check failed: Cannot connect to mqtt://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\n$`,
    ),
  );
});

Deno.test("`check` stops at a bad setting or option with exit code 2", async () => {
  const badSetting = await runCheck({ MQTT_QOS: "2" });
  assert.equal(badSetting.code, 2);
  assert.equal(badSetting.stderr, 'Invalid MQTT_QOS "2": expected one of 1, 0\n');
  const badOption = await runCheck({}, ["--wait-message", "soon"]);
  assert.equal(badOption.code, 2);
  assert.equal(
    badOption.stderr,
    'Invalid --wait-message "soon": expected seconds from 0 to 3600\n',
  );
  for (const args of [["--wait-message", "-1"], ["--wait-message=-1"]]) {
    const negative = await runCheck({}, args);
    assert.equal(negative.code, 2, args.join(" "));
    assert.equal(
      negative.stderr,
      'Invalid --wait-message "-1": expected seconds from 0 to 3600\n',
      args.join(" "),
    );
  }
});

async function openssl(dir: string, args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null" })
    .output();
  assert.ok(success, new TextDecoder().decode(stderr));
}

// A CA and a server certificate for 127.0.0.1 signed by it, made fresh.
async function makeCertificates(dir: string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    dir,
    ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1"]
      .concat(["-subj", "/CN=check test CA"]),
  );
  await openssl(
    dir,
    ["req", ...ec, "-keyout", "server.key", "-out", "server.csr"]
      .concat(["-subj", "/CN=127.0.0.1"]),
  );
  await Deno.writeTextFile(`${dir}/san.ext`, "subjectAltName=IP:127.0.0.1\n");
  await openssl(dir, [
    ...["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key"],
    ...["-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "san.ext"],
  ]);
  // A second CA that did not sign the server's certificate.
  await openssl(
    dir,
    ["req", "-x509", ...ec, "-keyout", "other.key", "-out", "other.crt"]
      .concat(["-days", "1", "-subj", "/CN=another CA"]),
  );
}

const tlsIgnore = ignore || (which("openssl") === undefined && !mosquittoRequired());

Deno.test({
  name: `\`check\` reports TLS verified against MQTT_CA_FILE, and names an untrusted certificate${
    tlsIgnore ? " (ignored: mosquitto or openssl not installed)" : ""
  }`,
  ignore: tlsIgnore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-check-tls-" });
    await makeCertificates(dir);
    const broker = await startBroker({
      require: true,
      config: [`cafile ${dir}/ca.crt`, `certfile ${dir}/server.crt`, `keyfile ${dir}/server.key`],
    });
    const url = `mqtts://127.0.0.1:${broker.port}`;
    try {
      const trusted = await runCheck({
        MQTT_URL: url,
        MQTT_CA_FILE: `${dir}/ca.crt`,
        MQTT_CLIENT_ID: `check-${crypto.randomUUID()}`,
      });
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.match(
        trusted.stdout,
        new RegExp(
          `^ok +connection: 127\\.0\\.0\\.1:${broker.port}, TLS: yes, the certificate of ` +
            `"127\\.0\\.0\\.1" verified against MQTT_CA_FILE "${dir}/ca\\.crt"$`,
          "m",
        ),
      );

      const untrusted = await runCheck({
        MQTT_URL: url,
        MQTT_CA_FILE: `${dir}/other.crt`,
        MQTT_CLIENT_ID: `check-${crypto.randomUUID()}`,
      });
      assert.equal(untrusted.code, 1);
      assert.match(
        untrusted.stderr,
        new RegExp(
          `^Check failed: Cannot connect to ${url}: the TLS certificate of 127\\.0\\.0\\.1 is ` +
            `not signed by the CA in MQTT_CA_FILE "${dir}/other\\.crt", check that this file ` +
            "is the broker's CA certificate\\n$",
        ),
      );
    } finally {
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const schemeIgnore = ignore || (!hasOpenssl() && !mosquittoRequired());

Deno.test({
  name:
    `\`check\` names the wrong scheme for the port, or the causes of an early close, in one line and exits 1${
      schemeIgnore ? " (ignored: mosquitto or openssl not installed)" : ""
    }`,
  ignore: schemeIgnore,
  async fn() {
    const pki = await makeTestPki();
    try {
      await using plain = await startBroker({ require: true });
      await using tls = await startBroker({
        require: true,
        tls: { caFile: pki.caFile, certFile: pki.serverCertFile, keyFile: pki.serverKeyFile },
      });
      const plainPort = `127.0.0.1:${plain.port}`;
      const tlsPort = `127.0.0.1:${tls.port}`;
      const toPlain = await runCheck({
        MQTT_URL: `mqtts://${plainPort}`,
        MQTT_CA_FILE: pki.caFile,
        MQTT_CLIENT_ID: `check-${crypto.randomUUID()}`,
      });
      assert.equal(toPlain.code, 1, toPlain.stderr);
      assert.equal(
        toPlain.stderr,
        `Check failed: Cannot connect to mqtts://${plainPort}: ${plainPort} closed the connection ` +
          "before the TLS handshake: likely a port without TLS, use mqtt:// in MQTT_URL for a " +
          "plain port\n",
      );
      const toTls = await runCheck({
        MQTT_URL: `mqtt://${tlsPort}`,
        MQTT_CLIENT_ID: `check-${crypto.randomUUID()}`,
      });
      assert.equal(toTls.code, 1, toTls.stderr);
      // mosquitto's TLS listener closes without a TLS alert, on a port that
      // is not 8883: nothing says TLS, so the line names every likely cause.
      const early = (port: string) =>
        `Check failed: Cannot connect to mqtt://${port}: ${port} closed the connection before ` +
        "accepting it: a TLS port (then use mqtts:// in MQTT_URL), a broker at its connection " +
        "limit, or a proxy or firewall in between; the broker's log tells which\n";
      assert.equal(toTls.stderr, early(tlsPort));
      // A plain listener that takes no more clients closes just as early
      // (for mosquitto, max_connections 0 means no limit). mosquitto 2.0.11
      // counts a closed connection off twice (fixed in 2.0.12), the probe
      // that found the port open included: fill the listener until it
      // refuses a client after taking one, then the count stands.
      await using full = await startBroker({ require: true, config: ["max_connections 1"] });
      const fullPort = `127.0.0.1:${full.port}`;
      const holders: MqttClient[] = [];
      let refused = false;
      for (let attempt = 0; attempt < 6 && !(refused && holders.length > 0); attempt++) {
        const holder = connect(full.url, { reconnectPeriod: 0 });
        holder.on("error", () => {});
        refused = !await new Promise<boolean>((settled) => {
          holder.once("connect", () => settled(true)).once("close", () => settled(false));
        });
        if (!refused) holders.push(holder);
      }
      assert.ok(refused && holders.length > 0, `max_connections 1 held ${holders.length}`);
      const toFull = await runCheck({
        MQTT_URL: `mqtt://${fullPort}`,
        MQTT_CLIENT_ID: `check-${crypto.randomUUID()}`,
      }).finally(() => Promise.all(holders.map((holder) => holder.endAsync(true))));
      assert.equal(toFull.code, 1, toFull.stderr);
      assert.equal(toFull.stderr, early(fullPort));
    } finally {
      await Deno.remove(pki.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `\`check\` names a port that answers in TLS to mqtt://, or without TLS to mqtts://${
    hasOpenssl() || mosquittoRequired() ? "" : " (ignored: openssl not installed)"
  }`,
  ignore: !hasOpenssl() && !mosquittoRequired(),
  async fn() {
    const pki = await makeTestPki();
    // A TLS server that answers what is not a TLS handshake with an alert,
    // and a plain one that answers anything with a line of text.
    const tls = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: Deno.readTextFileSync(pki.serverCertFile),
      key: Deno.readTextFileSync(pki.serverKeyFile),
    });
    const text = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const serving = Promise.all([
      (async () => {
        for await (const connection of tls) {
          await connection.handshake().catch(() => {});
          connection.close();
        }
      })(),
      (async () => {
        for await (const connection of text) {
          await connection.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"))
            .catch(() => {});
          connection.close();
        }
      })(),
    ]);
    try {
      const tlsPort = `127.0.0.1:${(tls.addr as Deno.NetAddr).port}`;
      const textPort = `127.0.0.1:${(text.addr as Deno.NetAddr).port}`;
      const toTls = await runCheck({
        MQTT_URL: `mqtt://${tlsPort}`,
        MQTT_CLIENT_ID: `check-${crypto.randomUUID()}`,
      });
      assert.equal(toTls.code, 1, toTls.stderr);
      assert.equal(
        toTls.stderr,
        `Check failed: Cannot connect to mqtt://${tlsPort}: ${tlsPort} answered with TLS, use ` +
          "mqtts:// in MQTT_URL for a TLS port\n",
      );
      const toText = await runCheck({
        MQTT_URL: `mqtts://${textPort}`,
        MQTT_CA_FILE: pki.caFile,
        MQTT_CLIENT_ID: `check-${crypto.randomUUID()}`,
      });
      assert.equal(toText.code, 1, toText.stderr);
      assert.equal(
        toText.stderr,
        `Check failed: Cannot connect to mqtts://${textPort}: ${textPort} answered without TLS, ` +
          "use mqtt:// in MQTT_URL for a plain port\n",
      );
    } finally {
      tls.close();
      text.close();
      await serving.catch(() => {});
      await Deno.remove(pki.dir, { recursive: true });
    }
  },
});
