import assert from "node:assert/strict";
import { checkReady, readyUrl } from "./healthcheck.ts";

Deno.test("readyUrl() reaches an agent on every address through loopback", () => {
  assert.equal(readyUrl({ hostname: "0.0.0.0", port: 2667 }), "http://127.0.0.1:2667/readyz");
  assert.equal(readyUrl({ hostname: "::", port: 2667 }), "http://[::1]:2667/readyz");
  assert.equal(readyUrl({ hostname: "10.0.0.5", port: 80 }), "http://10.0.0.5:80/readyz");
  assert.equal(readyUrl({ hostname: "fe80::1", port: 81 }), "http://[fe80::1]:81/readyz");
});

Deno.test("checkReady() accepts 200 only and names the status or the failure otherwise", async () => {
  let status = 200;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) =>
      new URL(request.url).pathname === "/slow"
        ? new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("late")), 500))
        : new Response("x", { status }),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    assert.equal(await checkReady(`${base}/readyz`), undefined);
    status = 503;
    assert.equal(
      await checkReady(`${base}/readyz`),
      `Not ready: ${base}/readyz answered 503 Service Unavailable`,
    );
    assert.equal(
      await checkReady(`${base}/slow`, { timeoutMs: 50 }),
      `Cannot reach ${base}/slow: no answer within 0.05 s`,
    );
  } finally {
    await server.shutdown();
  }
  assert.equal(
    await checkReady(`${base}/readyz`),
    `Cannot reach ${base}/readyz: Connection refused`,
  );
});
