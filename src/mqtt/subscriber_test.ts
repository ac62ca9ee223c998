import assert from "node:assert/strict";
import { configureSync, getLogger, type LogRecord, resetSync } from "@logtape/logtape";
import {
  disconnectSessionExpiry,
  type FakeConnection,
  FakeTransport,
  TYPE,
} from "../../tests/_support/fake_transport.ts";
import { waitFor } from "../../tests/_support/wait_for.ts";
import { loadConfig } from "../settings/load_config.ts";
import { Subscriber } from "./subscriber.ts";
import { encodePubacks } from "./_puback.ts";

Deno.test("encodePubacks() writes each id as a four-byte success PUBACK, high byte first", () => {
  // MQTT 3.1.1 section 3.4 and MQTT 5 section 3.4.2.1: type 4, remaining
  // length 2, the packet id; a success without properties ends there.
  assert.deepEqual(
    [...encodePubacks([1, 258, 65535])],
    [0x40, 2, 0, 1, 0x40, 2, 1, 2, 0x40, 2, 0xff, 0xff],
  );
  assert.equal(encodePubacks([]).length, 0);
});

// The state machine against an MQTT 5 broker in memory: what the
// subscriber sends on each connection, packet by packet.

const config = loadConfig({
  MQTT_URL: "mqtt://broker.invalid:1883",
  MQTT_CLIENT_ID: "unit",
  MQTT_TOPICS: "a/#",
}, { hostname: () => "host" }).mqtt;

interface Taken {
  topic: string;
  payload: string;
}

interface Session extends AsyncDisposable {
  subscriber: Subscriber;
  taken: Taken[];
  transport: FakeTransport;
  /** The connection the subscription was made on. */
  connection: FakeConnection;
}

// A subscriber on a new in-memory broker, once subscribed.
async function connect(): Promise<Session> {
  const transport = new FakeTransport();
  const taken: Taken[] = [];
  const subscriber = new Subscriber(config, {
    log: getLogger(["subscriber-test"]),
    onMessage: (topic, payload) =>
      taken.push({ topic, payload: new TextDecoder().decode(payload) }),
    openStream: transport.open,
  });
  subscriber.start();
  await waitFor(() => subscriber.ready, { what: "the subscription" });
  return {
    subscriber,
    taken,
    transport,
    connection: transport.current,
    [Symbol.asyncDispose]: async () => void await subscriber.stop(),
  };
}

Deno.test("Subscriber sends a message's PUBACK only once it is acknowledged, all of a batch in one write", async () => {
  await using session = await connect();
  const { connection } = session;
  for (const id of [1, 258, 3]) connection.publish(id, "a/x", `m${id}`);
  await waitFor(() => session.taken.length === 3, { what: "three messages" });
  await connection.settled();
  assert.deepEqual(connection.pubacks, []);

  const before = connection.writes.length;
  session.subscriber.acknowledge(3);
  await waitFor(() => connection.pubacks.length === 3, { what: "three PUBACKs" });
  assert.deepEqual(session.taken.map((message) => message.payload), ["m1", "m258", "m3"]);
  assert.deepEqual(connection.writes.slice(before).map((bytes) => [...bytes]), [
    [0x40, 2, 0, 1, 0x40, 2, 1, 2, 0x40, 2, 0, 3],
  ]);
});

Deno.test("Subscriber acknowledges a message only on the connection it came on", async () => {
  await using session = await connect();
  const { transport, connection: first } = session;
  first.publish(1, "a/x", "before");
  await waitFor(() => session.taken.length === 1, { what: "the first message" });
  first.drop();
  await waitFor(() => transport.connections.length === 2 && session.subscriber.ready, {
    what: "the second connection",
  });
  const second = transport.current;
  second.publish(2, "a/x", "after");
  await waitFor(() => session.taken.length === 2, { what: "the second message" });
  // Both in one turn: the first must not go out with the second.
  session.subscriber.acknowledge(2);
  await waitFor(() => second.pubacks.length > 0, { what: "a PUBACK" });
  await second.settled();
  assert.deepEqual(second.pubacks, [2]);
  assert.deepEqual(first.pubacks, []);
});

Deno.test("Subscriber declines what arrives after stopTaking(), and then keeps the session", async () => {
  await using session = await connect();
  const { connection } = session;
  connection.publish(1, "a/x", "taken");
  await waitFor(() => session.taken.length === 1, { what: "the first message" });
  session.subscriber.stopTaking();
  connection.publish(2, "a/x", "declined");
  await connection.settled();
  session.subscriber.acknowledge(1);
  assert.equal(await session.subscriber.stop({ endSession: true }), false);
  assert.deepEqual(session.taken.map((message) => message.payload), ["taken"]);
  // The first was written before the stop; the declined one stays unacknowledged.
  assert.deepEqual(connection.pubacks, [1]);
  const [disconnect] = connection.of(TYPE.DISCONNECT);
  assert.equal(disconnectSessionExpiry(disconnect.body), undefined);
});

