import assert from "node:assert/strict";
import { loadConfig } from "../settings/load_config.ts";
import { describeError } from "./connection_failure.ts";

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

Deno.test("describeError() blames the MQTT_URL scheme only before the broker answered", () => {
  const plain = loadConfig({ MQTT_URL: "mqtt://broker.example.com:8883" }, {
    hostname: () => "host",
  }).mqtt;
  const reset = failure("read ECONNRESET", "ECONNRESET");
  assert.deepEqual(describeError(reset, plain), {
    reason:
      "broker.example.com:8883 closed the connection before answering MQTT: likely a TLS port, use mqtts:// in MQTT_URL for a TLS port",
    code: "ECONNRESET",
  });
  // Once connected, a reset is the network's, and a close just a close.
  assert.deepEqual(describeError(reset, plain, { connected: true }), {
    reason: "read ECONNRESET",
    code: "ECONNRESET",
  });
  assert.deepEqual(describeError(undefined, plain, { connected: true }), {
    reason: "the connection closed",
  });
});
