/**
 * PUBACKs as bytes, written by the subscriber itself.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/**
 * PUBACK packets for `ids`, one after another: success, no properties,
 * which is four bytes each in MQTT 3.1.1 and 5 alike. Writing them
 * directly costs a few bytes per message, where MQTT.js builds each one
 * from packet objects and small buffers.
 */
export function encodePubacks(ids: readonly number[]): Uint8Array {
  const bytes = Buffer.allocUnsafe(ids.length * 4);
  for (let i = 0; i < ids.length; i++) {
    const at = i * 4;
    bytes[at] = 0x40;
    bytes[at + 1] = 2;
    bytes[at + 2] = ids[i] >> 8;
    bytes[at + 3] = ids[i] & 0xff;
  }
  return bytes;
}
