import assert from "node:assert/strict";
import { connectAsync, type MqttClient } from "mqtt";
import { type AgentProcess, minimalEnv, ROOT, startAgent } from "./_support/agent_process.ts";
import { startBroker, type TestBroker } from "./_support/broker.ts";
import { chromiumPath, chromiumRequired, launchChromium } from "./_support/chromium.ts";

const REPORTING = "b827eb00000a";
const STOPPED = "b827eb00000b";
const OFFLINE = "b827eb00000c";
const REPLAYING = "b827eb00000d";

function payload(t: number): string {
  return JSON.stringify({ t, r: [{ _vid: "inv-1", P_total: 100 }] });
}

async function publish(client: MqttClient, node: string, t: number): Promise<void> {
  await client.publishAsync(`a/${node}/u/data`, payload(t), { qos: 1 });
}

async function nodes(
  agent: AgentProcess,
  query = "",
): Promise<{ node_id: string; state: string }[]> {
  const { status, body } = await agent.get(`/nodes${query}`);
  assert.equal(status, 200, body);
  return JSON.parse(body).nodes;
}

function agentEnv(broker: TestBroker, stateDirectory: string): Record<string, string> {
  return {
    MQTT_URL: broker.url,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    MQTT_CLIENT_ID: "fleet-view-test",
    NODE_SILENT_AFTER_SECONDS: "2",
    STATE_DIRECTORY: stateDirectory,
  };
}

// Three sites: one keeps sending, one stops, one's bridge says it is offline.
async function threeSites(
  broker: TestBroker,
  fn: (agent: AgentProcess, stateDirectory: string, publisher: MqttClient) => Promise<void>,
): Promise<void> {
  const stateDirectory = await Deno.makeTempDir();
  const agent = await startAgent(agentEnv(broker, stateDirectory));
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  const now = () => Math.floor(Date.now() / 1000);
  try {
    for (const node of [REPORTING, STOPPED, OFFLINE]) {
      await publisher.publishAsync(`a/${node}/bridge_state`, "1", { qos: 1, retain: true });
      await publish(publisher, node, now());
    }
    await publisher.publishAsync(`a/${OFFLINE}/bridge_state`, "0", { qos: 1, retain: true });
    const keepGoing = setInterval(() => publish(publisher, REPORTING, now()), 300);
    try {
      await fn(agent, stateDirectory, publisher);
    } finally {
      clearInterval(keepGoing);
    }
  } finally {
    await publisher.endAsync();
    await agent.stop("SIGKILL");
    await Deno.remove(stateDirectory, { recursive: true });
  }
}

