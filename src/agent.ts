/**
 * The agent: subscriber -> transform -> sink, and its lifecycle.
 *
 * @module
 */

import { Acknowledgements } from "./output/acknowledgements.ts";
import { BufferedBytes } from "./output/buffered_bytes.ts";
import type { Config } from "./settings/load_config.ts";
import { deadLetterLine } from "./output/dead_letter.ts";
import { FleetView } from "./fleet/fleet_view.ts";
import { logger } from "./log.ts";
import type { AgentMetrics } from "./metrics/metrics.ts";
import { OutputFile } from "./output/output_file.ts";
import { startServer } from "./http/server.ts";
import { type Output, RecordSink } from "./output/sink.ts";
import { StatusSource } from "./http/status_source.ts";
import { Subscriber } from "./mqtt/subscriber.ts";
import { transformToOutput, type TransformToTextOptions } from "./transform/transform.ts";

/** Options for {@linkcode Agent}. */
export interface AgentOptions {
  metrics: AgentMetrics;
  /** Called once if an output fails; the agent then acknowledges nothing more. */
  onFatal?: (error: Error) => void;
  /**
   * Take only what the broker kept in the session, subscribing to nothing
   * new, to retire this client id (`ammp-agent leave`).
   */
  leaving?: boolean;
}

/** Options for {@linkcode Agent.stop}. */
export interface AgentStopOptions {
  /** Stop waiting for the drain when this aborts. */
  signal?: AbortSignal;
  /**
   * End the broker session too (MQTT 5), but only once everything taken
   * has been written and acknowledged.
   */
  endSession?: boolean;
}

const log = logger("agent");

// Dead letters share stderr with the log, whose lines are written
// synchronously: written the same way, each in one call, neither can cut
// into a line of the other.
const SYNC_STDERR: Output = {
  write: (bytes) => Promise.resolve(Deno.stderr.writeSync(bytes)),
};

/** The running agent. */
export class Agent {
  #config: Config;
  #metrics: AgentMetrics;
  #records: RecordSink;
  #deadLetters: RecordSink;
  #acks: Acknowledgements;
  #files: OutputFile[] = [];
  #subscriber: Subscriber;
  #buffered: BufferedBytes;
  #transformOptions: TransformToTextOptions;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #fleet: FleetView;
  #status: StatusSource;
  #rateTimer: ReturnType<typeof setInterval> | undefined;

