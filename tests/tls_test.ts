import assert from "node:assert/strict";
import { connectAsync, type IClientOptions } from "mqtt";
import { type AgentProcess, startAgent } from "./_support/agent_process.ts";
import {
  type BrokerTls,
  hasMosquitto,
  mosquittoRequired,
  startBroker,
  type TestBroker,
} from "./_support/broker.ts";
import { hasOpenssl, makeTestPki, type TestPki } from "./_support/certs.ts";

const PAYLOAD = '{"t":1709288100,"r":[{"_vid":"inv-1","P_total":5120.5}]}';
const RECORD =
  '{"node_id":"b827eb000001","time":"2024-03-01T10:15:00+00:00","data":{"inv-1":{"P_total":5120.5}}}';
const TOPIC = "a/b827eb000001/u/data";

const missing = !hasMosquitto() ? "mosquitto" : !hasOpenssl() ? "openssl" : undefined;

// Outside CI a machine without mosquitto or openssl reports these tests as
// ignored; on CI they run, and the missing tool fails them.
function tlsTest(name: string, fn: (pki: TestPki) => Promise<void>): void {
  if (missing !== undefined && !mosquittoRequired()) {
    Deno.test({ name: `${name} (ignored: ${missing} not installed)`, ignore: true, fn() {} });
    return;
  }
  Deno.test(name, async () => {
    const pki = await makeTestPki();
    try {
      await fn(pki);
    } finally {
      await Deno.remove(pki.dir, { recursive: true });
    }
  });
}

function serverTls(pki: TestPki, extra: Partial<BrokerTls> = {}): BrokerTls {
  return {
    caFile: pki.caFile,
    certFile: pki.serverCertFile,
    keyFile: pki.serverKeyFile,
    ...extra,
  };
}

function agentEnv(broker: TestBroker, env: Record<string, string>): Record<string, string> {
  return {
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `tls-${crypto.randomUUID()}`,
    MQTT_RECONNECT_MAX_SECONDS: "1",
    ...env,
  };
}

// Publishes one payload at QoS 1 as a correctly configured client would.
async function publish(broker: TestBroker, pki: TestPki, withCert = false): Promise<void> {
  const options: IClientOptions = {
    ca: Deno.readTextFileSync(pki.caFile),
    rejectUnauthorized: true,
    protocolVersion: 5,
    ...(withCert
      ? {
        cert: Deno.readTextFileSync(pki.clientCertFile),
        key: Deno.readTextFileSync(pki.clientKeyFile),
      }
      : {}),
  };
  const client = await connectAsync(broker.url, options);
  try {
    await client.publishAsync(TOPIC, PAYLOAD, { qos: 1 });
  } finally {
    await client.endAsync();
  }
}

function connectFailures(agent: AgentProcess): string[] {
  return agent.logMessages.filter((message) => message.startsWith("Cannot connect to "));
}

/**
 * Runs the agent against a broker it must refuse: waits for two failed
 * attempts (so the backoff goes on), checks that it never became ready and
 * wrote nothing, and returns the first failure's log message.
 */
async function expectRefusal(
  broker: TestBroker,
  env: Record<string, string>,
  publishOne: () => Promise<void>,
): Promise<string> {
  await using agent = await startAgent(agentEnv(broker, env), { waitReady: false });
  await agent.waitFor(() => connectFailures(agent).length >= 2, "two failed attempts");
  await publishOne();
  await agent.waitFor(() => connectFailures(agent).length >= 3, "a third failed attempt");
  assert.equal((await agent.get("/readyz")).status, 503);
  assert.equal(await agent.metric("ammp_agent_broker_connected"), 0);
  assert.equal(await agent.metric("ammp_agent_messages_received_total"), 0);
  assert.equal(agent.logMessages.filter((m) => m.startsWith("Connected to ")).length, 0);
  assert.equal(await agent.stop(), 0);
  assert.deepEqual(agent.lines, []);
  const [first, second] = connectFailures(agent);
  // The same sentence on every attempt, apart from the delay.
  assert.equal(first.replace(/\d+ ms$/, ""), second.replace(/\d+ ms$/, ""));
  return first;
}

