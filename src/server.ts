/**
 * The HTTP endpoint: `/metrics` for Prometheus, `/healthz` and `/readyz`
 * for supervisors, `/` for a person.
 *
 * @module
 */

/** What the server asks of the running agent. */
export interface ServerHandlers {
  /** The metrics in the Prometheus text format. */
  metrics(): Promise<string>;
  /** Whether the agent is connected and subscribed. */
  ready(): boolean;
  /** The status page, a whole HTML document. */
  status(): string | Promise<string>;
}

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  hostname: string;
  port: number;
  /** Called once listening, with the actual address. */
  onListen?: (address: Deno.NetAddr) => void;
}

const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

/** Builds the request handler; exported so tests can call it directly. */
export function createHandler(
  handlers: ServerHandlers,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const { pathname } = new URL(request.url);
    const route = ROUTES[pathname];
    if (route === undefined) return text(404, "Not found\n");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
      });
    }
    switch (route) {
      case "metrics":
        return new Response(await handlers.metrics(), {
          headers: { "content-type": PROMETHEUS_TEXT, "cache-control": "no-store" },
        });
      case "healthz":
        return text(200, "ok\n");
      case "readyz":
        return handlers.ready() ? text(200, "ready\n") : text(503, "not ready\n");
      case "index":
        return new Response(await handlers.status(), {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "cache-control": "no-store",
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
          },
        });
    }
  };
}

const ROUTES: Record<string, "metrics" | "healthz" | "readyz" | "index" | undefined> = Object
  .assign(Object.create(null), {
    "/": "index",
    "/metrics": "metrics",
    "/healthz": "healthz",
    "/readyz": "readyz",
  });

/** Starts the HTTP server; stop it with `shutdown()` on the result. */
export function startServer(
  handlers: ServerHandlers,
  options: ServerOptions,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: options.hostname,
    port: options.port,
    // Deno.serve announces itself on stdout by default; stdout is for records.
    onListen: (address) => options.onListen?.(address),
  }, createHandler(handlers));
}

function text(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}
