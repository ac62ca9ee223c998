import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { formatJsonLine, formatLogLine, logger, setupLogging } from "./log.ts";

Deno.test("formatJsonLine() writes the message as a sentence and each property as a key", () => {
  const record: LogRecord = {
    category: ["ammp-agent", "subscriber"],
    level: "warning",
    message: ["Cannot connect to ", "mqtt://h:1883", " (", "refused", "); retry in ", 900, " ms"],
    rawMessage: "Cannot connect to {broker} ({reason}); retry in {delayMs} ms",
    properties: { broker: "mqtt://h:1883", reason: "refused", delayMs: 900, level: "ignored" },
    timestamp: Date.UTC(2026, 0, 2, 3, 4, 5),
  };
  const line = formatJsonLine(record);
  assert.ok(line.endsWith("}\n"));
  assert.deepEqual(JSON.parse(line), {
    "@timestamp": "2026-01-02T03:04:05.000Z",
    level: "WARN",
    logger: "ammp-agent.subscriber",
    message: "Cannot connect to mqtt://h:1883 (refused); retry in 900 ms",
    broker: "mqtt://h:1883",
    reason: "refused",
    delayMs: 900,
  });
});

Deno.test("formatLogLine() writes a line exactly as the configured logger would", () => {
  const template = "Dead letter ({reason}) from {topic}: {detail}";
  const properties = { reason: "not_json", topic: "a/n/u/data", detail: "Payload is not JSON" };
  for (const format of ["json", "text"] as const) {
    const logged: string[] = [];
    setupLogging({ level: "info", format, write: (line) => logged.push(line) });
    logger("dead-letter").warn(template, properties);
    const written = formatLogLine(template, properties, { logger: "dead-letter" });
    // The same line but for the moment it was made.
    const withoutTime = (line: string) =>
      line.replace(/"@timestamp":"[^"]*"|^\S+ \S+ /, "@timestamp");
    assert.equal(logged.length, 1, format);
    assert.equal(withoutTime(written), withoutTime(logged[0]), format);
  }
});
