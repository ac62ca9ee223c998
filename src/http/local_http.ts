/**
 * One GET to the agent's own HTTP endpoint, straight over TCP. The
 * commands that ask a running agent (`healthcheck`, `nodes`) never go
 * through a proxy that HTTP_PROXY, HTTPS_PROXY or ALL_PROXY name: a proxy
 * cannot reach the host's or the container's loopback, where the agent is.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/**
 * The base URL (`http://host:port`) of an agent listening on `listen`,
 * reached from the same host: one listening on every address is reached on
 * loopback.
 */
export function agentBaseUrl(listen: { hostname: string; port: number }): string {
  const hostname = listen.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : listen.hostname === "::"
    ? "::1"
    : listen.hostname;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return `http://${host}:${listen.port}`;
}

/** Options for {@linkcode localGet}. */
export interface LocalGetOptions {
  /** Extra request headers, e.g. `authorization`. */
  headers?: Record<string, string>;
  /** How long the whole exchange may take, in milliseconds (default 3000). */
  timeoutMs?: number;
}

/** What the endpoint answered. */
export interface LocalResponse {
  status: number;
  statusText: string;
  body: string;
}

/** The largest answer read, in bytes: `/nodes` of 50,000 nodes fits. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * Sends `GET` for `url` (`http://host:port/path?query`) and reads the whole
 * answer. Throws an `Error` whose message says what failed, quoting the
 * URL, when it cannot connect, gets no answer in time, or the answer is not
 * HTTP.
 */
export async function localGet(url: string, options: LocalGetOptions = {}): Promise<LocalResponse> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const target = new URL(url);
  const hostname = target.hostname.replace(/^\[(.*)\]$/, "$1");
  let conn: Deno.TcpConn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Cannot reach ${url}: no answer within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      (async () => {
        try {
          conn = await Deno.connect({ hostname, port: Number(target.port || 80) });
        } catch (error) {
          throw new Error(`Cannot reach ${url}: ${connectProblem(error as Error)}`);
        }
        const headers = Object.entries(options.headers ?? {})
          .map(([name, value]) => `${name}: ${value}\r\n`).join("");
        const request = `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}` +
          `\r\n${headers}Connection: close\r\n\r\n`;
        await conn.write(new TextEncoder().encode(request));
        return parseAnswer(url, await readToEnd(conn));
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
  }
}

async function readToEnd(conn: Deno.TcpConn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buffer = new Uint8Array(64 * 1024);
  while (size <= MAX_ANSWER_BYTES) {
    const read = await conn.read(buffer);
    if (read === null) break;
    chunks.push(buffer.slice(0, read));
    size += read;
  }
  return Buffer.concat(chunks, size);
}

function parseAnswer(url: string, bytes: Uint8Array): LocalResponse {
  const end = headEnd(bytes);
  const head = new TextDecoder().decode(bytes.subarray(0, Math.max(end, 0)));
  const match = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?/.exec(head);
  if (end === -1 || !match) throw new Error(`Cannot reach ${url}: not an HTTP answer`);
  let body = bytes.subarray(end + 4);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) body = unchunk(body);
  return {
    status: Number(match[1]),
    statusText: match[2] ?? "",
    body: new TextDecoder().decode(body),
  };
}

// Where the blank line that ends the head starts; -1 when there is none.
function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

function unchunk(body: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  while (at < body.length) {
    let lineEnd = at;
    while (lineEnd + 1 < body.length && !(body[lineEnd] === 13 && body[lineEnd + 1] === 10)) {
      lineEnd++;
    }
    const size = parseInt(new TextDecoder().decode(body.subarray(at, lineEnd)), 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** The innermost cause of a failed connect, e.g. "Connection refused". */
function connectProblem(error: Error): string {
  return error.message.split(": ").at(-1)!.replace(/ \(os error \d+\)$/, "");
}