Deno.test("the fleet view tells the silent and the offline site apart within 5 s, and after a restart", async () => {
  await using broker = await startBroker();
  await threeSites(broker, async (agent, stateDirectory) => {
    const started = Date.now();
    await agent.waitFor(
      async () =>
        await agent.metric('ammp_agent_nodes{state="silent"}') === 1 &&
        await agent.metric('ammp_agent_nodes{state="offline"}') === 1,
      "one silent and one offline node",
      5000,
    );
    assert.ok(Date.now() - started < 5000);
    assert.equal(await agent.metric('ammp_agent_nodes{state="reporting"}'), 1);
    assert.deepEqual((await nodes(agent, "?state=silent")).map((n) => n.node_id), [STOPPED]);
    assert.deepEqual((await nodes(agent, "?state=offline")).map((n) => n.node_id), [OFFLINE]);
    assert.equal(await agent.metric(`ammp_agent_node_up{node_id="${OFFLINE}"}`), 0);
    assert.equal(await agent.metric(`ammp_agent_node_silent{node_id="${STOPPED}"}`), 1);
    assert.equal((await agent.get("/nodes?state=asleep")).status, 400);
    const page = (await agent.get("/")).body;
    assert.match(page, new RegExp(`<code>${STOPPED}</code></td><td[^>]*>silent<`));
    assert.match(page, new RegExp(`<code>${OFFLINE}</code></td><td[^>]*>offline<`));
    assert.doesNotMatch(page, new RegExp(`<code>${REPORTING}</code>`));

    // The same from the command line, also with a proxy in the environment.
    const command = async (...args: string[]) => {
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--permission-set=agent", "--no-prompt", "main.ts", ...args],
        cwd: ROOT,
        clearEnv: true,
        env: minimalEnv({
          METRICS_LISTEN: `127.0.0.1:${agent.port}`,
          HTTP_PROXY: "http://127.0.0.1:1",
          http_proxy: "http://127.0.0.1:1",
        }),
        stdin: "null",
      }).output();
      return {
        code,
        out: new TextDecoder().decode(stdout),
        err: new TextDecoder().decode(stderr),
      };
    };
    const table = await command("nodes", "--state", "silent");
    assert.equal(table.code, 0, table.err);
    const lines = table.out.trimEnd().split("\n");
    assert.match(lines[0], /^NODE +STATE +LAST DATA/);
    assert.match(lines[1], new RegExp(`^${STOPPED} +silent +\\d+ s ago`));
    assert.equal(lines.at(-1), "1 node");
    const json = await command("nodes", "--json");
    assert.equal(json.code, 0, json.err);
    assert.equal(JSON.parse(json.out).nodes.length, 3);
    const bad = await command("nodes", "--state", "asleep");
    assert.equal(bad.code, 2);
    assert.equal(
      bad.err,
      'Invalid --state "asleep": expected one of reporting, silent, offline, backfilling\n',
    );

    assert.equal(await agent.stop("SIGTERM"), 0);
    // Nothing is published while it is away; the restarted agent knows
    // the stopped site before any message reaches it.
    const again = await startAgent({
      ...agentEnv(broker, stateDirectory),
      MQTT_URL: "mqtt://127.0.0.1:1",
    }, { waitReady: false });
    try {
      await again.waitFor(async () => {
        try {
          return (await again.get("/healthz")).status === 200;
        } catch {
          return false;
        }
      }, "the restarted agent's endpoint");
      assert.equal(await again.metric("ammp_agent_messages_received_total"), 0);
      const silent = (await nodes(again, "?state=silent")).map((n) => n.node_id);
      assert.ok(silent.includes(STOPPED), JSON.stringify(silent) + again.stderr + agent.stderr);
      assert.deepEqual((await nodes(again, "?state=offline")).map((n) => n.node_id), [OFFLINE]);
    } finally {
      await again.stop("SIGKILL");
    }
  });
});

Deno.test("a replayed backlog shows its site backfilling, in the lag histogram's upper buckets", async () => {
  const broker = await startBroker();
  const stateDirectory = await Deno.makeTempDir();
  const agent = await startAgent(agentEnv(broker, stateDirectory));
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  try {
    const twoDaysAgo = Math.floor(Date.now() / 1000) - 2 * 86_400;
    for (let i = 0; i < 20; i++) await publish(publisher, REPLAYING, twoDaysAgo + 60 * i);
    await agent.waitFor(
      async () => await agent.metric("ammp_agent_reading_lag_seconds_count") === 20,
      "20 readings in the lag histogram",
    );
    assert.deepEqual((await nodes(agent)).map((n) => [n.node_id, n.state]), [
      [REPLAYING, "backfilling"],
    ]);
    assert.equal(await agent.metric('ammp_agent_reading_lag_seconds_bucket{le="86400"}'), 0);
    assert.equal(await agent.metric('ammp_agent_reading_lag_seconds_bucket{le="604800"}'), 20);
    assert.equal(await agent.metric('ammp_agent_nodes{state="silent"}'), 0);
  } finally {
    await publisher.endAsync();
    await agent.stop("SIGKILL");
    await broker.stop();
    await Deno.remove(stateDirectory, { recursive: true });
  }
});

const noChromium = chromiumPath() === undefined && !chromiumRequired();

