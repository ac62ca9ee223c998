import assert from "node:assert/strict";
import { createHandler, MAX_URL_BYTES, type ServerHandlers } from "./server.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";

const handlers: ServerHandlers = {
  metrics: () => Promise.resolve("ammp_agent_records_written_total 3\n"),
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
