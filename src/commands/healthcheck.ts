/**
 * `ammp-agent healthcheck`: asks the agent running beside it whether it is
 * ready, for container health checks on images that have no curl.
 *
 * @module
 */

import { agentBaseUrl, localGet } from "../http/local_http.ts";
import { dropPermissions } from "../permissions.ts";
import { type Env, sectionsFrom } from "./_config_from.ts";

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
  let answer;
  try {
    answer = await localGet(url, { timeoutMs: options.timeoutMs ?? 3000 });
  } catch (error) {
    return (error as Error).message.replaceAll("\n", " ");
  }
  if (answer.status === 200) return undefined;
  return `Not ready: ${url} answered ${answer.status} ${answer.statusText}`.trimEnd();
}

/**
 * `ammp-agent healthcheck`: exit code 0 when `/readyz` of the agent at
 * `METRICS_LISTEN` answers 200, 1 when not (the reason on stderr), 2 for a
 * bad `METRICS_LISTEN`.
 */
export async function healthcheckCommand(env: Env): Promise<number> {
  const config = sectionsFrom(env, ["listen"]);
  if (config === undefined) return 2;
  dropPermissions();
  const problem = await checkReady(readyUrl(config.listen));
  if (problem === undefined) return 0;
  console.error(problem);
  return 1;
}
