import assert from "node:assert/strict";
import { findHeadEnd, parseRequestHead } from "./request_head.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("findHeadEnd() finds the blank line after CRLF or LF lines, also when searching on from new bytes", () => {
  assert.equal(findHeadEnd(bytes("GET / HTTP/1.1\r\nHost: a\r\n")), -1);
  assert.equal(findHeadEnd(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n")), 27);
  assert.equal(findHeadEnd(bytes("GET / HTTP/1.1\nHost: a\n\nrest")), 24);
  // The blank line split across two reads: the search starts at the new byte.
  const head = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(findHeadEnd(head, head.length - 1), head.length);
  assert.equal(findHeadEnd(bytes("\r\n")), -1);
});

Deno.test("parseRequestHead() reads the request line and header fields", () => {
  const head = parseRequestHead(
    bytes("GET /metrics?x=1 HTTP/1.1\r\nHost: agent\r\nAuthorization:  Bearer abc \r\n\r\n"),
  );
  assert.ok(!("status" in head));
  assert.equal(head.method, "GET");
  assert.equal(head.target, "/metrics?x=1");
  assert.equal(head.version, "HTTP/1.1");
  assert.equal(head.headers.get("authorization"), "Bearer abc");
  assert.equal(head.headers.get("host"), "agent");
});

Deno.test("parseRequestHead() answers what it cannot read with 400 or 505", () => {
  const cases: [string, number][] = [
    ["GET /metrics\r\n\r\n", 400],
    ["GET  /metrics HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET metrics HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET /m\u00e9trics HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\n continued\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\u0000b\r\n\r\n", 400],
    ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
    ["GET / HTTPS/1.1\r\nHost: a\r\n\r\n", 400],
  ];
  for (const [request, status] of cases) {
    const head = parseRequestHead(bytes(request));
    assert.ok("status" in head, JSON.stringify(request));
    assert.equal(head.status, status, JSON.stringify(request));
  }
  const old = parseRequestHead(bytes("GET /healthz HTTP/1.0\r\n\r\n"));
  assert.ok(!("status" in old), "HTTP/1.0 needs no Host");
});
