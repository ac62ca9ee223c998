import assert from "node:assert/strict";
import { startAgent } from "./_support/agent_process.ts";
import { startBroker } from "./_support/broker.ts";

Deno.test({
  name: "SIGHUP without an output file to reopen leaves the agent running",
  // Signals as a process receives them: POSIX only.
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const broker = await startBroker();
    const agent = await startAgent({
      MQTT_URL: broker.url,
      MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
      MQTT_CLIENT_ID: `sighup-${crypto.randomUUID()}`,
    });
    try {
      agent.child.kill("SIGHUP");
      await agent.waitFor(
        () => agent.logMessages.some((message) => message.startsWith("Received SIGHUP")),
        "the agent to log the SIGHUP",
      );
      assert.equal((await agent.get("/readyz")).status, 200);
      assert.equal(await agent.stop("SIGTERM"), 0);
    } finally {
      await agent.stop("SIGKILL");
      await broker.stop();
    }
  },
});
