import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./load_config.ts";

const files: Record<string, string> = {
  "/etc/ammp/ca.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  "/etc/ammp/password": "s3cret pass\n",
  "/etc/ammp/empty": "",
  "/etc/ammp/not-pem": "hello",
};

function load(env: Record<string, string>) {
  return loadConfig(env, {
    hostname: () => "Gateway_01.local",
    readTextFile: (path) => {
      if (path.includes("/locked/")) throw new Deno.errors.PermissionDenied(path);
      if (path in files) return files[path];
      throw new Deno.errors.NotFound(path);
    },
  });
}

// Runs `check` with a new temporary folder, and removes the folder after.
async function inTempDir(check: (dir: string) => void): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    check(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// The error a malformed MQTT_URL stops the program with.
function urlError(url: string): ConfigError {
  try {
    load({ MQTT_URL: url });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.variable, "MQTT_URL");
    return error;
  }
  assert.fail(`accepted ${url}`);
}

function rejects(env: Record<string, string>, variable: string, message: RegExp) {
  try {
    load(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.variable, variable);
    assert.match(error.message, message);
    assert.ok(!error.message.includes("\n"), "one line");
    return;
  }
  assert.fail(`expected ${variable} to be rejected in ${JSON.stringify(env)}`);
}

Deno.test("loadConfig() has working defaults for every setting", () => {
  const config = load({});
  assert.equal(config.mqtt.url, "mqtt://localhost:1883");
  assert.deepEqual(config.mqtt.topics, ["a/+/u/data", "a/+/bridge_state"]);
  assert.deepEqual(config.mqtt.subscriptions, ["a/+/u/data", "a/+/bridge_state"]);
  assert.equal(config.mqtt.clientId, "ammp-agent-gateway-01-local");
  assert.equal(config.mqtt.qos, 1);
  assert.equal(config.mqtt.protocolVersion, 5);
  assert.equal(config.mqtt.sessionExpirySeconds, 604800);
  assert.equal(config.mqtt.receiveMaximum, 1000);
  assert.deepEqual(config.metrics, { hostname: "127.0.0.1", port: 2667 });
  assert.deepEqual(config.log, { level: "info", format: "json" });
  assert.equal(config.outputFormat, "record");
  assert.equal(config.maxPayloadBytes, 1048576);
  assert.equal(config.maxBufferedBytes, 4194304);
  assert.equal(config.shutdownTimeoutSeconds, 10);
  assert.equal(config.mqtt.password, undefined);
});

Deno.test("loadConfig() reads the broker URL with default ports per scheme", () => {
  assert.equal(load({ MQTT_URL: "mqtts://mqtt.stage.ammp.io" }).mqtt.port, 8883);
  assert.equal(load({ MQTT_URL: "mqtt://10.0.0.2" }).mqtt.port, 1883);
  const v6 = load({ MQTT_URL: "mqtt://[::1]:1884" }).mqtt;
  assert.equal(v6.host, "::1");
  assert.equal(v6.port, 1884);
  rejects({ MQTT_URL: "not a url" }, "MQTT_URL", /^Invalid MQTT_URL "not a url": expected mqtt/);
  rejects({ MQTT_URL: "ws://h:80" }, "MQTT_URL", /scheme "ws" is not supported/);
  rejects({ MQTT_URL: "mqtt://h:1883/x" }, "MQTT_URL", /expected no path/);
  rejects(
    { MQTT_URL: "mqtt://h:0" },
    "MQTT_URL",
    /^Invalid MQTT_URL "mqtt:\/\/h:0": port 0 is out/,
  );
  rejects({ MQTT_URL: "mqtts://h:65536" }, "MQTT_URL", /^Invalid MQTT_URL "mqtts:\/\/h:65536"/);
  assert.equal(load({ MQTT_URL: "mqtt://h:65535" }).mqtt.port, 65535);
  assert.equal(load({ MQTT_URL: "mqtt://h:1" }).mqtt.port, 1);
});

Deno.test("loadConfig() refuses credentials in MQTT_URL without echoing the password", () => {
  try {
    load({ MQTT_URL: "mqtt://user:hunter2@h:1883" });
    assert.fail("accepted");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.variable, "MQTT_URL");
    assert.ok(!error.message.includes("hunter2"), error.message);
  }
});