// What a person would find wrong with the page at the viewport's width:
// anything past its right or left edge, charts without axes or legend, or
// a legend that does not name each series drawn, in a colour of its own.
const PAGE_PROBLEMS = `(() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push("the page scrolls sideways: " + root.scrollWidth + " > " + root.clientWidth);
  }
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    (e.className && typeof e.className === "string" ? "." + e.className.trim().replace(/ +/g, ".") : "") +
    " " + JSON.stringify((e.textContent ?? "").trim().slice(0, 30));
  for (const e of document.body.querySelectorAll("*")) {
    const box = e.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right > width + 0.5 || box.left < -0.5) {
      problems.push(name(e) + " spans " + Math.round(box.left) + " to " + Math.round(box.right));
    }
    // A box whose text is wider than the box: a count cut off.
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "visible") {
      problems.push(name(e) + " cuts its content: " + e.scrollWidth + " > " + e.clientWidth);
    }
  }
  const charts = [...document.querySelectorAll("figure.chart")];
  if (charts.length !== 2) problems.push(charts.length + " charts, not 2");
  for (const chart of charts) {
    const title = chart.dataset.chart;
    const texts = (selector) => [...chart.querySelectorAll(selector)].map((e) => e.textContent.trim());
    const times = texts("[data-axis=x] .tick");
    if (times.length < 2 || !times.every((t) => /^\\d\\d:\\d\\d$/.test(t))) {
      problems.push(title + ": time axis labels " + JSON.stringify(times));
    }
    const values = texts("[data-axis=y] .tick");
    if (values.length < 2 || !values.every((v) => /^\\d+(\\.\\d+)?k?$/.test(v))) {
      problems.push(title + ": value axis labels " + JSON.stringify(values));
    }
    for (const axis of ["x", "y"]) {
      if (texts("[data-axis=" + axis + "] .axis-title").join("") === "") {
        problems.push(title + ": the " + axis + " axis has no title");
      }
    }
    const drawn = [...new Set([...chart.querySelectorAll("svg [data-series]")].map((e) => e.dataset.series))];
    const legend = [...chart.querySelectorAll(".legend [data-series]")];
    const named = legend.map((e) => e.dataset.series);
    if (drawn.length === 0 || JSON.stringify(named.toSorted()) !== JSON.stringify(drawn.toSorted())) {
      problems.push(title + ": legend " + JSON.stringify(named) + " for series " + JSON.stringify(drawn));
    }
    if (legend.some((e) => e.textContent.trim() === "")) problems.push(title + ": an empty legend entry");
    const colours = drawn.map((series) =>
      getComputedStyle(chart.querySelector("svg [data-series=" + series + "]")).fill
    );
    if (new Set(colours).size !== colours.length) {
      problems.push(title + ": series share colours " + JSON.stringify(colours));
    }
  }
  return problems;
})()`;

Deno.test({
  name: `the status page shows the silent site in a real browser, readable from 390 to 1920 px${
    noChromium ? " (ignored: chromium is not installed)" : ""
  }`,
  ignore: noChromium,
  fn: async () => {
    await using broker = await startBroker();
    await threeSites(broker, async (agent) => {
      await agent.waitFor(
        async () => await agent.metric('ammp_agent_nodes{state="silent"}') === 1,
        "a silent node",
        5000,
      );
      // The nodes chart draws a sample taken once the site was silent.
      await agent.waitFor(async () => {
        const band = /<g data-series="silent"[^>]*><path d="([^"]*)"/.exec(
          (await agent.get("/")).body,
        );
        return new Set(band?.[1].match(/,[\d.]+/g)).size > 1;
      }, "the silent site in the nodes chart");
      await using browser = await launchChromium();
      const host = Deno.hostname();
      const found: Record<number, string[]> = {};
      for (const width of [390, 1280, 1920]) {
        const page = await browser.open(`http://127.0.0.1:${agent.port}/`, { width });
        const rows = await page.evaluate<string[][]>(
          `[...document.querySelectorAll("#sites tr")].slice(1)
            .map((row) => [...row.cells].slice(0, 2).map((cell) => cell.textContent))`,
        );
        assert.deepEqual(rows, [[STOPPED, "silent"], [OFFLINE, "offline"]]);
        const problems = await page.evaluate<string[]>(PAGE_PROBLEMS);
        const title = await page.evaluate<string>("document.title");
        const heading = await page.evaluate<string>("document.querySelector('h1').textContent");
        if (!title.includes(host)) {
          problems.push(`the title ${JSON.stringify(title)} lacks ${host}`);
        }
        if (!heading.includes(host)) {
          problems.push(`the heading ${JSON.stringify(heading)} lacks ${host}`);
        }
        const folder = Deno.env.get("STATUS_SCREENSHOTS");
        const shot = folder === undefined
          ? await Deno.makeTempFile({ suffix: ".png" })
          : `${folder}/status-page-${width}.png`;
        await page.screenshot(shot);
        const png = await Deno.readFile(shot);
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
        assert.deepEqual(page.errors, []);
        found[width] = problems;
      }
      assert.deepEqual(found, { 390: [], 1280: [], 1920: [] });
    });
  },
});
