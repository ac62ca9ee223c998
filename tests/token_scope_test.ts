/**
 * What the token guards is said in the settings table (and so in `--help`,
 * the README and agent.env): the words must name exactly the paths the
 * handler guards.
 */

import assert from "node:assert/strict";
import { createHandler, TOKEN_PATHS } from "../src/http/http_handler.ts";
import { setting } from "../src/settings/settings.ts";

const TOKEN = "t".repeat(32);

// The endpoint's paths a text names: "/", "/metrics", "`/nodes`".
function pathsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/(?<![\w/.$])\/[a-z]*(?![\w/])/g)].map(([path]) => path))]
    .sort();
}

Deno.test("the handler answers 401 without the token on every path it lists as guarded, and only there", async () => {
  const handle = createHandler({
    metrics: () => "",
    ready: () => true,
    status: () => "<!doctype html>",
    nodes: () => [],
  }, { token: TOKEN });
  for (const path of [...TOKEN_PATHS, "/healthz", "/readyz"]) {
    const response = await handle(new Request(`http://127.0.0.1${path}`));
    await response.body?.cancel();
    assert.equal(response.status, TOKEN_PATHS.includes(path) ? 401 : 200, path);
  }
});

Deno.test("METRICS_TOKEN_FILE's help and description name every path the token guards, and no other", () => {
  const { help = "", description } = setting("METRICS_TOKEN_FILE");
  const guarded = [...TOKEN_PATHS].sort();
  assert.deepEqual(pathsIn(help), guarded, `help: ${help}`);
  assert.deepEqual(pathsIn(description), guarded, `description: ${description}`);
});
