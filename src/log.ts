/**
 * Logging on stderr through LogTape: JSON lines by default, readable text
 * with `LOG_FORMAT=text`. stdout belongs to records alone.
 *
 * @module
 */

import {
  configureSync,
  getJsonLinesFormatter,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import type { LogLevel } from "./config.ts";
import { writeAllSync } from "./sink.ts";

/** Options for {@linkcode setupLogging}. */
export interface LoggingOptions {
  level: LogLevel;
  format: "json" | "text";
  /** Where lines go; defaults to stderr. */
  write?: (line: string) => void;
}

const encoder = new TextEncoder();

/** Configures the agent's loggers; call once at start. */
export function setupLogging(options: LoggingOptions): void {
  const json = getJsonLinesFormatter({ properties: "flatten" });
  const format = options.format === "json"
    // The message reads as plain text, as in the text format: values are
    // not quoted (they are also properties of the line, with their types).
    ? (record: LogRecord) => json({ ...record, message: [renderMessage(record.message)] })
    : getTextFormatter({ timestamp: "date-time-tz", value: textValue });
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

function renderMessage(parts: readonly unknown[]): string {
  return parts.map((part, i) => i % 2 === 0 ? part : textValue(part)).join("");
}

function textValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
}

/** The logger for one part of the agent, e.g. `logger("subscriber")`. */
export function logger(name: string): Logger {
  return getLogger(["ammp-agent", name]);
}
