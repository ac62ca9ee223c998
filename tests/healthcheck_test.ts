import assert from "node:assert/strict";
import { startAgent } from "./_support/agent_process.ts";
import { freePort, startBroker } from "./_support/broker.ts";

/** Runs `main.ts healthcheck` against the agent at `listen`. */
async function healthcheck(
  listen: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const check = await startAgent({ METRICS_LISTEN: listen, ...env }, {
    args: ["healthcheck"],
    waitReady: false,
  });
  const code = await check.exited();
  assert.deepEqual(check.lines, [], "healthcheck writes nothing on stdout");
  return { code, stderr: check.stderr };
}

Deno.test("`healthcheck` exits 0 while the agent is ready and 1 with one line why when it is not", async () => {
  await using broker = await startBroker();
  await using agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `healthcheck-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
  });
  const listen = `127.0.0.1:${agent.port}`;
  assert.deepEqual(await healthcheck(listen), { code: 0, stderr: "" });

  await broker.stop();
  await agent.waitFor(async () => (await agent.get("/readyz")).status === 503, "readyz 503");
  const notReady = await healthcheck(listen);
  assert.equal(notReady.code, 1);
  assert.equal(
    notReady.stderr,
    `Not ready: http://${listen}/readyz answered 503 Service Unavailable\n`,
  );

  assert.equal(await agent.stop("SIGTERM"), 0);
  const gone = await healthcheck(listen);
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr, `Cannot reach http://${listen}/readyz: Connection refused\n`);
});

Deno.test("`healthcheck` reaches an agent listening on 0.0.0.0 through loopback", async () => {
  await using broker = await startBroker();
  const port = freePort();
  await using agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `healthcheck-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    METRICS_LISTEN: `0.0.0.0:${port}`,
  }, { waitReady: false });
  await agent.waitFor(async () => (await healthcheck(`0.0.0.0:${port}`)).code === 0, "healthy");
  assert.equal(await agent.stop("SIGTERM"), 0);
});

Deno.test("`healthcheck` with a bad METRICS_LISTEN names it in one line and exits 2", async () => {
  assert.deepEqual(await healthcheck("nope"), {
    code: 2,
    stderr:
      'Invalid METRICS_LISTEN "nope": expected host:port such as 127.0.0.1:2667 or 0.0.0.0:2667\n',
  });
});

Deno.test("`healthcheck` asks the agent directly, never through HTTP_PROXY, HTTPS_PROXY or ALL_PROXY", async () => {
  // A proxy that answers 502 to everything and counts who came.
  let proxied = 0;
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    proxied++;
    return new Response("no", { status: 502 });
  });
  const proxyUrl = `http://127.0.0.1:${proxy.addr.port}`;
  const closed = `http://127.0.0.1:${freePort()}`;
  const broker = await startBroker();
  const agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `healthcheck-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
  });
  const listen = `127.0.0.1:${agent.port}`;
  try {
    const envs: Record<string, string>[] = [
      { HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, ALL_PROXY: proxyUrl },
      { http_proxy: proxyUrl, https_proxy: proxyUrl, all_proxy: proxyUrl },
      { HTTP_PROXY: closed, http_proxy: closed, ALL_PROXY: closed },
    ];
    for (const env of envs) {
      assert.deepEqual(
        await healthcheck(listen, env),
        { code: 0, stderr: "" },
        JSON.stringify(env),
      );
    }
    assert.equal(proxied, 0, "the proxy was never asked");
    assert.equal(await agent.stop("SIGTERM"), 0);
  } finally {
    await agent.stop("SIGKILL");
    await broker.stop();
    await proxy.shutdown();
  }
});
