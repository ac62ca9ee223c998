/**
 * The HTTP endpoint's server, for the answers of `http_handler.ts`.
 *
 * The server accepts its connections itself, because Deno.serve bounds
 * neither how long a client may take to send its request nor how many
 * connections it keeps. Here each connection has a deadline to send its
 * request head, one request is answered per connection, and at most
 * {@linkcode MAX_CONNECTIONS} are held: a flood of idle connections costs
 * the oldest of them their place. A scrape waits among them only until its
 * request head is read, so hundreds of idle connections do not stop it;
 * thousands of new connections a second still can.
 *
 * @module
 */

import {
  createHandler,
  type HandlerOptions,
  methodNotAllowed,
  type ServerHandlers,
  text,
} from "./http_handler.ts";
import { findHeadEnd, parseRequestHead } from "./request_head.ts";

/** Options for {@linkcode startServer}. */
export interface ServerOptions extends HandlerOptions {
  hostname: string;
  port: number;
  /** Called once listening, with the actual address. */
  onListen?: (address: Deno.NetAddr) => void;
  /**
   * How long a connection may take to send its request head, and then to
   * take the answer, in milliseconds (default {@linkcode REQUEST_TIMEOUT_MS}).
   */
  requestTimeoutMs?: number;
  /** Connections held at once, at most (default {@linkcode MAX_CONNECTIONS}). */
  maxConnections?: number;
}

/** How long a connection may take to send its request head: 10 s. */
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Connections held at once. Prometheus, a health check and a person need a
 * handful; the rest bound what a flood of connections can cost.
 */
export const MAX_CONNECTIONS = 64;

/** The largest request head read, in bytes; a longer one is answered 414 or 431. */
export const MAX_HEAD_BYTES = 8192;

/** The running endpoint: Deno.serve's server interface, and how many connections it holds. */
export interface MetricsServer extends Deno.HttpServer<Deno.NetAddr> {
  /** Connections held right now. */
  readonly connections: number;
}

/**
 * Starts the HTTP server; stop it with `shutdown()` on the result. Throws
 * as `Deno.listen` does, e.g. `Deno.errors.AddrInUse`.
 */
export function startServer(handlers: ServerHandlers, options: ServerOptions): MetricsServer {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const server = new _Server(listener, createHandler(handlers, { token: options.token }), {
    timeoutMs: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    maxConnections: options.maxConnections ?? MAX_CONNECTIONS,
  });
  options.onListen?.(server.addr);
  return server;
}

interface Held {
  /** Waiting for its request head, or answered already: may be closed to make room. */
  waiting: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

class _Server implements MetricsServer {
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  #listener: Deno.TcpListener;
  #handler: (request: Request) => Promise<Response>;
  #timeoutMs: number;
  #max: number;
  #base: string;
  // In the order they came: the first waiting one is the oldest.
  #held = new Map<Deno.Conn, Held>();
  #serving = new Set<Promise<void>>();
  #closed = false;

  constructor(
    listener: Deno.TcpListener,
    handler: (request: Request) => Promise<Response>,
    limits: { timeoutMs: number; maxConnections: number },
  ) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.#handler = handler;
    this.#timeoutMs = limits.timeoutMs;
    this.#max = limits.maxConnections;
    const host = this.addr.hostname.includes(":") ? `[${this.addr.hostname}]` : this.addr.hostname;
    this.#base = `http://${host}:${this.addr.port}`;
    this.finished = this.#accept();
  }

  get connections(): number {
    return this.#held.size;
  }

  async #accept(): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed || error instanceof Deno.errors.BadResource) break;
        // Out of file descriptors, say: give the others time to end.
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (this.#held.size >= this.#max && !this.#makeRoom()) {
        _close(conn);
        continue;
      }
      const serving = this.#serve(conn);
      this.#serving.add(serving);
      serving.finally(() => this.#serving.delete(serving));
    }
    await Promise.all(this.#serving);
  }