Deno.test("Subscriber ends the session when it stops with nothing turned away", async () => {
  await using session = await connect();
  const { connection } = session;
  connection.publish(1, "a/x", "taken");
  await waitFor(() => session.taken.length === 1, { what: "the message" });
  session.subscriber.acknowledge(1);
  assert.equal(await session.subscriber.stop({ endSession: true }), true);
  assert.deepEqual(connection.pubacks, [1]);
  const [disconnect] = connection.of(TYPE.DISCONNECT);
  assert.equal(disconnectSessionExpiry(disconnect.body), 0);
});

Deno.test("Subscriber holds messages while paused and hands them over in order on resume()", async () => {
  await using session = await connect();
  const { connection } = session;
  session.subscriber.pause();
  connection.publish(1, "a/x", "m1");
  connection.publish(2, "a/x", "m2");
  await connection.settled();
  assert.equal(session.taken.length, 0);
  session.subscriber.resume();
  await waitFor(() => session.taken.length === 2, { what: "both messages" });
  assert.deepEqual(session.taken.map((message) => message.payload), ["m1", "m2"]);
});

Deno.test("Subscriber turns away a message held through a pause when it stops, and keeps the session", async () => {
  await using session = await connect();
  const { connection } = session;
  session.subscriber.pause();
  connection.publish(1, "a/x", "held");
  await connection.settled();
  assert.equal(await session.subscriber.stop({ endSession: true }), false);
  assert.equal(session.taken.length, 0);
  assert.deepEqual(connection.pubacks, []);
});

Deno.test("Subscriber drops a message held through a pause of a connection now gone; the broker sends it again", async () => {
  await using session = await connect();
  const { transport, connection: first } = session;
  session.subscriber.pause();
  first.publish(1, "a/x", "held");
  await first.settled();
  first.drop();
  await waitFor(() => transport.connections.length === 2 && session.subscriber.ready, {
    what: "the second connection",
  });
  session.subscriber.resume();
  const second = transport.current;
  second.publish(1, "a/x", "again");
  await waitFor(() => session.taken.length > 0, { what: "the message sent again" });
  await second.settled();
  assert.deepEqual(session.taken.map((message) => message.payload), ["again"]);
});

// The queue of ids taken must stay in step with acknowledge(count): each
// acknowledge() names the oldest messages taken, whatever their QoS, their
// connection, or a pause between them.

Deno.test("Subscriber.acknowledge() skips QoS 0 messages and PUBACKs the QoS 1 ones among them by their own ids", async () => {
  await using session = await connect();
  const { connection, subscriber } = session;
  connection.publish(0, "a/x", "q0-a", 0);
  connection.publish(7, "a/x", "q1-7");
  connection.publish(0, "a/x", "q0-b", 0);
  connection.publish(9, "a/x", "q1-9");
  connection.publish(0, "a/x", "q0-c", 0);
  await waitFor(() => session.taken.length === 5, { what: "five messages" });
  subscriber.acknowledge(1); // q0-a only
  await connection.settled();
  assert.deepEqual(connection.pubacks, []);
  subscriber.acknowledge(2); // q1-7, q0-b
  await waitFor(() => connection.pubacks.length === 1, { what: "PUBACK 7" });
  subscriber.acknowledge(2); // q1-9, q0-c
  await waitFor(() => connection.pubacks.length === 2, { what: "PUBACK 9" });
  await connection.settled();
  assert.deepEqual(connection.pubacks, [7, 9]);
});

Deno.test("Subscriber.acknowledge() keeps step with messages taken after a pause on the same connection", async () => {
  await using session = await connect();
  const { connection, subscriber } = session;
  connection.publish(1, "a/x", "m1");
  await waitFor(() => session.taken.length === 1, { what: "m1" });
  subscriber.pause();
  connection.publish(2, "a/x", "m2");
  connection.publish(3, "a/x", "m3", 0);
  connection.publish(4, "a/x", "m4");
  await connection.settled();
  subscriber.acknowledge(1);
  await waitFor(() => connection.pubacks.length === 1, { what: "PUBACK 1" });
  subscriber.resume();
  await waitFor(() => session.taken.length === 4, { what: "the held messages" });
  subscriber.acknowledge(2); // m2, m3
  await waitFor(() => connection.pubacks.length === 2, { what: "PUBACK 2" });
  await connection.settled();
  assert.deepEqual(connection.pubacks, [1, 2]);
  subscriber.acknowledge(1); // m4
  await waitFor(() => connection.pubacks.length === 3, { what: "PUBACK 4" });
  assert.deepEqual(connection.pubacks, [1, 2, 4]);
});

