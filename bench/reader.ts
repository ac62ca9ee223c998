/**
 * The reader of a consumer's stdout, as its own process: it starts the
 * consumer (the agent or `mosquitto_sub`), reads its stdout through a pipe,
 * counts lines and bytes, and in `latency` mode matches every line with the
 * moment its payload was published. It reports to the benchmark as JSON
 * lines on its own stdout:
 *
 * - `{"event":"spawned","pid":…}` once the consumer runs,
 * - `{"event":"first","at":…}` at the first line,
 * - `{"event":"done",…}` when `--expect` lines have arrived,
 * - `{"event":"exit",…}` when the consumer has exited and its output ended.
 *
 * Usage: `reader.ts --mode count|latency --expect N -- COMMAND [ARGS...]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { readProbe } from "./generator.ts";
import { type Distribution, distribution } from "./stats.ts";

/** What the reader saw, in the `done` and `exit` events. */
export interface ReaderReport {
  /** Lines read (every line, probes and others). */
  lines: number;
  /** Bytes read, newlines included. */
  bytes: number;
  /** When the first line arrived, ms since the Unix epoch. */
  firstAt: number;
  /** When the line that completed `--expect` (or the last line) arrived. */
  lastAt: number;
  /** In `latency` mode: publish-to-read latency of every probed line. */
  latency?: LatencyReport;
}

/** Latencies of probed lines, in milliseconds. */
export interface LatencyReport {
  /** Distinct sequence numbers seen. */
  received: number;
  /** Lines whose sequence number had been seen before. */
  duplicates: number;
  all: Distribution;
  /** The first and the last quarter of the stream by sequence number. */
  firstQuarter: Distribution;
  lastQuarter: Distribution;
  /** p50, p99 and max of each tenth of the stream, to show when latency rose. */
  tenths: { p50: number; p99: number; max: number }[];
}

/** One event on the reader's stdout. */
export type ReaderEvent =
  | { event: "spawned"; pid: number; at: number }
  | { event: "first"; at: number }
  | { event: "done"; at: number; report: ReaderReport }
  | { event: "exit"; at: number; code: number; report: ReaderReport; stderr: string };

// The probe sits in the first bytes of a record or payload line.
const HEAD_BYTES = 256;
const STDERR_TAIL = 4096;

function now(): number {
  return performance.timeOrigin + performance.now();
}

const encoder = new TextEncoder();

function emit(event: ReaderEvent): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(event) + "\n"));
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      mode: { type: "string", default: "count" },
      expect: { type: "string" },
    },
  });
  const latencyMode = values.mode === "latency";
  const expect = Number(values.expect);
  if (!Number.isInteger(expect) || expect < 1 || positionals.length === 0) {
    console.error("Usage: reader.ts --mode count|latency --expect N -- COMMAND [ARGS...]");
    return 2;
  }
  const [command, ...args] = positionals;
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  emit({ event: "spawned", pid: child.pid, at: now() });

  let stderr = "";
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderr = (stderr + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
    }
  })();

  let lines = 0;
  let bytes = 0;
  let firstAt = 0;
  let lastAt = 0;
  let done = false;
  // Latency mode: latency by sequence number, NaN until seen.
  const latencies = new Float64Array(latencyMode ? expect : 0).fill(NaN);
  let received = 0;
  let duplicates = 0;
  const head = new Uint8Array(HEAD_BYTES);
  let headLength = 0;
  const decoder = new TextDecoder();

  const report = (): ReaderReport => {
    const result: ReaderReport = { lines, bytes, firstAt, lastAt };
    if (latencyMode) {
      const quarter = Math.max(1, Math.floor(expect / 4));
      const seen = (from: number, to: number) =>
        Float64Array.from(latencies.subarray(from, to).filter((v) => !Number.isNaN(v)));
      result.latency = {
        received,
        duplicates,
        all: distribution(seen(0, expect)),
        firstQuarter: distribution(seen(0, quarter)),
        lastQuarter: distribution(seen(expect - quarter, expect)),
        tenths: Array.from({ length: 10 }, (_, i) => {
          const { p50, p99, max } = distribution(
            seen(Math.floor(i * expect / 10), Math.floor((i + 1) * expect / 10)),
          );
          return { p50, p99, max };
        }),
      };
    }
    return result;
  };

  for await (const chunk of child.stdout) {
    const at = now();
    bytes += chunk.byteLength;
    let from = 0;
    while (from < chunk.byteLength) {
      const newline = chunk.indexOf(10, from);
      const end = newline === -1 ? chunk.byteLength : newline;
      if (latencyMode && headLength < HEAD_BYTES) {
        const take = Math.min(end - from, HEAD_BYTES - headLength);
        head.set(chunk.subarray(from, from + take), headLength);
        headLength += take;
      }
      if (newline === -1) break;
      from = newline + 1;
      lines++;
      if (lines === 1) {
        firstAt = at;
        emit({ event: "first", at });
      }
      let counted = !latencyMode;
      if (latencyMode) {
        const probe = readProbe(decoder.decode(head.subarray(0, headLength)));
        headLength = 0;
        if (probe !== undefined && probe.seq >= 0 && probe.seq < expect) {
          counted = true;
          if (Number.isNaN(latencies[probe.seq])) {
            latencies[probe.seq] = at - probe.sent / 1000;
            received++;
          } else {
            duplicates++;
          }
        }
      }
      if (counted && !done) {
        lastAt = at;
        if ((latencyMode ? received : lines) >= expect) {
          done = true;
          emit({ event: "done", at, report: report() });
        }
      }
    }
  }
  const { code } = await child.status;
  await stderrDone;
  emit({ event: "exit", at: now(), code, report: report(), stderr });
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
