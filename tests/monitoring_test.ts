import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { parse } from "yaml";
import { ROOT, startAgent } from "./_support/agent_process.ts";
import { startBroker } from "./_support/broker.ts";
import { promtool, type Series, startPrometheus, testWithTool } from "./_support/prometheus.ts";
import { waitFor as waitUntil } from "./_support/wait_for.ts";

const MONITORING = `${ROOT}monitoring/`;

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleTest {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[] | null;
}

function readYaml<T>(path: string): T {
  return parse(Deno.readTextFileSync(path)) as T;
}

function alertRules(): AlertRule[] {
  const file = readYaml<{ groups: { rules: AlertRule[] }[] }>(`${MONITORING}alerts.yml`);
  return file.groups.flatMap((group) => group.rules).filter((rule) => rule.alert !== undefined);
}

testWithTool("promtool", "monitoring/prometheus.yml passes promtool check config", async () => {
  const result = await promtool(["check", "config", "prometheus.yml"], MONITORING);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /SUCCESS: 1 rule files found/);
});

testWithTool("promtool", "monitoring/alerts.yml passes promtool check rules", async () => {
  const result = await promtool(["check", "rules", "alerts.yml"], MONITORING);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, new RegExp(`SUCCESS: ${alertRules().length} rules found`));
});

testWithTool("promtool", "the alert rules pass their unit tests in alerts_test.yml", async () => {
  const result = await promtool(["test", "rules", "alerts_test.yml"], MONITORING);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /SUCCESS/);
});

Deno.test("every alert has a severity, a summary, a description, a firing and a quiet test case", () => {
  const rules = alertRules();
  const names = rules.map((rule) => rule.alert!);
  for (
    const name of [
      "AmmpAgentDown",
      "AmmpAgentBrokerDisconnected",
      "AmmpAgentSessionTakenOver",
      "AmmpAgentNoMessages",
      "AmmpAgentDataLagging",
      "AmmpAgentFailureRatioHigh",
      "AmmpAgentProcessingSlow",
      "AmmpAgentRestarting",
      "AmmpSiteSilent",
      "AmmpSitesSilentMany",
      "AmmpSiteOffline",
      "AmmpSiteClockSkew",
    ]
  ) {
    assert.ok(names.includes(name), `alerts.yml has ${name}`);
  }
  const file = readYaml<{ tests: { alert_rule_test?: RuleTest[] }[] }>(
    `${MONITORING}alerts_test.yml`,
  );
  const cases = file.tests.flatMap((group) => group.alert_rule_test ?? []);
  for (const rule of rules) {
    const name = rule.alert!;
    assert.match(rule.labels?.severity ?? "", /^(critical|warning)$/, `${name} severity`);
    assert.ok((rule.annotations?.summary ?? "").length > 0, `${name} has a summary`);
    assert.match(rule.annotations?.description ?? "", /Check first/, `${name} says what to check`);
    const own = cases.filter((test) => test.alertname === name);
    assert.ok(own.some((test) => (test.exp_alerts ?? []).length > 0), `${name} has a firing case`);
    assert.ok(own.some((test) => (test.exp_alerts ?? []).length === 0), `${name} has a quiet case`);
  }
  // A case for a name that no rule has would pass without testing anything.
  for (const test of cases) {
    assert.ok(
      names.includes(test.alertname),
      `alerts_test.yml tests a rule named ${test.alertname}`,
    );
  }
});

interface DashboardTarget {
  expr: string;
  refId: string;
  datasource?: { uid?: string };
}

interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string };
  targets?: DashboardTarget[];
}

interface DashboardVariable {
  name: string;
  type: string;
  query: unknown;
  definition?: string;
  datasource?: { type?: string; uid?: string };
}

interface Dashboard {
  uid: string;
  /** What Grafana's import dialog asks for; `${name}` in the dashboard stands for the answer. */
  __inputs?: { name: string; type: string; pluginId?: string }[];
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

/** The data source every query of the dashboard names: the one asked for on import. */
const DASHBOARD_DATASOURCE = { type: "prometheus", uid: "${DS_PROMETHEUS}" };

function dashboard(): Dashboard {
  return JSON.parse(Deno.readTextFileSync(`${MONITORING}grafana/ammp-agent.json`));
}

// Grafana replaces these before a query reaches Prometheus; values of the
// same kind let promtool parse the expression.
const GRAFANA_VARIABLES: Record<string, string> = {
  __rate_interval: "5m",
  __interval: "1m",
  __range: "1h",
  instance: "gw-1:2667|gw-2:2667",
};

function substituteVariables(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
    const value = GRAFANA_VARIABLES[name];
    if (value === undefined) throw new Error(`Unknown dashboard variable "$${name}" in ${expr}`);
    return value;
  });
}