Deno.test("loadConfig() validates topic filters and applies the share group", () => {
  assert.deepEqual(load({ MQTT_TOPICS: " a/+/u/data , a/+/data,a/+/u/data" }).mqtt.topics, [
    "a/+/u/data",
    "a/+/data",
  ]);
  const shared = load({ MQTT_TOPICS: "a/#", MQTT_SHARE_GROUP: "agents" }).mqtt;
  assert.deepEqual(shared.subscriptions, ["$share/agents/a/#"]);
  rejects({ MQTT_TOPICS: "a/#/x" }, "MQTT_TOPICS", /"a\/#\/x" uses "#"/);
  rejects({ MQTT_TOPICS: "a/b+/c" }, "MQTT_TOPICS", /uses "\+"/);
  rejects({ MQTT_TOPICS: "a/+,," }, "MQTT_TOPICS", /is empty/);
  rejects({ MQTT_SHARE_GROUP: "a/b" }, "MQTT_SHARE_GROUP", /^Invalid MQTT_SHARE_GROUP "a\/b"/);
});

Deno.test("loadConfig() takes the password from a file, the environment, or neither", () => {
  const fromFile = load({ MQTT_USERNAME: "u", MQTT_PASSWORD_FILE: "/etc/ammp/password" });
  assert.equal(fromFile.mqtt.password, "s3cret pass");
  assert.equal(load({ MQTT_USERNAME: "u", MQTT_PASSWORD: " p " }).mqtt.password, " p ");
  const user = { MQTT_USERNAME: "u" };
  const both = { ...user, MQTT_PASSWORD: "p", MQTT_PASSWORD_FILE: "/etc/ammp/password" };
  rejects(both, "MQTT_PASSWORD_FILE", /^Conflicting MQTT_PASSWORD_FILE and MQTT_PASSWORD/);
  rejects(
    { MQTT_USERNAME: "u", MQTT_PASSWORD_FILE: "/etc/ammp/nope" },
    "MQTT_PASSWORD_FILE",
    /^Cannot read MQTT_PASSWORD_FILE "\/etc\/ammp\/nope": file not found$/,
  );
  const empty = { ...user, MQTT_PASSWORD_FILE: "/etc/ammp/empty" };
  rejects(empty, "MQTT_PASSWORD_FILE", /the file is empty/);
  rejects({ MQTT_PASSWORD: "p" }, "MQTT_USERNAME", /^Missing MQTT_USERNAME/);
});

Deno.test("loadConfig() reads TLS files only for mqtts:// and checks they are PEM", () => {
  const tls = load({ MQTT_URL: "mqtts://broker", MQTT_CA_FILE: "/etc/ammp/ca.pem" }).mqtt;
  assert.match(tls.ca!, /BEGIN CERTIFICATE/);
  const mqtts = { MQTT_URL: "mqtts://broker" };
  rejects(
    { MQTT_URL: "mqtts://broker", MQTT_CA_FILE: "/etc/ammp/missing.pem" },
    "MQTT_CA_FILE",
    /^Cannot read MQTT_CA_FILE "\/etc\/ammp\/missing.pem": file not found$/,
  );
  rejects({ ...mqtts, MQTT_CA_FILE: "/etc/ammp/not-pem" }, "MQTT_CA_FILE", /expected a PEM file/);
  rejects({ MQTT_CA_FILE: "/etc/ammp/ca.pem" }, "MQTT_CA_FILE", /is not TLS/);
  rejects(
    { ...mqtts, MQTT_CERT_FILE: "/etc/ammp/ca.pem" },
    "MQTT_KEY_FILE",
    /^Missing MQTT_KEY_FILE/,
  );
});

