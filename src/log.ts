/**
 * Logging on stderr through LogTape: JSON lines by default, readable text
 * with `LOG_FORMAT=text`. stdout belongs to records alone.
 *
 * @module
 */

import {
  configureSync,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import type { LogLevel } from "./settings/load_config.ts";
import { writeAllSync } from "./output/sink.ts";

/** Options for {@linkcode setupLogging}. */
export interface LoggingOptions {
  level: LogLevel;
  format: "json" | "text";
  /** Where lines go; defaults to stderr. */
  write?: (line: string) => void;
}

const encoder = new TextEncoder();

let formatter: (record: LogRecord) => string = formatJsonLine;

/** Configures the agent's loggers; call once at start. */
export function setupLogging(options: LoggingOptions): void {
  const format = options.format === "json"
    ? formatJsonLine
    : getTextFormatter({ timestamp: "date-time-tz", value: textValue });
  formatter = format;
  const write = options.write ??
    ((line: string) => writeAllSync(Deno.stderr, encoder.encode(line)));
  // Synchronous, so a line logged just before exit is never lost.
  const sink: Sink = (record: LogRecord) => write(format(record));
  configureSync({
    reset: true,
    sinks: { stderr: sink },
    loggers: [
      { category: ["ammp-agent"], lowestLevel: options.level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

const LEVELS: Record<string, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
  fatal: "FATAL",
};

/**
 * One log record as a JSON line: time, level, logger, the message with its
 * values written in as plain text (no quotes around strings, so the
 * message reads as a sentence), then every property as its own key.
 */
export function formatJsonLine(record: LogRecord): string {
  let message = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    message += i % 2 === 0 ? part : textValue(part);
  }
  const entry: Record<string, unknown> = {
    "@timestamp": new Date(record.timestamp).toISOString(),
    level: LEVELS[record.level] ?? record.level,
    logger: record.category.join("."),
    message,
  };
  for (const [key, value] of Object.entries(record.properties)) {
    if (!(key in entry)) entry[key] = value;
  }
  return JSON.stringify(entry) + "\n";
}

function textValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
}

/** Options for {@linkcode formatLogLine}. */
export interface FormatLogLineOptions {
  /** The logger the line is from, as for {@linkcode logger}. */
  logger: string;
}

/**
 * A warning formatted as {@linkcode setupLogging} configured, ending in
 * `"\n"`, for lines the caller writes itself. The `{key}` placeholders of
 * `template` are filled in from `properties`. A text line shows only its
 * message, so there the properties the template does not name follow it
 * as JSON: a dead letter keeps its payload in either format.
 */
export function formatLogLine(
  template: string,
  properties: Record<string, unknown>,
  options: FormatLogLineOptions,
): string {
  const parts = template.split(/\{(\w+)\}/);
  const message = parts.map((part, i) => i % 2 === 0 ? part : properties[part]);
  const line = formatter({
    category: ["ammp-agent", options.logger],
    level: "warning",
    message,
    rawMessage: template,
    timestamp: Date.now(),
    properties,
  });
  if (formatter === formatJsonLine) return line;
  const named = new Set(parts.filter((_, i) => i % 2 === 1));
  const rest = Object.entries(properties).filter(([key]) => !named.has(key));
  if (rest.length === 0) return line;
  return `${line.replace(/\n$/, "")} ${JSON.stringify(Object.fromEntries(rest))}\n`;
}

/** The logger for one part of the agent, e.g. `logger("subscriber")`. */
export function logger(name: string): Logger {
  return getLogger(["ammp-agent", name]);
}
