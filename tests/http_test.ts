import assert from "node:assert/strict";
import { type AgentProcess, startAgent } from "./_support/agent_process.ts";
import {
  freePort,
  mosquittoRequired,
  startBroker,
  type TestBroker,
  which,
} from "./_support/broker.ts";

const TOKEN = "7c0ffee5d1a8b2c94e7f3a6b5c4d3e2f";

// Sends raw bytes to the agent's endpoint and returns the status line.
async function rawRequest(port: number, request: string): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = new TextEncoder().encode(request);
    for (let written = 0; written < bytes.length;) {
      written += await connection.write(bytes.subarray(written));
    }
    const buffer = new Uint8Array(4096);
    const read = await connection.read(buffer);
    return new TextDecoder().decode(buffer.subarray(0, read ?? 0)).split("\r\n")[0];
  } finally {
    connection.close();
  }
}

async function withAgent(
  env: Record<string, string>,
  fn: (agent: AgentProcess, broker: TestBroker) => Promise<void>,
): Promise<void> {
  await using broker = await startBroker();
  await using agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `http-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    ...env,
  });
  await fn(agent, broker);
}

Deno.test("the endpoint refuses bodies and overlong URLs on the wire and keeps serving", async () => {
  await withAgent({}, async (agent) => {
    const host = `Host: 127.0.0.1:${agent.port}\r\n`;
    assert.equal(
      await rawRequest(agent.port, `GET /healthz HTTP/1.1\r\n${host}Connection: close\r\n\r\n`),
      "HTTP/1.1 200 OK",
    );
    assert.match(
      await rawRequest(
        agent.port,
        `GET /metrics HTTP/1.1\r\n${host}Content-Length: 5\r\nConnection: close\r\n\r\nhello`,
      ),
      /^HTTP\/1\.1 413 /,
    );
    assert.match(
      await rawRequest(
        agent.port,
        `POST /metrics HTTP/1.1\r\n${host}Content-Length: 5\r\nConnection: close\r\n\r\nhello`,
      ),
      /^HTTP\/1\.1 405 /,
    );
    const long = `/metrics?${"a".repeat(4096)}`;
    assert.match(
      await rawRequest(agent.port, `GET ${long} HTTP/1.1\r\n${host}Connection: close\r\n\r\n`),
      /^HTTP\/1\.1 414 /,
    );
    // Far too long for the server even to parse: refused or cut, never served.
    const huge = `/${"a".repeat(1024 * 1024)}`;
    const answer = await rawRequest(
      agent.port,
      `GET ${huge} HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    ).catch(() => "");
    assert.doesNotMatch(answer, /^HTTP\/1\.1 2/);
    assert.deepEqual(await agent.get("/healthz"), { status: 200, body: "ok\n" });
  });
});

Deno.test("METRICS_TOKEN_FILE guards /metrics and / with a bearer token, probes stay open", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/token`, `${TOKEN}\n`);
    await withAgent({ METRICS_TOKEN_FILE: `${dir}/token` }, async (agent) => {
      const base = `http://127.0.0.1:${agent.port}`;
      for (const path of ["/metrics", "/"]) {
        const denied = await fetch(`${base}${path}`);
        await denied.body?.cancel();
        assert.equal(denied.status, 401, path);
        assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="ammp-agent"');
        const allowed = await fetch(`${base}${path}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        const body = await allowed.text();
        assert.equal(allowed.status, 200, path);
        assert.ok(!body.includes(TOKEN), "the token is not shown");
      }
      assert.equal((await agent.get("/healthz")).status, 200);
      assert.equal((await agent.get("/readyz")).status, 200);
      assert.equal(await agent.stop(), 0);
      assert.ok(!agent.stderr.includes(TOKEN), "the token is not logged");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a METRICS_TOKEN_FILE that is missing, empty, short or not one token stops the agent with exit code 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/empty`, "");
    await Deno.writeTextFile(`${dir}/short`, "abc\n");
    await Deno.writeTextFile(`${dir}/spaces`, "not one token but several words\n");
    const cases: [string, RegExp][] = [
      [`${dir}/missing`, /^Cannot read METRICS_TOKEN_FILE ".*\/missing": file not found$/],
      [
        `${dir}/short`,
        /^Invalid METRICS_TOKEN_FILE ".*\/short": expected one token of at least 16/,
      ],
      [`${dir}/spaces`, /^Invalid METRICS_TOKEN_FILE ".*\/spaces": expected one token/],
    ];
    for (const [path, message] of cases) {
      const agent = await startAgent({ METRICS_TOKEN_FILE: path }, { waitReady: false });
      assert.equal(await agent.exited(), 2, path);
      assert.match(agent.stderr.trim(), message);
      assert.ok(!agent.stderr.includes("several words"), "the file's content is not echoed");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const prometheus = which("prometheus");

Deno.test({
  name: prometheus === undefined && !mosquittoRequired()
    ? "Prometheus scrapes a token-guarded /metrics with credentials_file (ignored: prometheus not installed)"
    : "Prometheus scrapes a token-guarded /metrics with credentials_file, and not without it",
  ignore: prometheus === undefined && !mosquittoRequired(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-prometheus-" });
    try {
      await Deno.writeTextFile(`${dir}/token`, `${TOKEN}\n`);
      await withAgent({ METRICS_TOKEN_FILE: `${dir}/token` }, async (agent) => {
        const target = `127.0.0.1:${agent.port}`;
        // The scrape configuration docs/security.md shows.
        await Deno.writeTextFile(
          `${dir}/prometheus.yml`,
          `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: ammp-agent
    authorization:
      credentials_file: ${dir}/token
    static_configs:
      - targets: ["${target}"]
  - job_name: no-token
    static_configs:
      - targets: ["${target}"]
`,
        );
        const port = freePort();
        const server = new Deno.Command("prometheus", {
          args: [
            `--config.file=${dir}/prometheus.yml`,
            `--storage.tsdb.path=${dir}/data`,
            `--web.listen-address=127.0.0.1:${port}`,
          ],
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).spawn();
        try {
          const up = async (): Promise<Record<string, string>> => {
            try {
              const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=up`);
              const { data } = await response.json();
              return Object.fromEntries(
                data.result.map((r: { metric: { job: string }; value: [number, string] }) => [
                  r.metric.job,
                  r.value[1],
                ]),
              );
            } catch {
              return {};
            }
          };
          let jobs: Record<string, string> = {};
          await agent.waitFor(
            async () => {
              jobs = await up();
              return "ammp-agent" in jobs && "no-token" in jobs;
            },
            "Prometheus to scrape both jobs",
            30_000,
          );
          assert.deepEqual(jobs, { "ammp-agent": "1", "no-token": "0" });
          const info = await fetch(
            `http://127.0.0.1:${port}/api/v1/query?query=ammp_agent_build_info`,
          );
          assert.equal((await info.json()).data.result.length, 1);
        } finally {
          server.kill("SIGTERM");
          await server.status;
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