/** The dashboard's PromQL: every panel query and the variables' metric selectors. */
function dashboardExpressions(board: Dashboard): { name: string; expr: string }[] {
  const exprs = board.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      name: `dashboard_panel_${panel.id}_${target.refId}`,
      expr: substituteVariables(target.expr),
    }))
  );
  for (const variable of board.templating.list.filter((v) => v.type === "query")) {
    const match = /^label_values\((.+),\s*(\w+)\)$/.exec(variable.definition ?? "");
    assert.ok(match, `variable ${variable.name} uses label_values(selector, label)`);
    exprs.push({ name: `dashboard_variable_${variable.name}`, expr: match[1] });
  }
  return exprs;
}

/** Puts expressions through promtool as recording rules, so that each is parsed. */
async function checkPromQL(exprs: { name: string; expr: string }[]) {
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-promql-" });
  try {
    const rules = {
      groups: [{ name: "dashboard", rules: exprs.map((e) => ({ record: e.name, expr: e.expr })) }],
    };
    // JSON is YAML, so promtool reads it as a rules file.
    await Deno.writeTextFile(`${dir}/rules.yml`, JSON.stringify(rules, null, 2));
    return await promtool(["check", "rules", "rules.yml"], dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

testWithTool("promtool", "every PromQL expression of the Grafana dashboard parses", async () => {
  const exprs = dashboardExpressions(dashboard());
  assert.ok(exprs.length >= 20, `the dashboard has ${exprs.length} expressions`);
  const result = await checkPromQL(exprs);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, new RegExp(`SUCCESS: ${exprs.length} rules found`));

  // The same check rejects a broken expression, so it does check.
  const broken = await checkPromQL([{ name: "broken", expr: "sum by (instance (rate(x[5m]))" }]);
  assert.notEqual(broken.code, 0, broken.output);
});

/** Every `datasource` object in `value`, with where it is. */
function datasourceRefs(value: unknown, path = ""): { path: string; ref: unknown }[] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === "datasource"
      ? [{ path: `${path}/${key}`, ref: inner }]
      : datasourceRefs(inner, `${path}/${key}`)
  );
}

// The reading-lag histogram with buckets below 1 s, as counted per minute by
// two agents: one takes most readings 0.25 to 1 s after their t, the other
// most within 0.1 s.
const LAG_BUCKETS_PER_MINUTE: Record<string, Record<string, number>> = {
  "gw-1:2667": { "0.1": 10, "0.25": 20, "0.5": 60, "1": 100, "5": 100, "+Inf": 100 },
  "gw-2:2667": { "0.1": 60, "0.25": 80, "0.5": 100, "1": 100, "5": 100, "+Inf": 100 },
};
// Both together, 200 a minute: 70 up to 0.1 s, 100 up to 0.25 s, 160 up to
// 0.5 s. The quantiles are linear within the bucket each falls in: p50 at
// the top of (0.1, 0.25], p90 and p99 half and 38/40 of the way through
// (0.5, 1].
const LAG_QUANTILES: Record<string, number> = { "0.5": 0.25, "0.9": 0.75, "0.99": 0.975 };

