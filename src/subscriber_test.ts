import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import {
  disconnectSessionExpiry,
  type FakeConnection,
  FakeTransport,
  TYPE,
} from "../tests/_support/fake_transport.ts";
import { waitFor } from "../tests/_support/wait_for.ts";
import { loadConfig } from "./config.ts";
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
