import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { type FakeConnection, FakeTransport } from "../tests/_support/fake_transport.ts";
import { waitFor } from "../tests/_support/wait_for.ts";
import { loadConfig } from "./config.ts";
import { Subscriber } from "./subscriber.ts";

// The queue of ids taken must stay in step with acknowledge(count): each
// acknowledge() names the oldest messages taken, whatever their QoS, their
// connection, or a pause between them.

const config = loadConfig({
  MQTT_URL: "mqtt://broker.invalid:1883",
  MQTT_CLIENT_ID: "fifo",
  MQTT_TOPICS: "a/#",
}, { hostname: () => "host" }).mqtt;

interface Session extends AsyncDisposable {
  subscriber: Subscriber;
  taken: string[];
  transport: FakeTransport;
  connection: FakeConnection;
}

async function connect(): Promise<Session> {
  const transport = new FakeTransport();
  const taken: string[] = [];
  const subscriber = new Subscriber(config, {
    log: getLogger(["subscriber-fifo-test"]),
    onMessage: (_topic, payload) => taken.push(new TextDecoder().decode(payload)),
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
  assert.deepEqual(session.taken, ["old-3", "old-q0", "new-3", "new-11"]);
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