Deno.test("loadConfig() rejects each kind of bad number and choice with its range", () => {
  rejects({ MQTT_QOS: "2" }, "MQTT_QOS", /^Invalid MQTT_QOS "2": expected one of 1, 0$/);
  rejects({ MQTT_PROTOCOL_VERSION: "3" }, "MQTT_PROTOCOL_VERSION", /expected one of 5, 4/);
  rejects({ LOG_LEVEL: "loud" }, "LOG_LEVEL", /expected one of info, debug, warning, error/);
  rejects({ LOG_FORMAT: "xml" }, "LOG_FORMAT", /expected one of json, text/);
  rejects(
    { OUTPUT_FORMAT: "csv" },
    "OUTPUT_FORMAT",
    /^Invalid OUTPUT_FORMAT "csv": expected one of record, device, influx$/,
  );
  const expiry = { MQTT_SESSION_EXPIRY_SECONDS: "-1" };
  rejects(expiry, "MQTT_SESSION_EXPIRY_SECONDS", /expected a whole number from 0 to 4294967295/);
  rejects({ MQTT_RECEIVE_MAXIMUM: "0" }, "MQTT_RECEIVE_MAXIMUM", /from 1 to 65535/);
  rejects({ MQTT_RECEIVE_MAXIMUM: "1.5" }, "MQTT_RECEIVE_MAXIMUM", /whole number/);
  rejects({ MAX_PAYLOAD_BYTES: "lots" }, "MAX_PAYLOAD_BYTES", /^Invalid MAX_PAYLOAD_BYTES "lots"/);
  rejects(
    { MAX_BUFFERED_BYTES: "1000" },
    "MAX_BUFFERED_BYTES",
    /^Invalid MAX_BUFFERED_BYTES "1000": expected a whole number from 65536 to 4294967296$/,
  );
  assert.equal(load({ MAX_BUFFERED_BYTES: "65536" }).maxBufferedBytes, 65536);
  rejects({ SHUTDOWN_TIMEOUT_SECONDS: "0" }, "SHUTDOWN_TIMEOUT_SECONDS", /from 1 to 3600/);
  assert.equal(load({ LOG_LEVEL: "WARN" }).log.level, "warning");
  assert.equal(load({ MQTT_PROTOCOL_VERSION: "4" }).mqtt.protocolVersion, 4);
  assert.equal(load({ MQTT_QOS: "0" }).mqtt.qos, 0);
  assert.equal(load({ OUTPUT_FORMAT: "influx" }).outputFormat, "influx");
});

Deno.test("loadConfig() parses METRICS_LISTEN as host:port", () => {
  assert.deepEqual(load({ METRICS_LISTEN: "0.0.0.0:9999" }).metrics, {
    hostname: "0.0.0.0",
    port: 9999,
  });
  assert.deepEqual(load({ METRICS_LISTEN: "[::]:2667" }).metrics, { hostname: "::", port: 2667 });
  assert.deepEqual(load({ METRICS_LISTEN: ":8080" }).metrics, {
    hostname: "127.0.0.1",
    port: 8080,
  });
  rejects({ METRICS_LISTEN: "localhost" }, "METRICS_LISTEN", /expected host:port/);
  rejects({ METRICS_LISTEN: "h:70000" }, "METRICS_LISTEN", /expected host:port/);
  assert.equal(load({ METRICS_LISTEN: "metrics_host.lan:1" }).metrics.hostname, "metrics_host.lan");
  for (const value of ["a b:2667", "a..b:2667", "-x:2667", "h/x:2667", "[1.2.3.4]:2667", "ä:1"]) {
    rejects(
      { METRICS_LISTEN: value },
      "METRICS_LISTEN",
      /^Invalid METRICS_LISTEN ".*": host ".*" is neither an IP address nor a host name/,
    );
  }
});

Deno.test("loadConfig() treats empty variables as unset", () => {
  assert.equal(load({ MQTT_URL: "", MQTT_QOS: " " }).mqtt.url, "mqtt://localhost:1883");
});

Deno.test("loadConfig() checks that DEAD_LETTER_FILE can be written", () =>
  inTempDir((dir) => {
    const file = `${dir}/dead.ndjson`;
    assert.equal(load({ DEAD_LETTER_FILE: file }).deadLetterFile, file);
    rejects(
      { DEAD_LETTER_FILE: `${dir}/missing/dead.ndjson` },
      "DEAD_LETTER_FILE",
      /^Cannot write DEAD_LETTER_FILE ".*": file not found$/,
    );
  }));

Deno.test("loadConfig() checks that OUTPUT_FILE can be written and is not DEAD_LETTER_FILE", () =>
  inTempDir((dir) => {
    const file = `${dir}/records.ndjson`;
    assert.equal(load({ OUTPUT_FILE: file }).outputFile, file);
    assert.equal(load({}).outputFile, undefined);
    rejects(
      { OUTPUT_FILE: `${dir}/missing/records.ndjson` },
      "OUTPUT_FILE",
      /^Cannot write OUTPUT_FILE ".*": file not found$/,
    );
    rejects(
      { OUTPUT_FILE: `${dir}/both.ndjson`, DEAD_LETTER_FILE: `${dir}/both.ndjson` },
      "OUTPUT_FILE",
      /^Invalid OUTPUT_FILE ".*": it is DEAD_LETTER_FILE too, expected another file$/,
    );
  }));

