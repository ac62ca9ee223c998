import assert from "node:assert/strict";
import { AgentMetrics } from "./metrics.ts";
import { createHandler } from "../http/http_handler.ts";
import { backoffDelay } from "../mqtt/subscriber.ts";
import { DEAD_LETTER_REASONS, SKIP_REASONS } from "../transform/transform.ts";

Deno.test("AgentMetrics exposes every failure and skip reason at 0 from the start", async () => {
  const text = await new AgentMetrics({ version: "9.9.9", processMetrics: false }).text();
  for (const reason of DEAD_LETTER_REASONS) {
    assert.match(
      text,
      new RegExp(`^ammp_agent_messages_failed_total\\{reason="${reason}"\\} 0$`, "m"),
    );
  }
  for (const reason of SKIP_REASONS) {
    assert.match(
      text,
      new RegExp(`^ammp_agent_readings_skipped_total\\{reason="${reason}"\\} 0$`, "m"),
    );
  }
  assert.match(
    text,
    /^ammp_agent_build_info\{version="9.9.9",revision="unknown",deno="\d+\.\d+\.\d+"\} 1$/m,
  );
  assert.match(text, /^ammp_agent_message_processing_seconds_bucket\{le="0.00005"\} 0$/m);
  assert.match(text, /^ammp_agent_message_processing_seconds_bucket\{le="1"\} 0$/m);
});

Deno.test("AgentMetrics names the build's revision in ammp_agent_build_info", async () => {
  const text = await new AgentMetrics({
    version: "1.2.3",
    revision: "0a1b2c3d4e5f",
    processMetrics: false,
  })
    .text();
  assert.match(
    text,
    /^ammp_agent_build_info\{version="1.2.3",revision="0a1b2c3d4e5f",deno="[^"]+"\} 1$/m,
  );
});

Deno.test("AgentMetrics counts and reads scrape-time gauges when scraped", async () => {
  const metrics = new AgentMetrics({ version: "1", processMetrics: false });
  metrics.received.inc();
  metrics.received.inc();
  metrics.failed("not_json");
  metrics.skipped("missing_vid");
  metrics.connected = 1;
  metrics.lastReadingTime = 1709288100;
  metrics.bufferedBytes = 250_000;
  const text = await metrics.text();
  assert.match(text, /^ammp_agent_messages_received_total 2$/m);
  assert.match(text, /^ammp_agent_messages_failed_total\{reason="not_json"\} 1$/m);
  assert.match(text, /^ammp_agent_readings_skipped_total\{reason="missing_vid"\} 1$/m);
  assert.match(text, /^ammp_agent_broker_connected 1$/m);
  assert.match(text, /^ammp_agent_last_reading_timestamp_seconds 1709288100$/m);
  assert.match(text, /^ammp_agent_buffered_bytes 250000$/m);
});

Deno.test("observeReadingTime() keeps the newest t but counts one more than 5 minutes ahead", async () => {
  const metrics = new AgentMetrics({ version: "1", processMetrics: false });
  const now = 1_800_000_000;
  metrics.observeReadingTime(now - 60, now);
  assert.equal(metrics.lastReadingTime, now - 60);
  metrics.observeReadingTime(4102444800, now); // 2100
  metrics.observeReadingTime(now + 301, now);
  assert.equal(metrics.lastReadingTime, now - 60);
  metrics.observeReadingTime(now + 300, now); // a clock a little ahead still counts
  assert.equal(metrics.lastReadingTime, now + 300);
  metrics.observeReadingTime(now - 3600, now); // an older reading does not move it back
  assert.equal(metrics.lastReadingTime, now + 300);
  // Once the agent's clock catches up, the same t counts.
  metrics.observeReadingTime(now + 600, now + 400);
  assert.equal(metrics.lastReadingTime, now + 600);
  const text = await metrics.text();
  assert.match(text, /^ammp_agent_readings_from_future_total 2$/m);
  assert.match(text, new RegExp(`^ammp_agent_last_reading_timestamp_seconds ${now + 600}$`, "m"));
});

Deno.test("AgentMetrics reports process metrics that work without /proc access", async () => {
  const metrics = new AgentMetrics({ version: "1" });
  const text = await metrics.text();
  metrics.close();
  const rss = /^process_resident_memory_bytes (\d+)$/m.exec(text);
  assert.ok(rss && Number(rss[1]) > 1_000_000, "resident memory is measured");
  for (
    const name of [
      "process_cpu_seconds_total",
      "process_cpu_user_seconds_total",
      "process_start_time_seconds",
      "nodejs_heap_size_used_bytes",
      "nodejs_eventloop_lag_p99_seconds",
    ]
  ) {
    assert.match(text, new RegExp(`^${name} \\d`, "m"), name);
  }
});

Deno.test("the HTTP handler routes GET and HEAD, refuses other methods and unknown paths", async () => {
  let ready = false;
  const handler = createHandler({
    metrics: () => "m 1\n",
    ready: () => ready,
    status: () => "<p>status</p>",
  });
  const call = (path: string, method = "GET") =>
    handler(new Request(`http://agent${path}`, { method }));
  assert.equal((await call("/healthz")).status, 200);
  assert.equal((await call("/readyz")).status, 503);
  ready = true;
  assert.equal((await call("/readyz")).status, 200);
  const metrics = await call("/metrics");
  assert.equal(await metrics.text(), "m 1\n");
  assert.match(metrics.headers.get("content-type")!, /^text\/plain; version=0.0.4/);
  assert.equal((await call("/metrics", "HEAD")).status, 200);
  const post = await call("/metrics", "POST");
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  assert.equal((await call("/admin")).status, 404);
  assert.equal((await call("/__proto__")).status, 404);
  assert.match(await (await call("/")).text(), /<p>status<\/p>/);
});

Deno.test("backoffDelay() grows exponentially from about a second up to the cap, with jitter", () => {
  const backoff = { initialMs: 1000, maxMs: 60_000 };
  assert.equal(backoffDelay(0, backoff, () => 0), 500);
  assert.equal(backoffDelay(0, backoff, () => 1), 1000);
  assert.equal(backoffDelay(3, backoff, () => 1), 8000);
  assert.equal(backoffDelay(10, backoff, () => 1), 60_000);
  assert.equal(backoffDelay(100, backoff, () => 0), 30_000);
});

Deno.test("AgentMetrics.totals() reads the message counters and the dead letters by reason", async () => {
  const metrics = new AgentMetrics({ version: "1", processMetrics: false });
  metrics.received.inc(5);
  metrics.recordsWritten.inc(2);
  metrics.ignored.inc();
  metrics.failed("not_json");
  metrics.failed("invalid_t");
  metrics.failed("not_json");
  const { totals, failedByReason } = await metrics.totals();
  assert.deepEqual(totals, { received: 5, records: 2, failed: 3, ignored: 1 });
  assert.equal(failedByReason.not_json, 2);
  assert.equal(failedByReason.invalid_t, 1);
  assert.equal(failedByReason.too_large, 0);
});
