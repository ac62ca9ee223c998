import assert from "node:assert/strict";
import { loadConfig } from "../settings/load_config.ts";
import { describeError, describeTakeover } from "./connection_failure.ts";
import { TLS_ANSWER } from "./_mqtt_socket.ts";

const PASSWORD = "hunter2-do-not-show";

const mqtt = loadConfig({
  MQTT_URL: "mqtts://mqtt.stage.ammp.io:8883",
  MQTT_USERNAME: "gateway-7",
  MQTT_PASSWORD: PASSWORD,
}, { hostname: () => "host" }).mqtt;

function failure(message: string, code: unknown, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code }, extra);
}

Deno.test("describeError() names the refused user, never the password", () => {
  for (
    const [code, words] of [[4, "bad user name or password"], [134, "bad user name or password"], [
      5,
      "not authorized",
    ], [135, "not authorized"]] as const
  ) {
    const { reason } = describeError(failure(`Connection refused: ${PASSWORD}`, code), mqtt);
    assert.equal(
      reason,
      `the broker refused the login of user "gateway-7": ${words}, check MQTT_USERNAME and the password`,
    );
  }
});

Deno.test("describeError() tells expiry and an unreachable broker apart from trust", () => {
  assert.equal(
    describeError(failure("certificate has expired", "CERT_HAS_EXPIRED"), mqtt).reason,
    "the TLS certificate of mqtt.stage.ammp.io has expired, check the broker's certificate and this machine's clock",
  );
  assert.match(
    describeError(failure("x", "CERT_NOT_YET_VALID"), mqtt).reason,
    /is not valid yet, check the broker's certificate and this machine's clock$/,
  );
  assert.deepEqual(describeError(failure("connect ECONNREFUSED", "ECONNREFUSED"), mqtt), {
    reason: "nothing accepts connections at mqtt.stage.ammp.io:8883 (ECONNREFUSED)",
    code: "ECONNREFUSED",
  });
  assert.equal(
    describeError(
      failure("unable to get local issuer certificate", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"),
      mqtt,
    )
      .reason,
    "the TLS certificate of mqtt.stage.ammp.io is not signed by any CA this machine trusts, set MQTT_CA_FILE to the broker's CA certificate",
  );
  // Anything else keeps its own message.
  assert.deepEqual(describeError(failure("getaddrinfo ENOTFOUND", "ENOTFOUND"), mqtt), {
    reason: "getaddrinfo ENOTFOUND",
    code: "ENOTFOUND",
  });
  assert.deepEqual(describeError(undefined, mqtt), { reason: "the connection closed" });
});

Deno.test("describeError() blames TLS for a close before the CONNACK only where the port or the bytes say TLS", () => {
  const at = (port: number) =>
    loadConfig({ MQTT_URL: `mqtt://broker.example.com:${port}` }, { hostname: () => "host" }).mqtt;
  const reset = failure("read ECONNRESET", "ECONNRESET");
  // A broker at its connection limit, a proxy or a firewall close early too.
  const neutral = "broker.example.com:1883 closed the connection before accepting it: a TLS " +
    "port (then use mqtts:// in MQTT_URL), a broker at its connection limit, or a proxy or " +
    "firewall in between; the broker's log tells which";
  assert.deepEqual(describeError(reset, at(1883)), { reason: neutral, code: "ECONNRESET" });
  assert.deepEqual(describeError(undefined, at(1883)), { reason: neutral });
  // 8883 is MQTT's TLS port.
  assert.deepEqual(describeError(reset, at(8883)), {
    reason: "broker.example.com:8883 closed the connection before accepting it: likely a TLS " +
      "port (8883 is MQTT's TLS port), use mqtts:// in MQTT_URL for a TLS port",
    code: "ECONNRESET",
  });
  // A TLS record in answer is evidence on any port.
  assert.deepEqual(
    describeError(failure("broker.example.com:1883 answered with TLS", TLS_ANSWER), at(1883)),
    {
      reason: "broker.example.com:1883 answered with TLS, use mqtts:// in MQTT_URL for a TLS port",
      code: TLS_ANSWER,
    },
  );
  // Once connected, a reset is the network's, and a close just a close.
  assert.deepEqual(describeError(reset, at(8883), { connected: true }), {
    reason: "read ECONNRESET",
    code: "ECONNRESET",
  });
  assert.deepEqual(describeError(undefined, at(8883), { connected: true }), {
    reason: "the connection closed",
  });
});

Deno.test("describeTakeover() is certain only of reason code 142, and names both causes of quick closes", () => {
  const config = loadConfig({ MQTT_URL: "mqtt://broker.example.com", MQTT_CLIENT_ID: "gw-1" }, {
    hostname: () => "host",
  }).mqtt;
  assert.deepEqual(describeTakeover({ told: true, closesInARow: 0 }, config), {
    reason: 'another client with the same MQTT_CLIENT_ID "gw-1" took the session (reason code ' +
      "142), give each agent its own MQTT_CLIENT_ID",
    code: "142",
  });
  // A relay that cuts every connection soon after the CONNACK looks the same.
  assert.deepEqual(describeTakeover({ told: false, closesInARow: 2 }, config), {
    reason: "the broker closed the connection right after accepting it, 2 times in a row: " +
      'likely another client with the same MQTT_CLIENT_ID "gw-1" took the session, or a broker ' +
      "or proxy closes connections right after accepting them; the broker's log tells which",
  });
});
