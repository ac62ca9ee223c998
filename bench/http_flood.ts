/**
 * What a flood of half-open connections costs the agent's endpoint: the
 * agent runs as `deno task start` runs it, connected to a mosquitto; the
 * benchmark opens N connections that each send the start of a request and
 * never finish it, then reads the agent's resident memory and times five
 * scrapes of `/metrics` while they are held.
 *
 *   deno task bench:flood [--held 500,5000]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startBroker } from "./broker.ts";
import { agentCommand, spawnAgent, waitReady } from "./consumer.ts";
import { memory } from "./proc.ts";
import { freePort } from "./broker.ts";

const { values } = parseArgs({ args: Deno.args, options: { held: { type: "string" } } });
const counts = (values.held ?? "500,5000").split(",").map(Number);

const MB = 1e6;
const broker = await startBroker();
const port = freePort();
const command = agentCommand(broker.url, `bench-flood-${Date.now()}`, port);
const agent = spawnAgent(command);

// Five scrapes, one after the other: their statuses and the slowest, in ms.
async function scrapes(): Promise<{ statuses: number[]; slowestMs: number }> {
  const statuses: number[] = [];
  let slowestMs = 0;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    statuses.push(response.status);
    slowestMs = Math.max(slowestMs, performance.now() - started);
  }
  return { statuses, slowestMs };
}

try {
  await waitReady(command.readyUrl!, 20_000, 50);
  const before = memory(agent.pid);
  const base = await scrapes();
  console.log(`| held | RSS MB | peak RSS MB | scrapes answered 200 | slowest scrape ms |`);
  console.log(`| --- | --- | --- | --- | --- |`);
  const row = (held: number, rss: number, peak: number, result: typeof base) =>
    console.log(
      `| ${held} | ${(rss / MB).toFixed(1)} | ${(peak / MB).toFixed(1)} | ` +
        `${result.statuses.filter((status) => status === 200).length} of 5 | ` +
        `${result.slowestMs.toFixed(1)} |`,
    );
  row(0, before.rss, before.peakRss, base);
  const open: Deno.Conn[] = [];
  const head = new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHost: agent\r\n");
  for (const held of counts) {
    while (open.length < held) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(head);
      open.push(conn);
    }
    const result = await scrapes();
    const { rss, peakRss } = memory(agent.pid);
    row(held, rss, peakRss, result);
  }
  for (const conn of open) conn.close();
} finally {
  agent.kill("SIGTERM");
  await agent.status;
  await broker.stop();
}
