/**
 * An MQTT 5 broker in memory, for unit tests of the subscriber's state
 * machine: each connection is a pair of Duplex streams, one end handed to
 * the client (as `SubscriberOptions.openStream`), the other read here. It
 * answers CONNECT, SUBSCRIBE, UNSUBSCRIBE and PINGREQ, sends the PUBLISHes
 * a test asks for, and keeps every packet and every write of the client.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import type { IStream } from "mqtt";
import { waitFor } from "./wait_for.ts";

/** MQTT control packet types (MQTT 5 section 2.1.2). */
export const TYPE = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
} as const;

/** One packet the client sent. */
export interface ClientPacket {
  type: number;
  /** Everything after the fixed header. */
  body: Uint8Array;
  /** The packet as sent, fixed header included. */
  bytes: Uint8Array;
}

/** One connection of the client to the fake broker. */
export class FakeConnection {
  /** Every packet the client sent, in order. */
  readonly packets: ClientPacket[] = [];
  /** Every chunk the client wrote, as written. */
  readonly writes: Uint8Array[] = [];
  readonly #client: Duplex;
  readonly #broker: Duplex;
  #pending = Buffer.alloc(0);
  #closed = false;

  constructor(sessionPresent: boolean) {
    // Each end pushes what is written to it out of the other.
    const ends: { client?: Duplex; broker?: Duplex } = {};
    // Like a TCP socket, an end whose other side ended ends too.
    const end = (other: () => Duplex) =>
      new Duplex({
        allowHalfOpen: false,
        read() {},
        write(chunk, _encoding, callback) {
          other().push(chunk);
          callback();
        },
        final(callback) {
          other().push(null);
          callback();
        },
      });
    const broker = ends.broker = end(() => ends.client!);
    const client = ends.client = end(() => ends.broker!);
    this.#client = client;
    this.#broker = broker;
    client.on("close", () => {
      this.#closed = true;
      broker.destroy();
    });
    broker.on("data", (chunk: Buffer) => this.#read(chunk, sessionPresent));
    // The client ended its side: end ours, so that its stream closes.
    broker.on("end", () => broker.end());
    broker.on("error", () => {});
  }

  /** The end the client speaks over. */
  get stream(): IStream {
    return this.#client as unknown as IStream;
  }

  /** Whether the client's stream has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The packets of one type, in order. */
  of(type: number): ClientPacket[] {
    return this.packets.filter((packet) => packet.type === type);
  }

  /** The packet ids of the client's PUBACKs, in order. */
  get pubacks(): number[] {
    return this.of(TYPE.PUBACK).map((packet) => (packet.body[0] << 8) | packet.body[1]);
  }

  /** Sends a PUBLISH (no properties) to the client. */
  publish(id: number, topic: string, payload: string, qos: 0 | 1 = 1): void {
    const name = Buffer.from(topic);
    const variable = [name.length >> 8, name.length & 0xff, ...name];
    if (qos > 0) variable.push(id >> 8, id & 0xff);
    variable.push(0); // property length
    this.#send(0x30 | (qos << 1), [...variable, ...Buffer.from(payload)]);
  }

  /**
   * Hands the session to another client: DISCONNECT with reason code 142
   * "Session taken over" (no properties), then the end of the connection.
   */
  takeOver(): void {
    this.#send(0xe0, [142, 0]);
    this.#broker.end();
  }

  /** Cuts the connection, as a lost network would. */
  drop(): void {
    this.#client.destroy();
  }

  /** Resolves once the client's stream has taken in everything sent to it. */
  async settled(): Promise<void> {
    await waitFor(() => this.#client.readableLength === 0, { what: "the client to read" });
    // What it read is handled in the turns that follow.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }

  #send(header: number, body: number[]): void {
    if (this.#broker.destroyed) return;
    const length: number[] = [];
    let rest = body.length;
    do {
      let byte = rest % 128;
      rest = Math.floor(rest / 128);
      if (rest > 0) byte |= 0x80;
      length.push(byte);
    } while (rest > 0);
    this.#broker.write(Buffer.from([header, ...length, ...body]));
  }

  #read(chunk: Buffer, sessionPresent: boolean): void {
    this.writes.push(new Uint8Array(chunk));
    this.#pending = Buffer.concat([this.#pending, chunk]);
    while (true) {
      let length = 0;
      let at = 1;
      let multiplier = 1;
      for (;; at++) {
        if (at >= this.#pending.length) return;
        length += (this.#pending[at] & 0x7f) * multiplier;
        multiplier *= 128;
        if ((this.#pending[at] & 0x80) === 0) break;
      }
      const end = at + 1 + length;
      if (this.#pending.length < end) return;
      const bytes = new Uint8Array(this.#pending.subarray(0, end));
      this.#pending = this.#pending.subarray(end);
      const packet = { type: bytes[0] >> 4, body: bytes.subarray(at + 1), bytes };
      this.packets.push(packet);
      this.#answer(packet, sessionPresent);
    }
  }

  #answer({ type, body }: ClientPacket, sessionPresent: boolean): void {
    if (type === TYPE.CONNECT) this.#send(0x20, [sessionPresent ? 1 : 0, 0, 0]);
    else if (type === TYPE.PINGREQ) this.#send(0xd0, []);
    else if (type === TYPE.SUBSCRIBE || type === TYPE.UNSUBSCRIBE) {
      // Packet id, properties (skipped), then one entry per filter.
      let at = 2;
      const [propertyBytes, lengthBytes] = varint(body, at);
      at += lengthBytes + propertyBytes;
      let filters = 0;
      while (at < body.length) {
        at += 2 + ((body[at] << 8) | body[at + 1]) + (type === TYPE.SUBSCRIBE ? 1 : 0);
        filters++;
      }
      const granted = type === TYPE.SUBSCRIBE ? 1 : 0;
      this.#send(type === TYPE.SUBSCRIBE ? 0x90 : 0xb0, [
        body[0],
        body[1],
        0,
        ...Array(filters).fill(granted),
      ]);
    }
  }
}

// A variable byte integer at `at`: its value and how many bytes it took.
function varint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let multiplier = 1;
  let taken = 0;
  while (true) {
    const byte = bytes[at + taken++];
    value += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) return [value, taken];
  }
}

/** The fake broker: one {@linkcode FakeConnection} per connection opened. */
export class FakeTransport {
  /** Every connection opened so far, the newest last. */
  readonly connections: FakeConnection[] = [];
  /** Whether the CONNACK says the broker kept the session. */
  sessionPresent = false;

  /** Opens a new connection; pass as `openStream`. */
  open = (): IStream => {
    const connection = new FakeConnection(this.sessionPresent);
    this.connections.push(connection);
    return connection.stream;
  };

  /** The newest connection. */
  get current(): FakeConnection {
    const connection = this.connections.at(-1);
    if (connection === undefined) throw new Error("No connection opened yet");
    return connection;
  }
}

/**
 * The session expiry interval a DISCONNECT packet's body sets (MQTT 5
 * section 3.14.2.2), or undefined when it sets none.
 */
export function disconnectSessionExpiry(body: Uint8Array): number | undefined {
  if (body.length < 2) return undefined;
  const [length, taken] = varint(body, 1);
  let at = 1 + taken;
  const end = at + length;
  while (at < end) {
    const id = body[at++];
    if (id === 0x11) {
      return ((body[at] << 24) | (body[at + 1] << 16) | (body[at + 2] << 8) | body[at + 3]) >>> 0;
    }
    // Only the properties the subscriber sends: reason string or user
    // properties would need their own lengths.
    throw new Error(`Unexpected DISCONNECT property ${id}`);
  }
  return undefined;
}
