/**
 * A TCP relay between one MQTT client and its broker that decodes what
 * crosses it: the packets each way, in the order they passed, with the
 * packet ids of PUBLISH and PUBACK. For tests that hold the agent to
 * acknowledging only what it has written, whatever broker runs.
 *
 * @module
 */

/** MQTT control packet types this relay names. */
export const PACKET = { PUBLISH: 3, PUBACK: 4, PINGREQ: 12, PINGRESP: 13 } as const;

/** One packet that crossed the relay. */
export interface RelayedPacket {
  /** The control packet type (the high nibble of the first byte). */
  type: number;
  /** `toBroker` from the client, `toClient` from the broker. */
  direction: "toBroker" | "toClient";
  /** The packet id of a PUBLISH at QoS 1 or 2, or of a PUBACK. */
  id?: number;
  /** The payload of a PUBLISH. */
  payload?: Uint8Array;
}

/**
 * Relays connections to `target` and keeps every packet that crossed, with
 * `await using` to close it. `protocolVersion` (default 5) tells whether a
 * PUBLISH carries properties before its payload.
 */
export class MqttRelay implements AsyncDisposable {
  /** The port clients connect to. */
  readonly port: number;
  /** Every packet so far, in the order the relay passed it on. */
  readonly packets: RelayedPacket[] = [];
  #listener: Deno.Listener;
  #target: { hostname: string; port: number };
  #connections = new Set<Deno.Conn>();
  #accepting: Promise<void>;
  #onPacket: ((packet: RelayedPacket) => void) | undefined;
  #properties: boolean;

  /** Listens on a free loopback port and relays to `target`. */
  constructor(
    target: { hostname: string; port: number },
    options: { protocolVersion?: 4 | 5; onPacket?: (packet: RelayedPacket) => void } = {},
  ) {
    this.#target = target;
    this.#properties = (options.protocolVersion ?? 5) === 5;
    this.#onPacket = options.onPacket;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        this.#connections.add(client);
        const broker = await Deno.connect(this.#target);
        this.#connections.add(broker);
        this.#pipe(client, broker, "toBroker");
        this.#pipe(broker, client, "toClient");
      }
    } catch {
      // The listener was closed.
    }
  }

  async #pipe(from: Deno.Conn, to: Deno.Conn, direction: RelayedPacket["direction"]) {
    let pending = new Uint8Array(0);
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const read = await from.read(buffer);
        if (read === null) break;
        const joined = new Uint8Array(pending.length + read);
        joined.set(pending);
        joined.set(buffer.subarray(0, read), pending.length);
        // Pass on only whole packets, each once it is decoded, so that the
        // order of `packets` is the order in which the other side got them.
        let offset = 0;
        while (true) {
          const packet = decode(joined, offset, direction, this.#properties);
          if (packet === undefined) break;
          this.packets.push(packet.packet);
          this.#onPacket?.(packet.packet);
          await writeAll(to, joined.subarray(offset, packet.end));
          offset = packet.end;
        }
        pending = joined.slice(offset);
      }
    } catch {
      // Either side went away.
    } finally {
      for (const conn of [from, to]) {
        this.#connections.delete(conn);
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
    }
  }

  /** The packets of one type and direction. */
  of(type: number, direction: RelayedPacket["direction"]): RelayedPacket[] {
    return this.packets.filter((p) => p.type === type && p.direction === direction);
  }

  /** Stops accepting and cuts every connection. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const conn of this.#connections) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await this.#accepting;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

// One packet starting at `offset`, or undefined when it is not all there.
function decode(
  bytes: Uint8Array,
  offset: number,
  direction: RelayedPacket["direction"],
  properties: boolean,
): { packet: RelayedPacket; end: number } | undefined {
  if (offset >= bytes.length) return undefined;
  const first = bytes[offset];
  let length = 0;
  let multiplier = 1;
  let at = offset + 1;
  while (true) {
    if (at >= bytes.length) return undefined;
    const byte = bytes[at++];
    length += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) break;
  }
  const end = at + length;
  if (end > bytes.length) return undefined;
  const type = first >> 4;
  const packet: RelayedPacket = { type, direction };
  if (type === PACKET.PUBLISH) {
    const qos = (first >> 1) & 3;
    const topicLength = (bytes[at] << 8) | bytes[at + 1];
    let body = at + 2 + topicLength;
    if (qos > 0) {
      packet.id = (bytes[body] << 8) | bytes[body + 1];
      body += 2;
    }
    // MQTT 5 properties: a variable-length size, then that many bytes.
    let propertiesLength = 0;
    let shift = 1;
    while (properties) {
      const byte = bytes[body++];
      propertiesLength += (byte & 0x7f) * shift;
      shift *= 128;
      if ((byte & 0x80) === 0) break;
    }
    packet.payload = bytes.slice(body + propertiesLength, end);
  } else if (type === PACKET.PUBACK) {
    packet.id = (bytes[at] << 8) | bytes[at + 1];
  }
  return { packet, end };
}
