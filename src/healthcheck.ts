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
 * Fetches `url` and resolves to undefined when it answers 200, or to a
 * one-line reason why the agent is not ready.
 */
export async function checkReady(
  url: string,
  options: CheckReadyOptions = {},
): Promise<string | undefined> {
  const timeoutMs = options.timeoutMs ?? 3000;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const reason = error instanceof DOMException && error.name === "TimeoutError"
      ? `no answer within ${timeoutMs / 1000} s`
      : connectProblem(error as Error);
    return `Cannot reach ${url}: ${reason.replaceAll("\n", " ")}`;
  }
  await response.body?.cancel();
  if (response.status === 200) return undefined;
  return `Not ready: ${url} answered ${response.status} ${response.statusText}`.trimEnd();
}

/** The innermost cause of a failed fetch, e.g. "Connection refused". */
function connectProblem(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message : error.message;
  // "error sending request for url (...): client error (Connect): tcp connect error: X (os error N)"
  return cause.split(": ").at(-1)!.replace(/ \(os error \d+\)$/, "");
}