async function expectDelivery(agent: AgentProcess, send: () => Promise<void>): Promise<void> {
  await send();
  await agent.waitForLines(1);
  assert.deepEqual(agent.lines, [RECORD]);
  assert.equal(await agent.metric("ammp_agent_broker_connected"), 1);
  assert.equal(await agent.stop(), 0);
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

tlsTest(
  "the agent connects over TLS with the right MQTT_CA_FILE and delivers records",
  async (pki) => {
    await using broker = await startBroker({ tls: serverTls(pki) });
    assert.match(broker.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
    await using agent = await startAgent(agentEnv(broker, { MQTT_CA_FILE: pki.caFile }));
    await expectDelivery(agent, () => publish(broker, pki));
  },
);

tlsTest(
  "a wrong MQTT_CA_FILE is one plain log line per attempt and the agent never connects",
  async (pki) => {
    await using broker = await startBroker({ tls: serverTls(pki) });
    const line = await expectRefusal(broker, {
      MQTT_CA_FILE: pki.otherCaFile,
      // Node's switch to turn verification off must not work here.
      NODE_TLS_REJECT_UNAUTHORIZED: "0",
    }, () => publish(broker, pki));
    assert.match(
      line,
      new RegExp(
        `^Cannot connect to ${escape(broker.url)}: the TLS certificate of 127\\.0\\.0\\.1 ` +
          `is not signed by the CA in MQTT_CA_FILE "${escape(pki.otherCaFile)}", ` +
          `check that this file is the broker's CA certificate; trying again in \\d+ ms$`,
      ),
    );
  },
);

tlsTest(
  "without MQTT_CA_FILE the broker is checked against Deno's root certificates",
  async (pki) => {
    await using broker = await startBroker({ tls: serverTls(pki) });
    const line = await expectRefusal(broker, {}, () => publish(broker, pki));
    assert.match(
      line,
      /: the TLS certificate of 127\.0\.0\.1 is not signed by any CA this machine trusts, set MQTT_CA_FILE to the broker's CA certificate; trying again in \d+ ms$/,
    );
    // DENO_CERT adds a CA to that store: the same agent then connects.
    await using agent = await startAgent(agentEnv(broker, { DENO_CERT: pki.caFile }));
    await expectDelivery(agent, () => publish(broker, pki));
  },
);

tlsTest(
  "a host name the broker's certificate does not list is refused, by name or by address",
  async (pki) => {
    const broker = await startBroker({ tls: serverTls(pki) });
    const nameOnly = await startBroker({
      tls: serverTls(pki, { certFile: pki.nameOnlyCertFile, keyFile: pki.nameOnlyKeyFile }),
    });
    try {
      const byName = await expectRefusal(broker, {
        MQTT_CA_FILE: pki.caFile,
        MQTT_TLS_SERVERNAME: "broker.example.com",
      }, () => publish(broker, pki));
      assert.match(
        byName,
        /: the TLS certificate of 127\.0\.0\.1 is not valid for the name "broker\.example\.com" \(it lists IP Address:127\.0\.0\.1, DNS:localhost\), connect by a name it lists or set MQTT_TLS_SERVERNAME to one; trying again in \d+ ms$/,
      );

      // A certificate for "localhost" only does not cover 127.0.0.1 ...
      const byAddress = await expectRefusal(
        nameOnly,
        { MQTT_CA_FILE: pki.caFile },
        () => Promise.resolve(),
      );
      assert.match(
        byAddress,
        /is not valid for the name "127\.0\.0\.1" \(it lists DNS:localhost\)/,
      );

      // ... unless MQTT_TLS_SERVERNAME names what it lists.
      await using agent = await startAgent(
        agentEnv(nameOnly, { MQTT_CA_FILE: pki.caFile, MQTT_TLS_SERVERNAME: "localhost" }),
      );
      await expectDelivery(agent, async () => {
        const client = await connectAsync(nameOnly.url, {
          ca: Deno.readTextFileSync(pki.caFile),
          servername: "localhost",
          rejectUnauthorized: true,
        });
        await client.publishAsync(TOPIC, PAYLOAD, { qos: 1 });
        await client.endAsync();
      });
    } finally {
      await broker.stop();
      await nameOnly.stop();
    }
  },
);

tlsTest(
  "mutual TLS: no client certificate or a stranger's is refused, the right one delivers",
  async (pki) => {
    await using broker = await startBroker({ tls: serverTls(pki, { requireCertificate: true }) });
    const publishWithCert = () => publish(broker, pki, true);
    const without = await expectRefusal(broker, { MQTT_CA_FILE: pki.caFile }, publishWithCert);
    assert.match(
      without,
      /: the broker 127\.0\.0\.1 requires a client certificate, set MQTT_CERT_FILE and MQTT_KEY_FILE; trying again in \d+ ms$/,
    );

    const stranger = await expectRefusal(broker, {
      MQTT_CA_FILE: pki.caFile,
      MQTT_CERT_FILE: pki.strangerCertFile,
      MQTT_KEY_FILE: pki.strangerKeyFile,
    }, publishWithCert);
    assert.match(
      stranger,
      new RegExp(
        `: the broker 127\\.0\\.0\\.1 did not accept the client certificate in MQTT_CERT_FILE "${
          escape(pki.strangerCertFile)
        }"`,
      ),
    );

    await using agent = await startAgent(agentEnv(broker, {
      MQTT_CA_FILE: pki.caFile,
      MQTT_CERT_FILE: pki.clientCertFile,
      MQTT_KEY_FILE: pki.clientKeyFile,
    }));
    await expectDelivery(agent, publishWithCert);
  },
);

tlsTest(
  "the wrong scheme for the port is one plain log line per attempt: mqtts:// to a plain port, mqtt:// to a TLS port",
  async (pki) => {
    await using plain = await startBroker();
    await using tls = await startBroker({ tls: serverTls(pki) });
    const plainPort = `127.0.0.1:${plain.port}`;
    const tlsPort = `127.0.0.1:${tls.port}`;

    const toPlain = await expectRefusal(plain, {
      MQTT_URL: `mqtts://${plainPort}`,
      MQTT_CA_FILE: pki.caFile,
    }, () => Promise.resolve());
    assert.match(
      toPlain,
      new RegExp(
        `^Cannot connect to mqtts://${escape(plainPort)}: ${escape(plainPort)} closed the ` +
          "connection before the TLS handshake: likely a port without TLS, use mqtt:// in " +
          "MQTT_URL for a plain port; trying again in \\d+ ms$",
      ),
    );

    const toTls = await expectRefusal(
      tls,
      { MQTT_URL: `mqtt://${tlsPort}` },
      () => publish(tls, pki),
    );
    assert.match(
      toTls,
      new RegExp(
        `^Cannot connect to mqtt://${escape(tlsPort)}: ${escape(tlsPort)} closed the ` +
          "connection before accepting it: a TLS port \\(then use mqtts:// in MQTT_URL\\), a " +
          "broker at its connection limit, or a proxy or firewall in between; the broker's log " +
          "tells which; trying again in \\d+ ms$",
      ),
    );
  },
);
