/**
 * Tools of the delivery tests: a numbered stream of payloads from several
 * simulated nodes, a tally of what came out, and a TCP relay that a test
 * can sever.
 *
 * @module
 */

import { connectAsync, type MqttClient } from "mqtt";

/** Options for {@linkcode publishStream}. */
export interface PublishStreamOptions {
  /** First sequence number (default 0). */
  from?: number;
  /** Number of simulated nodes (default 5). */
  nodes?: number;
  /** Called after each acknowledged publish with its sequence number. */
  onPublished?: (seq: number) => void | Promise<void>;
  /** Which sequence numbers to publish as broken payloads. */
  invalid?: (seq: number) => boolean;
  protocolVersion?: 4 | 5;
  /** Publishes in flight at once (default 50). */
  window?: number;
  /** Pad each valid payload with numeric readings to about this many bytes. */
  size?: number;
}

/**
 * The payload of sequence number `seq`: its record carries `data.seq.n`.
 * With `size`, a text reading `pad` pads it to about that many bytes, and
 * it is in the record too.
 */
export function numberedPayload(seq: number, size = 0): string {
  const reading: Record<string, string | number> = { _d: "test", _vid: "seq", n: seq };
  if (size > 80) reading.pad = "x".repeat(size - 80);
  return JSON.stringify({ t: 1_700_000_000 + seq, r: [reading] });
}

/** The node that publishes sequence number `seq`. */
export function nodeOf(seq: number, nodes: number): string {
  return `b827eb${(seq % nodes).toString(16).padStart(6, "0")}`;
}

/**
 * Publishes sequence numbers `from` to `from + count - 1` at QoS 1, each on
 * its node's data topic, and resolves when the broker has acknowledged all.
 * The publisher keeps its session and resends through broker restarts.
 */
export async function publishStream(
  url: string,
  count: number,
  options: PublishStreamOptions = {},
): Promise<void> {
  const client: MqttClient = await connectAsync(url, {
    protocolVersion: options.protocolVersion ?? 5,
    clientId: `publisher-${crypto.randomUUID()}`,
    clean: false,
    reconnectPeriod: 100,
    ...(options.protocolVersion === 4 ? {} : { properties: { sessionExpiryInterval: 600 } }),
  });
  const from = options.from ?? 0;
  const nodes = options.nodes ?? 5;
  const window = options.window ?? 50;
  let next = from;
  const end = from + count;
  const worker = async () => {
    while (next < end) {
      const seq = next++;
      const payload = options.invalid?.(seq)
        ? `{"t":${seq},"r":[`
        : numberedPayload(seq, options.size);
      await client.publishAsync(`a/${nodeOf(seq, nodes)}/u/data`, payload, { qos: 1 });
      await options.onPublished?.(seq);
    }
  };
  try {
    await Promise.all(Array.from({ length: window }, worker));
  } finally {
    await client.endAsync();
  }
}

/** What came out of the agent for a numbered stream. */
export interface Tally {
  written: number;
  unique: number;
  duplicated: number;
  lost: number[];
}

/** Counts the records of a numbered stream among stdout lines. */
export function tally(lines: string[], expected: Iterable<number>): Tally {
  const seen = new Map<number, number>();
  for (const line of lines) {
    if (line === "") continue;
    const n = JSON.parse(line).data.seq.n as number;
    seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  const lost: number[] = [];
  for (const seq of expected) if (!seen.has(seq)) lost.push(seq);
  let written = 0;
  for (const count of seen.values()) written += count;
  return { written, unique: seen.size, duplicated: written - seen.size, lost };
}

/** `[from, from + count)` as an iterable. */
export function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

/** A TCP relay in front of a broker; {@linkcode TcpRelay.sever} cuts every connection. */
export class TcpRelay {
  readonly port: number;
  #listener: Deno.Listener;
  #connections = new Set<Deno.Conn>();
  #target: { hostname: string; port: number };

  constructor(target: { hostname: string; port: number }) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const inbound of this.#listener) {
        this.#connections.add(inbound);
        Deno.connect(this.#target).then((outbound) => {
          this.#connections.add(outbound);
          const close = () => {
            for (const conn of [inbound, outbound]) {
              this.#connections.delete(conn);
              try {
                conn.close();
              } catch {
                // already closed
              }
            }
          };
          inbound.readable.pipeTo(outbound.writable).catch(() => {}).finally(close);
          outbound.readable.pipeTo(inbound.writable).catch(() => {}).finally(close);
        }, () => inbound.close());
      }
    } catch {
      // listener closed
    }
  }

  /** Cuts every open connection; new ones are still accepted. */
  sever(): number {
    const count = this.#connections.size;
    for (const conn of this.#connections) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    this.#connections.clear();
    return count;
  }

  /** Stops accepting and cuts every connection. */
  close(): void {
    this.sever();
    this.#listener.close();
  }
}

/** The peak resident memory of a process in bytes (VmHWM), from /proc. */
export function peakRss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}