Deno.test("loadConfig() syncs OUTPUT_FILE by default, and only syncs what is a file", () =>
  inTempDir((dir) => {
    const file = `${dir}/records.ndjson`;
    assert.equal(load({ OUTPUT_FILE: file }).outputSync, true);
    assert.equal(load({ OUTPUT_FILE: file, OUTPUT_SYNC: "never" }).outputSync, false);
    assert.equal(load({}).outputSync, false);
    assert.equal(load({ DEAD_LETTER_FILE: file }).outputSync, false);
    assert.equal(load({ DEAD_LETTER_FILE: file, OUTPUT_SYNC: "always" }).outputSync, true);
    rejects(
      { OUTPUT_FILE: file, OUTPUT_SYNC: "sometimes" },
      "OUTPUT_SYNC",
      /^Invalid OUTPUT_SYNC "sometimes": expected one of always, never$/,
    );
    rejects(
      { OUTPUT_SYNC: "always" },
      "OUTPUT_SYNC",
      /^Invalid OUTPUT_SYNC "always": it syncs OUTPUT_FILE and DEAD_LETTER_FILE/,
    );
  }));

Deno.test("loadConfig() never echoes a password from a malformed MQTT_URL", () => {
  for (
    const url of [
      "mqtt://user:hunter2@h:99999",
      "admin:hunter2@broker:1883",
      "mqtt:hunter2@broker",
      "ws://user:hunter2@h",
    ]
  ) {
    const error = urlError(url);
    assert.ok(!error.message.includes("hunter2"), error.message);
  }
});

Deno.test("loadConfig() never echoes a password holding @, /, ?, #, : or percent-encoding", () => {
  const cases: [string, string][] = [
    ["mqtt://bob:p4ss/w0rd@host:8883", "p4ss/w0rd"],
    ["mqtts://bob:p@ss@host", "p@ss"],
    ["mqtt://bob:pa?ss@host:1883", "pa?ss"],
    ["mqtt://bob:pa#ss@host:1883", "pa#ss"],
    ["mqtt://bob:pa:ss@host:1883", "pa:ss"],
    ["mqtt://bob:p%2Fss%40x@host:1883", "p%2Fss%40x"],
    ["mqtt://bob:hunter2@/x", "hunter2"],
    ["mqtt://bob:a/b@", "a/b"],
    ["ws://bob:s/e/c@host", "s/e/c"],
  ];
  for (const [url, password] of cases) {
    const error = urlError(url);
    assert.match(error.message, /^Invalid MQTT_URL "[^"]*\*\*\*@[^"]*": /);
    for (const part of [password, decodeURIComponent(password), password.slice(1)]) {
      assert.ok(!error.message.includes(part), `${url}: ${error.message}`);
    }
  }
});

Deno.test("loadConfig() takes MQTT_TLS_SERVERNAME as a DNS name only", () => {
  const tls = { MQTT_URL: "mqtts://10.0.0.5:8883" };
  assert.equal(
    load({ ...tls, MQTT_TLS_SERVERNAME: "mqtt.ammp.io" }).mqtt.servername,
    "mqtt.ammp.io",
  );
  for (const name of ["10.0.0.5", "::1", "bad name", "a..b", "-x.example"]) {
    rejects(
      { ...tls, MQTT_TLS_SERVERNAME: name },
      "MQTT_TLS_SERVERNAME",
      /^Invalid MQTT_TLS_SERVERNAME ".*": expected a DNS name/,
    );
  }
});

Deno.test("loadConfig() announces a maximum packet size well above MAX_PAYLOAD_BYTES", () => {
  assert.equal(load({}).mqtt.maximumPacketSize, 4 * 1048576 + 65536);
  assert.equal(load({ MAX_PAYLOAD_BYTES: "1000" }).mqtt.maximumPacketSize, 4000 + 65536);
  // Never above what MQTT can express.
  assert.equal(
    load({ MAX_PAYLOAD_BYTES: String(256 * 1024 * 1024) }).mqtt.maximumPacketSize,
    268435455,
  );
});

