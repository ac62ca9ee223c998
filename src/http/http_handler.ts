/**
 * What the agent's HTTP endpoint answers: `/metrics` for Prometheus,
 * `/healthz` and `/readyz` for supervisors, `/` for a person, `/nodes` for
 * scripts. Nothing else: five paths, GET and HEAD, no request bodies, short
 * URLs, and an optional bearer token. `server.ts` serves it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { NODE_STATES, type NodeState, type NodeView } from "../fleet/node_table.ts";

/** What the server asks of the running agent. */
export interface ServerHandlers {
  /** The metrics in the Prometheus text format. */
  metrics(): string | Promise<string>;
  /** Whether the agent is connected and subscribed. */
  ready(): boolean;
  /** The status page, a whole HTML document. */
  status(): string | Promise<string>;
  /** The nodes heard from, only those in `state` when it is given. */
  nodes?(state?: NodeState): NodeView[];
}

/** Options for {@linkcode createHandler}. */
export interface HandlerOptions {
  /**
   * When set, the {@linkcode TOKEN_PATHS} (`/metrics`, `/nodes` and `/`)
   * answer only requests that carry `Authorization: Bearer <token>`;
   * `/healthz` and `/readyz` stay open.
   */
  token?: string;
}

const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

/** The longest request URL (path and query) the endpoint reads, in bytes. */
export const MAX_URL_BYTES = 2048;

/** Builds the request handler; exported so tests can call it directly. */
export function createHandler(
  handlers: ServerHandlers,
  options: HandlerOptions = {},
): (request: Request) => Promise<Response> {
  const expected = options.token === undefined ? undefined : digest(options.token);
  return async (request) => {
    if (request.url.length > MAX_URL_BYTES + 256) return text(414, "URI too long\n");
    const url = new URL(request.url);
    if (url.pathname.length + url.search.length > MAX_URL_BYTES) {
      return text(414, "URI too long\n");
    }
    const route = ROUTES[url.pathname];
    if (route === undefined) return text(404, "Not found\n");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return methodNotAllowed();
    }
    // GET and HEAD carry no body; one that comes anyway is not read.
    if (hasBody(request)) return text(413, "Request body not accepted\n");
    if (expected !== undefined && !OPEN_ROUTES.has(route)) {
      const denied = checkToken(request, expected);
      if (denied !== undefined) return denied;
    }
    switch (route) {
      case "metrics":
        return new Response(await handlers.metrics(), {
          headers: { ...COMMON_HEADERS, "content-type": PROMETHEUS_TEXT },
        });
      case "healthz":
        return text(200, "ok\n");
      case "readyz":
        return handlers.ready() ? text(200, "ready\n") : text(503, "not ready\n");
      case "nodes": {
        const state = url.searchParams.get("state") ?? undefined;
        if (state !== undefined && !(NODE_STATES as readonly string[]).includes(state)) {
          return text(400, `Unknown state "${state}": expected one of ${NODE_STATES.join(", ")}\n`);
        }
        const nodes = handlers.nodes?.(state as NodeState | undefined) ?? [];
        return new Response(JSON.stringify({ nodes: nodes.map(nodeJson) }) + "\n", {
          headers: { ...COMMON_HEADERS, "content-type": "application/json" },
        });
      }
      case "index":
        return new Response(await handlers.status(), {
          headers: {
            ...COMMON_HEADERS,
            "content-type": "text/html; charset=utf-8",
            "content-security-policy":
              "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
          },
        });
    }
  };
}

const TEXT = "text/plain; charset=utf-8";
const COMMON_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
const REALM = 'Bearer realm="ammp-agent"';

function hasBody(request: Request): boolean {
  const length = request.headers.get("content-length");
  return (length !== null && length.trim() !== "0") || request.headers.has("transfer-encoding");
}

// Hashing both sides first makes the comparison take the same time
// whatever the length or content of the token that was sent.
function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

function checkToken(request: Request, expected: Buffer): Response | undefined {
  const header = request.headers.get("authorization");
  const match = header === null ? null : /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  if (match !== null && timingSafeEqual(digest(match[1]), expected)) return undefined;
  return new Response("Unauthorized\n", {
    status: 401,
    headers: {
      ...COMMON_HEADERS,
      "content-type": TEXT,
      "www-authenticate": header === null ? REALM : `${REALM}, error="invalid_token"`,
    },
  });
}

// A node as /nodes answers it: snake_case, times as RFC 3339.
function nodeJson(node: NodeView): Record<string, unknown> {
  const time = (seconds: number | undefined) =>
    seconds === undefined ? null : new Date(seconds * 1000).toISOString();
  return {
    node_id: node.nodeId,
    state: node.state,
    first_message_at: time(node.firstMessageAt),
    last_message_at: time(node.lastMessageAt),
    last_data_at: time(node.lastDataAt),
    newest_reading_time: time(node.newestReadingTime),
    messages: node.messages,
    records: node.records,
    dead_letters: node.deadLetters,
    readings_from_future: node.readingsFromFuture,
    usual_interval_seconds: node.usualIntervalSeconds ?? null,
    silent_after_seconds: node.silentAfterSeconds,
    bridge_up: node.bridgeUp ?? null,
    bridge_since: time(node.bridgeSince),
  };
}

type Route = "metrics" | "healthz" | "readyz" | "index" | "nodes";

const ROUTES: Record<string, Route | undefined> = Object
  .assign(Object.create(null), {
    "/": "index",
    "/nodes": "nodes",
    "/metrics": "metrics",
    "/healthz": "healthz",
    "/readyz": "readyz",
  });

// The probes' paths stay open: they tell only whether the agent runs and is
// connected.
const OPEN_ROUTES: ReadonlySet<Route> = new Set<Route>(["healthz", "readyz"]);

/**
 * The paths that, with a token set, answer only requests that carry it;
 * the others, `/healthz` and `/readyz`, stay open for probes.
 */
export const TOKEN_PATHS: readonly string[] = Object.keys(ROUTES)
  .filter((path) => !OPEN_ROUTES.has(ROUTES[path]!));

/** The answer to a method other than GET and HEAD. */
export function methodNotAllowed(): Response {
  return new Response("Method not allowed\n", {
    status: 405,
    headers: { ...COMMON_HEADERS, allow: "GET, HEAD", "content-type": TEXT },
  });
}

/** A plain-text answer with the endpoint's common headers. */
export function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { ...COMMON_HEADERS, "content-type": TEXT } });
}
