/**
 * A minimal MQTT 5 publisher on a raw TCP socket, for load generation.
 *
 * The benchmark's publisher must cost far less than the consumers it
 * measures: at 10,000 messages per second a general client library (one
 * socket write per packet) takes most of a core on a small machine, and its
 * own send queue then shows up as latency. This one encodes QoS 1 PUBLISH
 * packets into one buffer and writes each batch with one call; it reads
 * only CONNACK and PUBACK.
 *
 * @module
 */

const encoder = new TextEncoder();

// Packet types (upper nibble of the first byte).
const CONNACK = 2;
const PUBACK = 4;
const DISCONNECT = 14;

function varint(value: number, out: number[]): void {
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 128;
    out.push(byte);
  } while (value > 0);
}

function connectPacket(clientId: string): Uint8Array {
  const id = encoder.encode(clientId);
  const body = [
    0,
    4,
    77,
    81,
    84,
    84, // "MQTT"
    5, // protocol level
    2, // clean start
    0,
    0, // keepalive off
    0, // no properties
    id.byteLength >> 8,
    id.byteLength & 255,
    ...id,
  ];
  const head = [0x10];
  varint(body.length, head);
  return Uint8Array.from([...head, ...body]);
}

/** Options for {@linkcode WirePublisher.connect}. */
export interface WirePublisherOptions {
  /** Messages sent and not yet acknowledged, at most (default: the broker's receive maximum). */
  window?: number;
}

/** A QoS 1 publisher that batches its writes. */
export class WirePublisher {
  #conn: Deno.TcpConn;
  #window: number;
  #nextId = 1;
  #inFlight = 0;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #waiters: (() => void)[] = [];
  #closed = false;
  #error: Error | undefined;
  #acked = 0;

  private constructor(conn: Deno.TcpConn, window: number) {
    this.#conn = conn;
    this.#window = window;
  }

  /** Connects with a clean session and waits for the broker's CONNACK. */
  static async connect(
    host: string,
    port: number,
    clientId: string,
    options: WirePublisherOptions = {},
  ): Promise<WirePublisher> {
    const conn = await Deno.connect({ hostname: host, port });
    conn.setNoDelay(true);
    await writeAll(conn, connectPacket(clientId));
    const reader = new PacketReader(conn);
    const connack = await reader.next();
    if (connack === undefined || connack.type !== CONNACK) {
      conn.close();
      throw new Error(`The broker did not accept the connection of "${clientId}"`);
    }
    const reason = connack.body[1];
    if (reason !== 0) {
      conn.close();
      throw new Error(`The broker refused "${clientId}" with reason code ${reason}`);
    }
    const receiveMaximum = readReceiveMaximum(connack.body) ?? 65535;
    const publisher = new WirePublisher(conn, Math.min(options.window ?? Infinity, receiveMaximum));
    publisher.#read(reader);
    return publisher;
  }

  /** Messages acknowledged by the broker so far. */
  get acked(): number {
    return this.#acked;
  }

  /** Whether one more message may be sent without exceeding the window. */
  get canSend(): boolean {
    return this.#inFlight + this.#pending.length < this.#window;
  }