  // Closes the oldest connection that has not sent its request yet.
  #makeRoom(): boolean {
    for (const [conn, held] of this.#held) {
      if (held.waiting) {
        this.#drop(conn);
        return true;
      }
    }
    return false;
  }

  #drop(conn: Deno.Conn): void {
    const held = this.#held.get(conn);
    if (held === undefined) return;
    clearTimeout(held.timer);
    this.#held.delete(conn);
    _close(conn);
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const held: Held = { waiting: true };
    this.#held.set(conn, held);
    held.timer = setTimeout(() => this.#drop(conn), this.#timeoutMs);
    try {
      const head = await _readHead(conn);
      if (head === undefined) return;
      held.waiting = false;
      clearTimeout(held.timer);
      held.timer = setTimeout(() => this.#drop(conn), this.#timeoutMs);
      let response: Response;
      let method = "GET";
      if (typeof head === "number") {
        response = text(head, head === 414 ? "URI too long\n" : "Request header too large\n");
      } else {
        const parsed = parseRequestHead(head);
        if ("status" in parsed) {
          response = text(parsed.status, `Bad request: ${parsed.problem}\n`);
        } else {
          method = parsed.method;
          response = await this.#respond(parsed.method, parsed.target, parsed.headers);
        }
      }
      await _writeAll(conn, await _serialize(response, method === "HEAD"));
      // Closing with unread bytes (a body, the rest of an overlong head) would
      // reset the connection and could lose the answer: end the sending side,
      // and read what still comes until the client closes. Answered, the
      // connection may make room for another.
      held.waiting = true;
      await conn.closeWrite();
      await _discard(conn, MAX_HEAD_BYTES * 8);
    } catch {
      // Closed by its deadline, to make room, or by the client: nothing to answer.
    } finally {
      this.#drop(conn);
    }
  }

  async #respond(method: string, target: string, headers: Headers): Promise<Response> {
    let request: Request;
    try {
      request = new Request(this.#base + target, { method, headers });
    } catch {
      // Methods fetch refuses to carry (CONNECT, TRACE, TRACK).
      return methodNotAllowed();
    }
    try {
      return await this.#handler(request);
    } catch {
      return text(500, "Internal server error\n");
    }
  }

  async shutdown(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#listener.close();
      // Requests being answered finish; those not yet sent are not waited for.
      for (const [conn, held] of this.#held) if (held.waiting) this.#drop(conn);
    }
    await this.finished;
  }

  ref(): void {
    this.#listener.ref();
  }

  unref(): void {
    this.#listener.unref();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

// The head's bytes, a status when it is too long, or undefined when the
// client closed before sending one.
async function _readHead(conn: Deno.Conn): Promise<Uint8Array | 414 | 431 | undefined> {
  // Most heads fit in 1 KiB; the buffer grows only for those that do not.
  let buffer = new Uint8Array(1024);
  let filled = 0;
  while (filled < MAX_HEAD_BYTES) {
    if (filled === buffer.length) {
      const larger = new Uint8Array(Math.min(2 * buffer.length, MAX_HEAD_BYTES));
      larger.set(buffer);
      buffer = larger;
    }
    const read = await conn.read(buffer.subarray(filled));
    if (read === null) return undefined;
    const end = findHeadEnd(buffer.subarray(0, filled + read), filled);
    filled += read;
    if (end !== -1) return buffer.subarray(0, end);
  }
  // Without a line break the request line alone is too long.
  return buffer.includes(10) ? 431 : 414;
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

// One request per connection: the answer says so and carries its length.
async function _serialize(response: Response, head: boolean): Promise<Uint8Array> {
  const body = new Uint8Array(await response.arrayBuffer());
  let lines = `HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? ""}\r\n`;
  for (const [name, value] of response.headers) lines += `${name}: ${value}\r\n`;
  lines += `content-length: ${body.byteLength}\r\nconnection: close\r\ndate: ${
    new Date().toUTCString()
  }\r\n\r\n`;
  const start = new TextEncoder().encode(lines);
  if (head) return start;
  const bytes = new Uint8Array(start.byteLength + body.byteLength);
  bytes.set(start);
  bytes.set(body, start.byteLength);
  return bytes;
}

async function _discard(conn: Deno.Conn, most: number): Promise<void> {
  const buffer = new Uint8Array(MAX_HEAD_BYTES);
  for (let total = 0; total < most;) {
    const read = await conn.read(buffer);
    if (read === null) return;
    total += read;
  }
}

async function _writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.byteLength;) {
    written += await conn.write(bytes.subarray(written));
  }
}

function _close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
