import assert from "node:assert/strict";
import { ROOT } from "./_support/agent_process.ts";
import { freePort, startBroker } from "./_support/broker.ts";
import { ctrlC, processesInGroup } from "./_support/process_group.ts";
import { waitFor } from "./_support/wait_for.ts";

Deno.test({
  name:
    "`deno task start` drains and exits 0 on Ctrl-C, though the task runner passes SIGINT on again",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using broker = await startBroker();
    const port = freePort();
    // A process group of its own, as a terminal gives a command, so that
    // SIGINT reaches the task runner and the agent alike, as Ctrl-C does.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "start"],
      cwd: ROOT,
      env: {
        NO_COLOR: "1",
        MQTT_URL: broker.url,
        MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
        MQTT_CLIENT_ID: `ctrl-c-${crypto.randomUUID()}`,
        METRICS_LISTEN: `127.0.0.1:${port}`,
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      detached: true,
    }).spawn();
    const stderr = new Response(child.stderr).text();
    try {
      let ready = false;
      await waitFor(async () =>
        ready = await fetch(`http://127.0.0.1:${port}/readyz`)
          .then(async (response) => (await response.text(), response.ok))
          .catch(() => false), { what: "/readyz to answer 200", intervalMs: 50 });
      assert.ok(ready, "the agent became ready");
      await ctrlC(child.pid);
      const status = await child.status;
      const log = await stderr;
      assert.equal(status.code, 0, log);
      assert.match(log, /Stopped after writing 0 records/);
      assert.deepEqual(await processesInGroup(child.pid), [], "no process is left");
    } finally {
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    }
  },
});
