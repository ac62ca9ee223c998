import assert from "node:assert/strict";
import { createHandler, MAX_URL_BYTES, type ServerHandlers } from "./http_handler.ts";
import { startServer } from "./server.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";

const handlers: ServerHandlers = {
  metrics: () => "ammp_agent_records_written_total 3\n",
  ready: () => true,
  status: () => "<p>status</p>",
};

const open = createHandler(handlers);
const guarded = createHandler(handlers, { token: TOKEN });

function request(path: string, init: RequestInit = {}): Request {
  return new Request(`http://127.0.0.1:2667${path}`, init);
}

Deno.test("createHandler() serves only its four paths, with GET and HEAD only", async () => {
  assert.equal((await open(request("/metrics"))).status, 200);
  assert.equal((await open(request("/healthz"))).status, 200);
  assert.equal((await open(request("/readyz"))).status, 200);
  assert.equal((await open(request("/"))).status, 200);
  assert.equal((await open(request("/metrics", { method: "HEAD" }))).status, 200);
  for (const path of ["/metrics/", "/index.html", "/../etc/passwd", "/METRICS"]) {
    assert.equal((await open(request(path))).status, 404, path);
  }
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    const response = await open(request("/metrics", { method }));
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get("allow"), "GET, HEAD");
  }
  // __proto__ and friends are not routes either.
  for (const path of ["/__proto__", "/constructor", "/toString"]) {
    assert.equal((await open(request(path))).status, 404, path);
  }
});

Deno.test("createHandler() refuses request bodies and overlong URLs", async () => {
  const withBody = await open(request("/metrics", { headers: { "content-length": "5" } }));
  assert.equal(withBody.status, 413);
  const chunked = await open(request("/healthz", { headers: { "transfer-encoding": "chunked" } }));
  assert.equal(chunked.status, 413);
  assert.equal(
    (await open(request("/healthz", { headers: { "content-length": "0" } }))).status,
    200,
  );

  const longest = `/metrics?${"x".repeat(MAX_URL_BYTES - "/metrics?".length)}`;
  assert.equal((await open(request(longest))).status, 200);
  assert.equal((await open(request(longest + "x"))).status, 414);
  assert.equal((await open(request(`/${"a".repeat(100_000)}`))).status, 414);
});

Deno.test("createHandler() sends no-store and nosniff, and a strict policy for the page", async () => {
  for (const path of ["/metrics", "/healthz", "/", "/nope"]) {
    const response = await open(request(path));
    assert.equal(response.headers.get("cache-control"), "no-store", path);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
  }
  const csp = (await open(request("/"))).headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
});

Deno.test("createHandler() with a token answers /metrics and / only to that bearer token", async () => {
  for (const path of ["/metrics", "/"]) {
    const none = await guarded(request(path));
    assert.equal(none.status, 401, path);
    assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="ammp-agent"');
    assert.doesNotMatch(await none.text(), /records_written/);

    for (
      const header of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(1)}`,
        "Bearer ",
        `Basic ${btoa(`user:${TOKEN}`)}`,
        TOKEN,
        `Bearer ${TOKEN} ${TOKEN}`,
      ]
    ) {
      const wrong = await guarded(request(path, { headers: { authorization: header } }));
      assert.equal(wrong.status, 401, header);
      assert.equal(
        wrong.headers.get("www-authenticate"),
        'Bearer realm="ammp-agent", error="invalid_token"',
      );
    }
    const right = await guarded(request(path, { headers: { authorization: `Bearer ${TOKEN}` } }));
    assert.equal(right.status, 200, path);
    const lower = await guarded(request(path, { headers: { authorization: `bearer ${TOKEN}` } }));
    assert.equal(lower.status, 200, "the scheme is case-insensitive");
  }
  const metrics = await guarded(
    request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } }),
  );
  assert.equal(await metrics.text(), "ammp_agent_records_written_total 3\n");
  // Supervisors' probes need no token.
  assert.equal((await guarded(request("/healthz"))).status, 200);
  assert.equal((await guarded(request("/readyz"))).status, 200);
});

const encoder = new TextEncoder();

// Resolves to the answer's head, or to what came before the server
// closed; undefined when neither came within `ms`.
async function readHead(conn: Deno.Conn, ms = 10_000): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  const read = (async () => {
    let text = "";
    const buffer = new Uint8Array(65536);
    try {
      for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
        text += new TextDecoder().decode(buffer.subarray(0, n));
        if (text.includes("\r\n\r\n")) break;
      }
    } catch {
      // reset by the server: closed all the same
    }
    return text;
  })();
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function send(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = encoder.encode(text);
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

Deno.test("startServer() answers every scrape while 500 half-open connections are held", async () => {
  const server = startServer(handlers, { hostname: "127.0.0.1", port: 0 });
  const port = server.addr.port;
  const flood: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 500; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await send(conn, "GET /metrics HTTP/1.1\r\nHost: agent\r\n");
      flood.push(conn);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(await response.text(), "ammp_agent_records_written_total 3\n");
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
  } finally {
    // Shutting down does not wait for requests that were never sent.
    await server.shutdown();
    for (const conn of flood) conn.close();
  }
});

Deno.test("startServer() answers a bad, overlong or unfinished request line with a status, not a hang", async () => {
  const server = startServer(handlers, { hostname: "127.0.0.1", port: 0 });
  const ask = async (request: string) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    try {
      await send(conn, request).catch(() => {});
      return ((await readHead(conn)) ?? "(still open)").split("\r\n")[0];
    } finally {
      conn.close();
    }
  };
  try {
    const answers: [string, string][] = [
      ["GET /healthz HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK"],
      ["GET /healthz HTTP/1.1\nHost: a\n\n", "HTTP/1.1 200 OK"],
      ["GET /healthz HTTP/2.0\r\n\r\n", "HTTP/1.1 400 Bad Request"],
      ["GET /healthz HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "HTTP/1.1 400 Bad Request"],
      ["GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request"],
      ["TRACE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"],
      [`GET /${"a".repeat(10_000)} HTTP/1.1\r\n\r\n`, "HTTP/1.1 414 URI Too Long"],
      [
        `GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(100_000)}\r\n\r\n`,
        "HTTP/1.1 400 Bad Request",
      ],
    ];
    for (const [request, status] of answers) assert.equal(await ask(request), status, request);
    const head = await ask("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(head, "HTTP/1.1 200 OK");
  } finally {
    await server.shutdown();
  }
});
