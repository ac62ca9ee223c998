/**
 * `ammp-agent healthcheck`: asks the agent running beside it whether it is
 * ready, for container health checks on images that have no curl.
 *
 * @module
 */

import { agentBaseUrl } from "./_local_http.ts";

/** Options for {@linkcode checkReady}. */
export interface CheckReadyOptions {
  /** How long to wait for the answer, in milliseconds (default 3000). */
  timeoutMs?: number;
}

/** The `/readyz` URL of an agent listening on `listen`, reached from the same host. */
export function readyUrl(listen: { hostname: string; port: number }): string {
  return `${agentBaseUrl(listen)}/readyz`;
}

/**
 * Asks `url` (`http://host:port/path`) with one GET and resolves to
 * undefined when it answers 200, or to a one-line reason why the agent is
 * not ready. The request goes straight to the agent over TCP, never through
 * a proxy that HTTP_PROXY, HTTPS_PROXY or ALL_PROXY name: a proxy cannot
 * reach the container's or the host's loopback, so fetch() with the
 * environment's proxy would call a ready agent unreachable.
 */
export async function checkReady(
  url: string,
  options: CheckReadyOptions = {},
): Promise<string | undefined> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const target = new URL(url);
  const hostname = target.hostname.replace(/^\[(.*)\]$/, "$1");
  let timer: ReturnType<typeof setTimeout> | undefined;
  let conn: Deno.TcpConn | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const answer = await Promise.race([
      (async () => {
        conn = await Deno.connect({ hostname, port: Number(target.port || 80) });
        return await statusLine(conn, `${target.pathname}${target.search}`, target.host);
      })(),
      timeout,
    ]);
    if (answer === "timeout") {
      return `Cannot reach ${url}: no answer within ${timeoutMs / 1000} s`;
    }
    const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(answer);
    if (!match) return `Cannot reach ${url}: not an HTTP answer`;
    if (match[1] === "200") return undefined;
    return `Not ready: ${url} answered ${match[1]} ${match[2] ?? ""}`.trimEnd();
  } catch (error) {
    return `Cannot reach ${url}: ${connectProblem(error as Error).replaceAll("\n", " ")}`;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // already closed
    }
  }
}

/** Sends a GET for `path` on `conn` and resolves to the answer's status line. */
async function statusLine(conn: Deno.TcpConn, path: string, host: string): Promise<string> {
  const request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
  await conn.write(new TextEncoder().encode(request));
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!text.includes("\r\n")) {
    const read = await conn.read(buffer);
    if (read === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, read));
    if (text.length > 4096) break;
  }
  return text.split("\r\n")[0];
}

/** The innermost cause of a failed connection, e.g. "Connection refused". */
function connectProblem(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message : error.message;
  return cause.split(": ").at(-1)!.replace(/ \(os error \d+\)$/, "");
}