testWithTool(
  "promtool",
  "the dashboard's reading-lag quantiles come from the buckets below 1 s of all selected agents",
  async () => {
    const panel = dashboard().panels.find((p) =>
      (p.targets ?? []).some((t) => t.expr.includes("ammp_agent_reading_lag_seconds_bucket"))
    );
    assert.ok(panel, "a panel shows ammp_agent_reading_lag_seconds");
    const tests = panel.targets!.map((target) => {
      const quantile = /^histogram_quantile\(([\d.]+),/.exec(target.expr)?.[1] ?? target.expr;
      assert.ok(quantile in LAG_QUANTILES, `${target.refId} is p50, p90 or p99: ${quantile}`);
      return {
        // Rounded, for promtool compares the digits exactly.
        expr: `round(${substituteVariables(target.expr)}, 0.0001)`,
        eval_time: "10m",
        exp_samples: [{ labels: "{}", value: LAG_QUANTILES[quantile] }],
      };
    });
    assert.equal(tests.length, Object.keys(LAG_QUANTILES).length);
    const input_series = Object.entries(LAG_BUCKETS_PER_MINUTE).flatMap(([instance, buckets]) =>
      Object.entries(buckets).map(([le, count]) => ({
        series:
          `ammp_agent_reading_lag_seconds_bucket{job="ammp-agent", instance="${instance}", le="${le}"}`,
        values: `0+${count}x20`,
      }))
    );
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-lag-" });
    try {
      const file = {
        rule_files: [],
        evaluation_interval: "1m",
        tests: [{ interval: "1m", input_series, promql_expr_test: tests }],
      };
      await Deno.writeTextFile(`${dir}/lag_test.yml`, JSON.stringify(file, null, 2));
      const result = await promtool(["test", "rules", "lag_test.yml"], dir);
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /SUCCESS/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("the Grafana dashboard asks on import for the Prometheus that every query goes to", () => {
  const board = dashboard();
  const inputs = (board.__inputs ?? []).map((i) => `${i.name} ${i.type} ${i.pluginId}`);
  assert.deepEqual(inputs, ["DS_PROMETHEUS datasource prometheus"]);

  const queries = board.panels.filter((panel) => panel.type !== "row");
  for (const panel of queries) {
    assert.deepEqual(panel.datasource, DASHBOARD_DATASOURCE, panel.title);
    for (const target of panel.targets ?? []) {
      assert.deepEqual(target.datasource, DASHBOARD_DATASOURCE, `${panel.title} ${target.refId}`);
    }
  }
  // Anywhere else too (the variables), apart from Grafana's own annotations.
  const refs = datasourceRefs(board).filter(({ path }) => !path.startsWith("/annotations/"));
  assert.ok(refs.length > queries.length, `${refs.length} data-source references`);
  for (const { path, ref } of refs) assert.deepEqual(ref, DASHBOARD_DATASOURCE, path);
  // After an import the queries name the chosen data source itself, so a
  // data-source variable would switch nothing.
  const pickers = board.templating.list.filter((v) => v.type === "datasource").map((v) => v.name);
  assert.deepEqual(pickers, [], "no data-source variable");
});

Deno.test("the Grafana dashboard lists the agents from up, so that one that is down stays in every panel", () => {
  const config = readYaml<{ scrape_configs: { job_name: string }[] }>(
    `${MONITORING}prometheus.yml`,
  );
  const jobs = config.scrape_configs.map((c) => c.job_name);
  assert.deepEqual(jobs, ["ammp-agent"]);
  const wanted = `label_values(up{job="${jobs[0]}"}, instance)`;

  const instance = dashboard().templating.list.find((v) => v.name === "instance");
  assert.equal(instance?.definition, wanted);
  assert.equal((instance?.query as { query?: string }).query, wanted);
  // The line that shows an agent down selects the same series.
  const up = dashboard().panels.flatMap((panel) => panel.targets ?? [])
    .filter((target) => /\bup\{/.test(target.expr));
  assert.deepEqual(up.map((target) => target.expr), [
    `up{job="${jobs[0]}", instance=~"$instance"}`,
  ]);
});

Deno.test("the Grafana dashboard queries every panel through its instance variable", () => {
  const board = dashboard();
  const variables = board.templating.list.map((v) => `${v.name}:${v.type}`);
  assert.deepEqual(variables, ["instance:query"]);
  const ids = board.panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");

  const queries = board.panels.filter((panel) => panel.type !== "row");
  for (const panel of queries) {
    assert.ok((panel.targets ?? []).length > 0, `${panel.title} has a query`);
    for (const target of panel.targets!) {
      assert.match(target.expr, /instance=~"\$instance"/, `${panel.title} ${target.refId}`);
    }
  }
  // Panels do not overlap on Grafana's 24-column grid.
  const cells = new Set<string>();
  for (const { gridPos: g, title } of board.panels) {
    assert.ok(g.x >= 0 && g.x + g.w <= 24, `${title} fits the grid`);
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        assert.ok(!cells.has(`${x},${y}`), `${title} overlaps another panel`);
        cells.add(`${x},${y}`);
      }
    }
  }

  const all = queries.flatMap((panel) => panel.targets!.map((t) => t.expr)).join("\n");
  const wanted: [string, RegExp][] = [
    ["messages per second", /rate\(ammp_agent_messages_received_total/],
    ["records per second", /rate\(ammp_agent_records_written_total/],
    ["failures by reason", /by \(instance, reason\) \(rate\(ammp_agent_messages_failed_total/],
    ["processing p50", /histogram_quantile\(0\.5, .*ammp_agent_message_processing_seconds_bucket/],
    ["processing p99", /histogram_quantile\(0\.99, .*ammp_agent_message_processing_seconds_bucket/],
    ["connection state", /ammp_agent_broker_connected/],
    ["reconnects", /ammp_agent_broker_reconnects_total/],
    ["data lag", /time\(\) - \(ammp_agent_last_reading_timestamp_seconds/],
    ["memory", /process_resident_memory_bytes/],
    ["CPU", /rate\(process_cpu_seconds_total/],
  ];
  for (const [what, pattern] of wanted) assert.match(all, pattern, what);
  const heatmap = queries.find((panel) => panel.type === "heatmap");
  assert.match(heatmap?.targets?.[0].expr ?? "", /ammp_agent_message_processing_seconds_bucket/);
});

testWithTool(
  "prometheus",
  "a real Prometheus scrapes the agent and counts exactly the messages published",
  async () => {
    const published = 17;
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-prometheus-" });
    const broker = await startBroker();
    const agent = await startAgent({
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: `prometheus-${crypto.randomUUID()}`,
      MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    });
    let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
    const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
    try {
      // The shipped configuration, with three changes for a test: scrape
      // every second, load the shipped rules by absolute path, and find the
      // agent through the file-based discovery the configuration sets up.
      const config = readYaml<{
        global: Record<string, string>;
        rule_files: string[];
        scrape_configs: {
          job_name: string;
          file_sd_configs: { files: string[] }[];
        }[];
      }>(`${MONITORING}prometheus.yml`);
      config.global = { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" };
      config.rule_files = config.rule_files.map((file) => `${MONITORING}${file}`);
      const job = config.scrape_configs.find((c) => c.job_name === "ammp-agent");
      assert.ok(job, 'prometheus.yml has the job "ammp-agent"');
      const labels = { site: "plant-north" };
      const targets = [{ targets: [`127.0.0.1:${agent.port}`], labels }];
      const [pattern] = job.file_sd_configs[0].files;
      assert.equal(pattern, "targets/*.yml");
      await Deno.mkdir(`${dir}/targets`);
      await Deno.writeTextFile(`${dir}/targets/test.yml`, JSON.stringify(targets));
      await Deno.writeTextFile(`${dir}/prometheus.yml`, JSON.stringify(config, null, 2));
      prometheus = await startPrometheus(`${dir}/prometheus.yml`, dir);
      const server = prometheus;

      const latest = async () => {
        const result = await server.query("ammp_agent_messages_received_total[30s]");
        return result[0]?.values?.at(-1);
      };
      const waitFor = async (what: string, done: () => Promise<boolean>) => {
        try {
          await waitUntil(done, { what, timeoutMs: 30_000, intervalMs: 200 });
        } catch (error) {
          const active = await server.api("/api/v1/targets");
          throw new Error(
            `${(error as Error).message}; targets: ${JSON.stringify(active)}\n${
              server.log.slice(-2000)
            }`,
          );
        }
      };

      // A first scrape sees nothing received yet.
      await waitFor("the first scrape", async () => (await latest()) !== undefined);
      assert.equal((await latest())![1], "0");

      const t = Math.floor(Date.now() / 1000);
      for (let i = 0; i < published; i++) {
        const payload = JSON.stringify({ t: t - i, r: [{ _vid: "inv-1", P_total: i }] });
        await publisher.publishAsync("a/b827eb000001/u/data", payload, { qos: 1 });
      }
      await agent.waitFor(
        async () => (await agent.metric("ammp_agent_messages_received_total")) === published,
        `${published} messages counted by the agent`,
      );
      // A scrape that started after the agent had counted them all.
      const counted = Date.now() / 1000;
      await waitFor(
        "a scrape after publishing",
        async () => ((await latest())?.[0] ?? 0) > counted,
      );

      const series: Series[] = await server.query("ammp_agent_messages_received_total");
      assert.equal(series.length, 1);
      assert.equal(series[0].value![1], String(published));
      assert.equal(series[0].metric.job, "ammp-agent");
      assert.equal(series[0].metric.instance, `127.0.0.1:${agent.port}`);
      assert.equal(series[0].metric.site, labels.site, "file_sd labels reach the series");
      const records = await server.query("ammp_agent_records_written_total");
      assert.equal(records[0].value![1], String(published));
      const lag = await server.query("ammp_agent_last_reading_timestamp_seconds");
      assert.equal(lag[0].value![1], String(t));

      // The shipped rules are loaded and evaluate without errors on real series.
      const expected = alertRules().map((rule) => rule.alert!).sort();
      type Rules = { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
      const loaded = async () =>
        (await server.api("/api/v1/rules") as Rules).groups.flatMap((g) => g.rules);
      await waitFor(
        "every rule evaluated",
        async () => (await loaded()).every((rule) => rule.health !== "unknown"),
      );
      const rules = await loaded();
      assert.deepEqual(rules.map((rule) => rule.name).sort(), expected);
      for (const rule of rules) assert.equal(rule.health, "ok", `${rule.name}: ${rule.lastError}`);
    } finally {
      await publisher.endAsync();
      await prometheus?.stop();
      await agent.stop("SIGKILL");
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** Copies the folder `from` with everything in it to `to`. */
async function copyFolder(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyFolder(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** The files in `dir` that a file_sd pattern such as `targets/*.yml` names. */
async function globFiles(dir: string, pattern: string): Promise<string[]> {
  const slash = pattern.lastIndexOf("/");
  const folder = `${dir}/${pattern.slice(0, slash)}`;
  const escaped = pattern.slice(slash + 1).replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  const name = new RegExp(`^${escaped.replaceAll("*", "[^/]*")}$`);
  const files: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (entry.isFile && name.test(entry.name)) files.push(`${folder}/${entry.name}`);
  }
  return files;
}

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[] }[];
  file_sd_configs?: { files: string[] }[];
}

/** Every address a Prometheus configuration in `dir` tells Prometheus to scrape, as job/address. */
async function configuredTargets(dir: string): Promise<string[]> {
  const config = readYaml<{ scrape_configs?: ScrapeConfig[] }>(`${dir}/prometheus.yml`);
  const targets: string[] = [];
  for (const job of config.scrape_configs ?? []) {
    const groups = [...job.static_configs ?? []];
    for (const pattern of job.file_sd_configs?.flatMap((sd) => sd.files) ?? []) {
      for (const file of await globFiles(dir, pattern)) {
        groups.push(...readYaml<{ targets: string[] }[] | null>(file) ?? []);
      }
    }
    for (const group of groups) targets.push(...group.targets.map((t) => `${job.job_name}/${t}`));
  }
  return targets.sort();
}

testWithTool(
  "promtool",
  "the commented example in targets/ammp-agents.yml is a valid target list once uncommented",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-targets-" });
    try {
      await copyFolder(MONITORING.slice(0, -1), `${dir}/monitoring`);
      const file = `${dir}/monitoring/targets/ammp-agents.yml`;
      // What an operator does: take away "# " from the example's lines, the
      // ones that go on with a space or "-" (the prose goes on with a word).
      const text = await Deno.readTextFile(file);
      await Deno.writeTextFile(file, text.replace(/^# (?=[ -])/gm, ""));
      const result = await promtool(["check", "config", "prometheus.yml"], `${dir}/monitoring`);
      assert.equal(result.code, 0, result.output);
      assert.deepEqual(await configuredTargets(`${dir}/monitoring`), [
        "ammp-agent/127.0.0.1:2667",
        "ammp-agent/gateway-001.example.net:2667",
        "ammp-agent/gateway-002.example.net:2667",
        "ammp-agent/gateway-003.example.net:2667",
      ]);
      const groups = readYaml<{ labels: { site: string } }[]>(file);
      assert.deepEqual(groups.map((g) => g.labels.site), ["plant-north", "plant-south", "local"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

interface ActiveTarget {
  scrapePool: string;
  labels: Record<string, string>;
  health: string;
  lastScrape: string;
  lastScrapeDuration: number;
}

interface RuleGroup {
  name: string;
  lastEvaluation: string;
  rules: { name: string; state?: string; health: string }[];
}

testWithTool(
  "prometheus",
  "a Prometheus started on the monitoring folder as it is raises no alert",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-monitoring-" });
    let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
    try {
      // The folder as shipped; only the intervals are shortened, so that
      // every target is scraped and every rule evaluated within seconds.
      await copyFolder(MONITORING.slice(0, -1), `${dir}/monitoring`);
      const configFile = `${dir}/monitoring/prometheus.yml`;
      const config = readYaml<Record<string, unknown>>(configFile);
      config.global = { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" };
      await Deno.writeTextFile(configFile, JSON.stringify(config, null, 2));
      const expected = await configuredTargets(`${dir}/monitoring`);
      prometheus = await startPrometheus(configFile, dir);
      const server = prometheus;

      // Done once every configured target has been scraped, and every rule
      // group evaluated after the last of those scrapes ended. Waiting for
      // the targets matters: discovery hands them over a few seconds after
      // the first rule evaluation, which would see no series at all.
      const evaluated = async () => {
        const { activeTargets } = await server.api("/api/v1/targets?state=active") as {
          activeTargets: ActiveTarget[];
        };
        const scraped = activeTargets.filter((t) => t.health !== "unknown");
        const seen = scraped.map((t) => `${t.scrapePool}/${t.labels.instance}`).sort();
        if (!expected.every((target) => seen.includes(target))) return false;
        const lastScrapeEnd = Math.max(
          0,
          ...scraped.map((t) => Date.parse(t.lastScrape) + t.lastScrapeDuration * 1000),
        );
        const { groups } = await server.api("/api/v1/rules") as { groups: RuleGroup[] };
        return groups.length > 0 &&
          groups.every((group) => Date.parse(group.lastEvaluation) > lastScrapeEnd);
      };
      await waitUntil(evaluated, {
        what: () =>
          `the rules evaluated after scraping ${expected.join(", ")}\n${server.log.slice(-3000)}`,
        timeoutMs: 60_000,
        intervalMs: 200,
      });

      const { alerts } = await server.api("/api/v1/alerts") as {
        alerts: { labels: Record<string, string>; state: string }[];
      };
      const raised = alerts.map((a) => `${a.labels.alertname} ${a.state} ${a.labels.instance}`);
      assert.deepEqual(raised, [], `alerts: ${raised.join("; ")}`);
      const { groups } = await server.api("/api/v1/rules") as { groups: RuleGroup[] };
      const rules = groups.flatMap((group) => group.rules);
      assert.equal(rules.length, alertRules().length, "every shipped rule is loaded");
      for (const rule of rules) {
        assert.equal(rule.health, "ok", rule.name);
        assert.equal(rule.state, "inactive", rule.name);
      }
    } finally {
      await prometheus?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("the status page of a running agent shows its counts and rates and no credentials", async () => {
  const broker = await startBroker();
  const password = `pw-${crypto.randomUUID()}`;
  const agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `status-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    MQTT_USERNAME: "gateway-operator",
    MQTT_PASSWORD: password,
  });
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  try {
    const t = 1709288100;
    for (let i = 0; i < 3; i++) {
      const payload = JSON.stringify({ t: t + i, r: [{ _vid: "inv-1", P: i }] });
      await publisher.publishAsync("a/b827eb000001/u/data", payload, { qos: 1 });
    }
    await publisher.publishAsync("a/b827eb000001/u/data", "not json", { qos: 1 });
    await agent.waitFor(
      async () => (await agent.metric("ammp_agent_messages_received_total")) === 4,
      "4 messages counted",
    );
    // Rates appear once the agent's samples span 5 s.
    let page = await agent.get("/");
    await agent.waitFor(async () => {
      page = await agent.get("/");
      return page.body.includes("per second, last");
    }, "rates on the status page");
    assert.equal(page.status, 200);
    const shown = page.body.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");
    assert.match(shown, /Connection connected since/);
    assert.match(shown, new RegExp(`Broker ${broker.url.replaceAll(".", "\\.")}`));
    assert.match(shown, /Topics a\/\+\/u\/data/);
    const rate = /Messages received 4 (\d+\.\d+) /.exec(shown);
    assert.ok(rate && Number(rate[1]) > 0 && Number(rate[1]) <= 4 / 5, `a rate: ${shown}`);
    assert.match(shown, /Records written 3 /);
    assert.match(shown, /Failed \(dead letters\) 1 /);
    assert.match(shown, /Failures by reason: not_json 1/);
    assert.match(shown, /Last message \d+ s ago/);
    assert.match(shown, /Newest reading 2024-03-01T10:15:02Z, lag /);
    assert.ok(!page.body.includes(password), "no password");
    assert.ok(!page.body.includes("gateway-operator"), "no user name");
    assert.ok(!page.body.includes("<script"), "no scripts");
  } finally {
    await publisher.endAsync();
    await agent.stop("SIGKILL");
    await broker.stop();
  }
});
