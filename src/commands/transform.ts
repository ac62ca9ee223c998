/**
 * `ammp-agent transform`, the offline transform: payloads from files or
 * stdin, one per line, through the same transform as the live path.
 *
 * @module
 */

import { deadLetterLine } from "../output/dead_letter.ts";
import type { OutputFormat } from "../transform/format.ts";
import { logger, setupLogging } from "../log.ts";
import { dropPermissions } from "../permissions.ts";
import { type Output, writeAll } from "../output/sink.ts";
import { transformToOutput } from "../transform/transform.ts";
import { type Env, sectionsFrom } from "./_config_from.ts";

/** Options for {@linkcode runTransform}. */
export interface RunTransformOptions {
  /** The topic the payloads count as received on; `""` for none. */
  topic: string;
  /** How records are written; defaults to `record`. */
  format?: OutputFormat;
  /** Where records go; defaults to stdout. */
  output?: Output;
  /** Where payload lines come from when no file is named; defaults to stdin. */
  input?: ReadableStream<Uint8Array>;
  /** Longer lines become `too_large` dead letters, as in the live agent. */
  maxPayloadBytes?: number;
  /** The node id of records whose topic carries none (`NODE_ID`). */
  nodeId?: string;
}

const encoder = new TextEncoder();

// A write that failed, told apart from a failed read of the input.
class _WriteFailed extends Error {
  readonly what: string;
  override readonly cause: Error;
  constructor(what: string, cause: Error) {
    super(`Cannot write ${what}: ${cause.message}`);
    this.what = what;
    this.cause = cause;
  }
}

// Writes `text` and a newline; the bytes of a record the transform wrote
// itself are valid only until the next message, so they are copied first.
async function write(output: Output, text: string | Uint8Array, what: string): Promise<void> {
  let bytes: Uint8Array;
  if (typeof text === "string") {
    bytes = encoder.encode(text + "\n");
  } else {
    bytes = new Uint8Array(text.byteLength + 1);
    bytes.set(text);
    bytes[text.byteLength] = 10;
  }
  try {
    await writeAll(output, bytes);
  } catch (error) {
    throw new _WriteFailed(what, error as Error);
  }
}

/**
 * Transforms every line of the files (or of stdin when there are none),
 * writing records to the output and dead letters to the log. Resolves to 0
 * when every line became a record (or was ignored), 1 when any became a
 * dead letter or the output failed, 2 when an input cannot be read; a
 * failure is one log line, never a stack trace.
 */
export async function runTransform(
  files: string[],
  options: RunTransformOptions,
): Promise<number> {
  const output = options.output ?? Deno.stdout;
  const topic = options.topic;
  const transformOptions = {
    format: options.format ?? "record",
    maxPayloadBytes: options.maxPayloadBytes,
    nodeId: options.nodeId,
  };
  let failed = 0;
  const handle = async (line: Uint8Array) => {
    if (line.byteLength === 0 || (line.byteLength === 1 && line[0] === 13)) return;
    const payload = line[line.byteLength - 1] === 13 ? line.subarray(0, -1) : line;
    // The live agent's own transform, bytes and all.
    const result = transformToOutput(topic, payload, transformOptions);
    if (result.kind === "record") {
      if (result.output.length !== 0) await write(output, result.output, "records to stdout");
    } else if (result.kind === "dead") {
      failed++;
      const letter = { ...result, topic, payload, receivedAt: new Date() };
      await write(Deno.stderr, deadLetterLine(letter, { log: true }), "dead letters to stderr");
    }
  };

  // A failed output is one line and exit 1; an input that cannot be read,
  // one line and exit 2.
  const log = logger("transform");
  const inputs: [string, () => Promise<ReadableStream<Uint8Array>>][] = files.length === 0
    ? [["stdin", () => Promise.resolve(options.input ?? Deno.stdin.readable)]]
    : files.map((file) => [file, async () => (await Deno.open(file)).readable]);
  for (const [name, open] of inputs) {
    try {
      await eachLine(await open(), handle);
    } catch (error) {
      if (error instanceof _WriteFailed) {
        log.error("Cannot write {what}: {error}", {
          what: error.what,
          error: error.cause.message,
        });
        return 1;
      }
      log.error("Cannot read {file}: {error}", { file: name, error: (error as Error).message });
      return 2;
    }
  }
  return failed > 0 ? 1 : 0;
}

// Splits on "\n" as bytes, so that invalid UTF-8 reaches the transform as it is.
async function eachLine(
  stream: ReadableStream<Uint8Array>,
  handle: (line: Uint8Array) => Promise<void>,
): Promise<void> {
  let rest = new Uint8Array(0);
  for await (const chunk of stream) {
    let buffer = chunk;
    if (rest.byteLength > 0) {
      buffer = new Uint8Array(rest.byteLength + chunk.byteLength);
      buffer.set(rest);
      buffer.set(chunk, rest.byteLength);
    }
    let start = 0;
    for (let end = buffer.indexOf(10); end !== -1; end = buffer.indexOf(10, start)) {
      await handle(buffer.subarray(start, end));
      start = end + 1;
    }
    rest = buffer.slice(start);
  }
  if (rest.byteLength > 0) await handle(rest);
}

/** Options for {@linkcode transformCommand}. */
export interface TransformCommandOptions {
  /** The topic the payloads count as received on (`--topic`); `""` for none. */
  topic?: string;
}

/**
 * `ammp-agent transform [--topic TOPIC] [FILE...]`: reads only the settings
 * the transform uses, gives up every permission but reading, and runs
 * {@linkcode runTransform}; resolves to the exit code.
 */
export async function transformCommand(
  env: Env,
  files: string[],
  options: TransformCommandOptions = {},
): Promise<number> {
  const config = sectionsFrom(env, ["log", "transform"]);
  if (config === undefined) return 2;
  setupLogging(config.log);
  dropPermissions(["net", "write", "env", "sys"]);
  return await runTransform(files, {
    topic: options.topic ?? "",
    format: config.transform.outputFormat,
    maxPayloadBytes: config.transform.maxPayloadBytes,
    nodeId: config.transform.nodeId,
  });
}