  /** Builds the agent; {@linkcode start} connects and listens. */
  constructor(config: Config, options: AgentOptions) {
    this.#config = config;
    const metrics = options.metrics;
    this.#metrics = metrics;
    // Records and dead letters each go through their own sink; a message
    // is acknowledged once what it wrote to either is written.
    const sink = (what: string, where: string, output: Output, onWritten?: (n: number) => void) =>
      new RecordSink(output, {
        // fdatasync means something only for a file the agent opened.
        sync: config.outputSync && output instanceof OutputFile,
        onWritten: (messages) => {
          onWritten?.(messages);
          this.#acks.release();
        },
        onError: (error) => {
          this.#subscriber.stopTaking();
          this.#acks.fail();
          options.onFatal?.(
            new Error(`Cannot write ${what} to ${where}: ${error.message}`, { cause: error }),
          );
        },
      });
    const records = this.#open(config.outputFile, "OUTPUT_FILE");
    this.#records = sink(
      "records",
      records ? `OUTPUT_FILE "${records.path}"` : "stdout",
      records ?? Deno.stdout,
      (messages) => metrics.recordsWritten.inc(messages),
    );
    const deadLetters = this.#open(config.deadLetterFile, "DEAD_LETTER_FILE");
    this.#deadLetters = sink(
      "dead letters",
      deadLetters ? `DEAD_LETTER_FILE "${deadLetters.path}"` : "stderr",
      deadLetters ?? SYNC_STDERR,
    );
    this.#acks = new Acknowledgements([this.#records, this.#deadLetters], {
      onAcknowledged: (messages, bytes) => {
        this.#subscriber.acknowledge(messages);
        this.#buffered.release(bytes);
        metrics.bufferedBytes = this.#buffered.bytes;
      },
    });
    this.#fleet = new FleetView({
      ...config.fleet,
      nodeId: config.nodeId,
      registry: metrics.registry,
      log: logger("fleet"),
    });
    // Now, while files may still be read, and before the first connect: a
    // site that was silent before a restart is listed as silent at once.
    this.#fleet.load();
    this.#transformOptions = {
      format: config.outputFormat,
      maxPayloadBytes: config.maxPayloadBytes,
      nodeId: config.nodeId,
      onSkip: (reason) => metrics.skipped(reason),
    };
    this.#subscriber = new Subscriber(config.mqtt, {
      log: logger("subscriber"),
      onMessage: (topic, payload) => this.#handle(topic, payload),
      onConnection: (connected) => {
        metrics.connected = connected ? 1 : 0;
        this.#status.connectionChanged();
      },
      onReconnect: () => metrics.reconnects.inc(),
      onTakeover: () => metrics.sessionTakeovers.inc(),
      leaving: options.leaving,
    });
    this.#status = new StatusSource({
      metrics,
      fleet: this.#fleet,
      mqtt: config.mqtt,
      ready: () => this.ready,
    });
    // Past the bound the broker's socket is not read: TCP holds it back.
    this.#buffered = new BufferedBytes(config.maxBufferedBytes, {
      onFull: () => this.#subscriber.pause(),
      onRoom: () => this.#subscriber.resume(),
    });
  }

  /**
   * The whole life of one message: taken, transformed, written (a record
   * to the records' sink, a dead letter to the dead letters'), and
   * acknowledged, in arrival order, once what it wrote is written.
   */
  #handle(topic: string, payload: Uint8Array): void {
    const started = performance.now();
    const metrics = this.#metrics;
    const at = Date.now() / 1000;
    metrics.received.inc();
    metrics.lastMessageReceived = at;
    const buffered = this.#buffered;
    buffered.take(payload.byteLength);
    metrics.bufferedBytes = buffered.bytes;

    const result = transformToOutput(topic, payload, this.#transformOptions);
    switch (result.kind) {
      case "record":
        // One line per record, or per device for `device` and `influx`; none
        // when the format has nothing to write for this record.
        this.#records.write(result.output);
        metrics.observeReadingTime(result.readingTime, at);
        break;
      case "dead":
        this.#deadLetters.write(
          deadLetterLine({ ...result, topic, payload, receivedAt: new Date() }, {
            log: this.#config.deadLetterFile === undefined,
          }),
        );
        metrics.failed(result.reason);
        break;
      case "ignored":
        metrics.ignored.inc();
        break;
    }
    const readingTime = result.kind === "record" ? result.readingTime : undefined;
    this.#status.observe(at, result.kind);
    this.#fleet.observe(topic, payload, result.kind, at, readingTime);
    // Once everything queued so far, record or dead letter, is written.
    this.#acks.add(payload.byteLength);
    metrics.processing.observe((performance.now() - started) / 1000);
  }

  // Opens an output file, saying what a torn last line cost.
  #open(path: string | undefined, setting: string): OutputFile | undefined {
    if (path === undefined) return undefined;
    const file = new OutputFile(path, { setting });
    this.#files.push(file);
    if (file.removedBytes > 0) {
      log.warning(
        "Removed a torn last line of {bytes} bytes from {setting} {path}: its message was not acknowledged and comes again",
        { bytes: file.removedBytes, setting, path },
      );
    }
    return file;
  }

  /**
   * Opens `OUTPUT_FILE` and `DEAD_LETTER_FILE` again (SIGHUP, after
   * logrotate renamed them): what is being written finishes in the old
   * file, the next batch goes to the new one.
   */
  reopen(): void {
    this.#records.reopen();
    this.#deadLetters.reopen();
  }

  /** Whether records or dead letters go to a file that {@linkcode reopen} opens again. */
  get hasFiles(): boolean {
    return this.#files.length > 0;
  }

  /**
   * Starts the HTTP endpoint and connects to the broker. Throws
   * `Deno.errors.AddrInUse` naming METRICS_LISTEN when its port is taken.
   */
  start(): void {
    const { hostname, port, token } = this.#config.metrics;
    try {
      this.#server = startServer({
        metrics: () => this.#metrics.text(),
        nodes: (state) => this.#fleet.table.list(Date.now() / 1000, { state }),
        ready: () => this.ready,
        status: () => this.#status.page(),
      }, {
        hostname,
        port,
        token,
        onListen: (address) =>
          log.info("Serving metrics on http://{address}/metrics", {
            address: formatAddress(address),
          }),
      });
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        const listen = formatAddress({ transport: "tcp", hostname, port });
        throw new Deno.errors.AddrInUse(
          `Cannot listen on METRICS_LISTEN "${listen}": address already in use`,
        );
      }
      throw error;
    }
    log.info("Connecting to {broker}, topics {topics}", {
      broker: this.#config.mqtt.url,
      topics: this.#config.mqtt.subscriptions,
    });
    this.#fleet.startSaving();
    this.#subscriber.start();
    // Samples for the status page's current rates.
    this.#status.sample();
    this.#rateTimer = setInterval(() => this.#status.sample(), 5000);
    Deno.unrefTimer(this.#rateTimer);
  }

  /** Connected and subscribed. */
  get ready(): boolean {
    return this.#subscriber.ready;
  }

  /**
   * Messages taken whose acknowledgement has not run yet: queued, being
   * written, or dropped when stdout failed.
   */
  get unacknowledged(): number {
    return this.#acks.unacknowledged;
  }

  /** The address the HTTP endpoint listens on. */
  get address(): Deno.NetAddr | undefined {
    return this.#server?.addr;
  }

  /**
   * Drains and stops: takes no new messages, writes and acknowledges what
   * was taken, disconnects, stops the HTTP endpoint. A message taken but
   * not written when `signal` aborts is not acknowledged; the broker
   * delivers it again. Resolves to whether the broker session was ended.
   */
  async stop(options: AgentStopOptions = {}): Promise<boolean> {
    this.#subscriber.stopTaking();
    clearInterval(this.#rateTimer);
    const aborted = new Promise<false>((resolve) => {
      if (options.signal?.aborted) resolve(false);
      options.signal?.addEventListener("abort", () => resolve(false), { once: true });
    });
    const drained = await Promise.race([this.#acks.flush().then(() => true), aborted]);
    // Ending the session with a message unacknowledged would drop it.
    const endSession = options.endSession === true && drained && !this.#acks.failed;
    const ended = await Promise.race([this.#subscriber.stop({ endSession }), aborted]);
    await this.#server?.shutdown();
    await this.#fleet.close();
    // A write still under way after the timeout keeps its file.
    if (drained) { for (const file of this.#files) file.close(); }
    const records = this.#records.written;
    log.info(
      records === 1
        ? "Stopped after writing {records} record"
        : "Stopped after writing {records} records",
      { records },
    );
    return ended;
  }
}

function formatAddress(address: Deno.NetAddr): string {
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return `${host}:${address.port}`;
}