  /**
   * Queues one QoS 1 message; {@linkcode flush} sends what is queued. Check
   * {@linkcode canSend} or await {@linkcode room} first.
   */
  publish(topic: string, payload: Uint8Array): void {
    if (this.#error) throw this.#error;
    const name = encoder.encode(topic);
    const id = this.#nextId;
    this.#nextId = id === 65535 ? 1 : id + 1;
    const remaining = 2 + name.byteLength + 2 + 1 + payload.byteLength;
    const head: number[] = [0x32];
    varint(remaining, head);
    const packet = new Uint8Array(head.length + remaining);
    packet.set(head, 0);
    let at = head.length;
    packet[at++] = name.byteLength >> 8;
    packet[at++] = name.byteLength & 255;
    packet.set(name, at);
    at += name.byteLength;
    packet[at++] = id >> 8;
    packet[at++] = id & 255;
    packet[at++] = 0; // no properties
    packet.set(payload, at);
    this.#pending.push(packet);
    this.#pendingBytes += packet.byteLength;
  }

  /** Writes every queued message in one go. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = new Uint8Array(this.#pendingBytes);
    let at = 0;
    for (const packet of this.#pending) {
      batch.set(packet, at);
      at += packet.byteLength;
    }
    this.#inFlight += this.#pending.length;
    this.#pending = [];
    this.#pendingBytes = 0;
    await writeAll(this.#conn, batch);
  }

  /** Resolves once the window has room for another message. */
  async room(): Promise<void> {
    while (!this.canSend) await this.#change();
  }

  /** Flushes and resolves once the broker has acknowledged every message. */
  async settled(): Promise<void> {
    await this.flush();
    while (this.#inFlight > 0) await this.#change();
  }

  /** Disconnects cleanly. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await writeAll(this.#conn, Uint8Array.of(DISCONNECT << 4, 0));
    } finally {
      this.#conn.close();
    }
  }

  #change(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async #read(reader: PacketReader): Promise<void> {
    try {
      for (;;) {
        const packet = await reader.next();
        if (packet === undefined) break;
        if (packet.type === PUBACK) {
          this.#inFlight--;
          this.#acked++;
          this.#wake();
        }
      }
      if (!this.#closed) this.#error = new Error("The broker closed the publisher's connection");
    } catch (error) {
      if (!this.#closed) this.#error = error as Error;
    }
    this.#wake();
  }
}

// Reads the Receive Maximum property (0x21) from a CONNACK body.
function readReceiveMaximum(body: Uint8Array): number | undefined {
  let at = 2;
  let length = 0;
  let shift = 0;
  let byte;
  do {
    byte = body[at++];
    length += (byte & 127) << shift;
    shift += 7;
  } while (byte & 128);
  const end = at + length;
  while (at < end) {
    const id = body[at++];
    if (id === 0x21) return (body[at] << 8) | body[at + 1];
    // Skip the value; CONNACK properties are of these shapes.
    if ([0x11, 0x27].includes(id)) at += 4;
    else if ([0x13, 0x21, 0x22].includes(id)) at += 2;
    else if ([0x24, 0x25, 0x28, 0x29, 0x2a].includes(id)) at += 1;
    else if (id === 0x26) {
      at += 2 + ((body[at] << 8) | body[at + 1]);
      at += 2 + ((body[at] << 8) | body[at + 1]);
    } else at += 2 + ((body[at] << 8) | body[at + 1]);
  }
  return undefined;
}

interface Packet {
  type: number;
  body: Uint8Array;
}

class PacketReader {
  #conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  async next(): Promise<Packet | undefined> {
    for (;;) {
      const packet = this.#parse();
      if (packet !== undefined) return packet;
      const chunk = new Uint8Array(65536);
      const n = await this.#conn.read(chunk);
      if (n === null) return undefined;
      const joined = new Uint8Array(this.#buffer.byteLength + n);
      joined.set(this.#buffer, 0);
      joined.set(chunk.subarray(0, n), this.#buffer.byteLength);
      this.#buffer = joined;
    }
  }

  #parse(): Packet | undefined {
    const buffer = this.#buffer;
    if (buffer.byteLength < 2) return undefined;
    let length = 0;
    let multiplier = 1;
    let at = 1;
    for (;;) {
      if (at >= buffer.byteLength) return undefined;
      const byte = buffer[at++];
      length += (byte & 127) * multiplier;
      multiplier *= 128;
      if ((byte & 128) === 0) break;
    }
    if (buffer.byteLength < at + length) return undefined;
    const packet = { type: buffer[0] >> 4, body: buffer.slice(at, at + length) };
    this.#buffer = buffer.subarray(at + length);
    return packet;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) offset += await conn.write(bytes.subarray(offset));
}
