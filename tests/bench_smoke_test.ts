import assert from "node:assert/strict";
import { hasMosquitto, mosquittoRequired } from "./_support/broker.ts";
import { ROOT } from "./_support/agent_process.ts";
import { PAYLOAD_CLASSES } from "../bench/generator.ts";

const runnable = hasMosquitto() || mosquittoRequired();

Deno.test({
  name: runnable
    ? "deno task bench --quick runs every scenario and writes complete results"
    : "deno task bench --quick runs every scenario (ignored: mosquitto not installed)",
  ignore: !runnable,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-bench-smoke-" });
    try {
      const out = `${dir}/results.json`;
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--permission-set=bench",
          "bench/harness.ts",
          "--quick",
          "--messages=2000",
          "--rates=200,1000",
          "--duration=1",
          "--idle=1",
          "--startups=1",
          `--out=${out}`,
        ],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const printed = new TextDecoder().decode(stdout);
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      assert.match(printed, /\| figure +\| measured +\| target +\| met \|/);

      // Timings vary with the machine; only completeness is checked here.
      const results = JSON.parse(await Deno.readTextFile(out));
      const positive = (value: unknown, what: string) =>
        assert.ok(typeof value === "number" && Number.isFinite(value) && value > 0, what);

      const { drain } = results;
      assert.equal(drain.published.messages, 2000);
      assert.equal(drain.payloadSizes.count, 2000);
      for (const consumer of [drain.mosquittoSub, drain.agent, drain.floor]) {
        assert.equal(consumer.messages, 2000, `${consumer.consumer} drained the backlog`);
        positive(consumer.messagesPerSecond, "msg/s");
        positive(consumer.peakRssBytes, "peak RSS");
        assert.ok(consumer.cpuMicrosPerMessage >= 0);
      }
      assert.equal(drain.agent.exitCode, 0, "the agent stopped cleanly after the drain");
      positive(drain.ratio, "ratio");
      positive(drain.floorRatio, "agent / floor");
      positive(drain.floorCpuRatio, "agent / floor CPU");

      assert.deepEqual(results.latency.map((s: { rate: number }) => s.rate), [200, 1000]);
      for (const scenario of results.latency) {
        for (const consumer of [scenario.agent, scenario.mosquittoSub]) {
          assert.equal(consumer.expected, scenario.rate);
          assert.equal(
            consumer.received,
            consumer.expected,
            `${consumer.consumer} got every record`,
          );
          positive(consumer.latency.p50, "p50");
          assert.ok(consumer.latency.p99 >= consumer.latency.p50);
        }
      }
      positive(results.idle.rssBytes, "idle RSS");
      assert.equal(results.startup.runs.length, 1);
      positive(results.startup.median, "start-up");
      const { transform } = results;
      for (const mix of ["compact", "realistic"]) {
        assert.equal(transform.mixes[mix].payloads, 500, `${mix} mix`);
        positive(transform.mixes[mix].ratio, `transform ratio, ${mix} mix`);
      }
      assert.deepEqual(
        transform.classes.map((row: { class: string }) => row.class),
        [...PAYLOAD_CLASSES],
        "a row for every class",
      );
      for (const row of transform.classes) {
        positive(row.inSample, `${row.class} payloads`);
        positive(row.ratio, `transform ratio, ${row.class}`);
      }
      assert.match(printed, /\| class +\| payloads +\| share +\|/);
      assert.equal(results.options.mix, "realistic");
      assert.equal(results.targets.length, 11);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
