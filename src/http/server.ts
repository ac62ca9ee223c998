/**
 * The HTTP endpoint: `Deno.serve` answering with `http_handler.ts`.
 *
 * `Deno.serve` bounds neither how long a client may take to send its
 * request nor how many connections it keeps open. The endpoint listens on
 * loopback by default; where it listens wider, the token and the host's
 * firewall decide who may connect. What a flood of half-open connections
 * costs is measured in docs/security.md.
 *
 * @module
 */

import { logger } from "../log.ts";
import { createHandler, type HandlerOptions, type ServerHandlers, text } from "./http_handler.ts";

/** Options for {@linkcode startServer}. */
export interface ServerOptions extends HandlerOptions {
  hostname: string;
  port: number;
  /** Called once listening, with the actual address. */
  onListen?: (address: Deno.NetAddr) => void;
}

const log = logger("http");

/**
 * Starts the HTTP endpoint; stop it with `shutdown()` on the result, which
 * lets answers under way finish. Throws as `Deno.listen` does, e.g.
 * `Deno.errors.AddrInUse`.
 */
export function startServer(
  handlers: ServerHandlers,
  options: ServerOptions,
): Deno.HttpServer<Deno.NetAddr> {
  const { hostname, port, onListen } = options;
  return Deno.serve({
    hostname,
    port,
    // Without it, Deno.serve prints its own line on stdout, where records go.
    onListen: (address) => onListen?.(address),
    onError: (error) => {
      log.error("Cannot answer a request: {error}", { error: String(error) });
      return text(500, "Internal server error\n");
    },
  }, createHandler(handlers, { token: options.token }));
}
