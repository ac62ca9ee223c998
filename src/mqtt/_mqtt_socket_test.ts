import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { MqttClient } from "mqtt";
import { openSocket } from "./_mqtt_socket.ts";

// Node's net.Socket (and Deno's, ported from it) keeps what setNoDelay()
// asked for under this symbol, and applies it to the connection's handle.
function noDelay(socket: object): boolean {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === "kSetNoDelay");
  assert.ok(key, "the socket records no kSetNoDelay");
  return (socket as Record<symbol, boolean>)[key];
}

for (const protocol of ["mqtt", "mqtts"] as const) {
  Deno.test(`openSocket turns Nagle's algorithm off on a ${protocol}:// connection, so a batch of PUBACKs leaves at once`, async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const client = new EventEmitter() as unknown as MqttClient;
    client.on("error", () => {}); // the plain listener answers no TLS handshake
    const socket = openSocket(client, { protocol, host: "127.0.0.1", port }) as unknown as
      & EventEmitter
      & { destroy(): void };
    const accepted = await listener.accept();
    try {
      assert.equal(noDelay(socket), true);
    } finally {
      socket.destroy();
      accepted.close();
      listener.close();
    }
  });
}