Deno.test("loadConfig() reads the metrics token from METRICS_TOKEN_FILE", () => {
  files["/etc/ammp/token"] = "0123456789abcdef0123456789abcdef\n";
  files["/etc/ammp/short-token"] = "abc";
  assert.equal(
    load({ METRICS_TOKEN_FILE: "/etc/ammp/token" }).metrics.token,
    "0123456789abcdef0123456789abcdef",
  );
  assert.equal(load({}).metrics.token, undefined);
  rejects(
    { METRICS_TOKEN_FILE: "/etc/ammp/short-token" },
    "METRICS_TOKEN_FILE",
    /^Invalid METRICS_TOKEN_FILE "\/etc\/ammp\/short-token": expected one token of at least 16/,
  );
  rejects(
    { METRICS_TOKEN_FILE: "/etc/ammp/none" },
    "METRICS_TOKEN_FILE",
    /^Cannot read METRICS_TOKEN_FILE "\/etc\/ammp\/none": file not found$/,
  );
});

const KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
const TOKEN = "0123456789abcdef0123456789abcdef";

Deno.test("loadConfig() reads the password, the TLS key and the metrics token as systemd credentials when their settings are unset", () => {
  files["/run/credentials/a/mqtt-password"] = "from-credential\n";
  files["/run/credentials/a/mqtt-key"] = KEY;
  files["/run/credentials/a/metrics-token"] = `${TOKEN}\n`;
  const config = load({
    MQTT_URL: "mqtts://broker",
    MQTT_USERNAME: "u",
    MQTT_CERT_FILE: "/etc/ammp/ca.pem",
    CREDENTIALS_DIRECTORY: "/run/credentials/a",
  });
  assert.equal(config.mqtt.password, "from-credential");
  assert.equal(config.mqtt.key, KEY);
  assert.equal(config.metrics.token, TOKEN);
  // A setting names its own file and wins over the credential.
  assert.equal(
    load({
      MQTT_USERNAME: "u",
      MQTT_PASSWORD_FILE: "/etc/ammp/password",
      MQTT_URL: "mqtts://broker",
      MQTT_CERT_FILE: "/etc/ammp/ca.pem",
      CREDENTIALS_DIRECTORY: "/run/credentials/a",
    }).mqtt.password,
    "s3cret pass",
  );
  rejects(
    { CREDENTIALS_DIRECTORY: "/run/credentials/a", MQTT_URL: "mqtts://broker", MQTT_USERNAME: "u" },
    "MQTT_CERT_FILE",
    /^Missing MQTT_CERT_FILE: .*credential mqtt-key/,
  );
});

Deno.test("loadConfig() takes a blank or missing credential as not given", () => {
  // The unit's SetCredential= of a line break stands in for a file that is not there.
  for (const name of ["mqtt-password", "mqtt-key", "metrics-token"]) {
    files[`/run/credentials/empty/${name}`] = "\n";
  }
  for (const dir of ["/run/credentials/empty", "/run/credentials/none"]) {
    const config = load({ CREDENTIALS_DIRECTORY: dir });
    assert.equal(config.mqtt.password, undefined);
    assert.equal(config.mqtt.key, undefined);
    assert.equal(config.metrics.token, undefined);
  }
});

Deno.test("loadConfig() refuses a user name without a password in one line naming where it was looked for", () => {
  rejects(
    { MQTT_USERNAME: "gateway-1" },
    "MQTT_PASSWORD_FILE",
    /^Missing the password of MQTT_USERNAME "gateway-1": expected MQTT_PASSWORD_FILE or MQTT_PASSWORD$/,
  );
  rejects(
    { MQTT_USERNAME: "gateway-1", CREDENTIALS_DIRECTORY: "/run/credentials/none" },
    "MQTT_PASSWORD_FILE",
    /^Missing the password of MQTT_USERNAME "gateway-1": the credential mqtt-password in CREDENTIALS_DIRECTORY "\/run\/credentials\/none" is missing or empty/,
  );
});

Deno.test("loadConfig() names a credential it cannot read instead of going on without it", () => {
  rejects(
    { MQTT_USERNAME: "u", CREDENTIALS_DIRECTORY: "/run/credentials/locked" },
    "MQTT_PASSWORD_FILE",
    /^Cannot read the credential mqtt-password "\/run\/credentials\/locked\/mqtt-password" \(for MQTT_PASSWORD_FILE\): permission denied$/,
  );
  rejects(
    { CREDENTIALS_DIRECTORY: "/run/credentials/locked" },
    "MQTT_PASSWORD_FILE",
    /permission denied/,
  );
});