Deno.test("Subscriber sends no PUBACK on a new connection for a message of the old one acknowledged before anything new came", async () => {
  await using session = await connect();
  const { transport, connection: first, subscriber } = session;
  first.publish(5, "a/x", "old-5");
  first.publish(6, "a/x", "old-6");
  await waitFor(() => session.taken.length === 2, { what: "two old messages" });
  first.drop();
  await waitFor(() => transport.connections.length === 2 && subscriber.ready, {
    what: "the second connection",
  });
  const second = transport.current;
  subscriber.acknowledge(1); // old-5, written after the reconnect
  await second.settled();
  second.publish(5, "a/x", "new-5"); // the broker's resend, same id
  second.publish(8, "a/x", "new-8");
  await waitFor(() => session.taken.length === 4, { what: "the new messages" });
  subscriber.acknowledge(1); // old-6
  await second.settled();
  assert.deepEqual(second.pubacks, [], "no PUBACK for a message of the old connection");
  subscriber.acknowledge(2); // new-5, new-8
  await waitFor(() => second.pubacks.length === 2, { what: "two PUBACKs" });
  await second.settled();
  assert.deepEqual(second.pubacks, [5, 8]);
  assert.deepEqual(first.pubacks, []);
});

Deno.test("Subscriber keeps step after a QoS 0 message held through a pause of a connection now gone", async () => {
  await using session = await connect();
  const { transport, connection: first, subscriber } = session;
  first.publish(3, "a/x", "old-3");
  await waitFor(() => session.taken.length === 1, { what: "old-3" });
  subscriber.pause();
  first.publish(0, "a/x", "old-q0", 0);
  await first.settled();
  first.drop();
  await waitFor(() => transport.connections.length === 2 && subscriber.ready, {
    what: "the second connection",
  });
  const second = transport.current;
  second.publish(3, "a/x", "new-3");
  await second.settled();
  subscriber.resume();
  await waitFor(() => session.taken.length === 3, { what: "the held messages" });
  second.publish(11, "a/x", "new-11");
  await waitFor(() => session.taken.length === 4, { what: "new-11" });
  assert.deepEqual(session.taken.map((message) => message.payload), [
    "old-3",
    "old-q0",
    "new-3",
    "new-11",
  ]);
  subscriber.acknowledge(4);
  await waitFor(() => second.pubacks.length === 2, { what: "two PUBACKs" });
  await second.settled();
  assert.deepEqual(second.pubacks, [3, 11]);
  assert.deepEqual(first.pubacks, []);
});

Deno.test("Subscriber PUBACKs the right ids in order past the first 1024 messages held", async () => {
  await using session = await connect();
  const { connection, subscriber } = session;
  const ids: number[] = [];
  // Acknowledge some first, so that the ring wraps before it grows.
  for (let id = 1; id <= 600; id++) connection.publish(id, "a/x", `m${id}`, id % 3 === 0 ? 0 : 1);
  await waitFor(() => session.taken.length === 600, { what: "600 messages" });
  subscriber.acknowledge(500);
  for (let id = 1; id <= 500; id++) if (id % 3 !== 0) ids.push(id);
  for (let id = 601; id <= 3000; id++) {
    connection.publish(id, "a/x", `m${id}`, id % 3 === 0 ? 0 : 1);
  }
  await waitFor(() => session.taken.length === 3000, { what: "3000 messages", timeoutMs: 20_000 });
  subscriber.acknowledge(2500);
  for (let id = 501; id <= 3000; id++) if (id % 3 !== 0) ids.push(id);
  await waitFor(() => connection.pubacks.length === ids.length, { what: "every PUBACK" });
  await connection.settled();
  assert.deepEqual(connection.pubacks, ids);
});

Deno.test("Subscriber names a session the broker says was taken over, counts it, and waits longer each time", async () => {
  const warnings: Record<string, unknown>[] = [];
  configureSync({
    sinks: { memory: (record: LogRecord) => warnings.push(record.properties) },
    loggers: [
      { category: ["subscriber-takeover"], lowestLevel: "warning", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  const transport = new FakeTransport();
  let takeovers = 0;
  const subscriber = new Subscriber(config, {
    log: getLogger(["subscriber-takeover"]),
    onMessage: () => {},
    onTakeover: () => takeovers++,
    openStream: transport.open,
  });
  try {
    subscriber.start();
    for (let taken = 1; taken <= 3; taken++) {
      await waitFor(() => transport.connections.length === taken && subscriber.ready, {
        what: `connection ${taken}`,
      });
      transport.current.takeOver();
      await waitFor(() => warnings.length === taken, { what: `warning ${taken}` });
    }
  } finally {
    await subscriber.stop();
    resetSync();
  }
  assert.equal(takeovers, 3);
  for (const { reason, code } of warnings) {
    assert.equal(
      reason,
      'another client with the same MQTT_CLIENT_ID "unit" took the session (reason code 142), give each agent its own MQTT_CLIENT_ID',
    );
    assert.equal(code, "142");
  }
  // 500 to 1000 ms, then 1 to 2 s, then 2 to 4 s.
  const waits = warnings.map(({ delayMs }) => delayMs as number);
  assert.ok(waits[0] <= waits[1] && waits[1] <= waits[2], `waits ${waits}`);
  assert.ok(waits[2] >= 2 * waits[0], `waits ${waits}`);
});
