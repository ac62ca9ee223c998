import assert from "node:assert/strict";
import { ConfigError, loadConfig, loadSections } from "./load_config.ts";

// The message of the ConfigError `load` throws.
function messageOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("loadSections() reads only the named sections, and a bad setting outside them does not stop it", () => {
  const env = { MQTT_URL: "http://nope", METRICS_TOKEN_FILE: "/nonexistent", LOG_LEVEL: "warn" };
  const { log, transform } = loadSections(env, ["log", "transform"]);
  assert.deepEqual(log, { level: "warning", format: "json" });
  assert.deepEqual(transform, { outputFormat: "record", maxPayloadBytes: 1024 * 1024 });
  assert.deepEqual(loadSections(env, ["listen"]).listen, { hostname: "127.0.0.1", port: 2667 });
});

Deno.test("loadSections() refuses a bad setting of its sections with the line loadConfig() gives", () => {
  for (
    const [env, section] of [
      [{ MAX_PAYLOAD_BYTES: "12" }, "transform"],
      [{ LOG_FORMAT: "xml" }, "log"],
      [{ METRICS_LISTEN: "localhost" }, "listen"],
      [{ METRICS_TOKEN_FILE: "/nonexistent" }, "metrics"],
    ] as const
  ) {
    const message = messageOf(() => loadConfig(env));
    assert.match(message, new RegExp(`^(Invalid|Cannot read) ${Object.keys(env)[0]} `));
    assert.equal(messageOf(() => loadSections(env, [section])), message);
  }
});
