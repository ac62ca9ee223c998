/**
 * The gateway's node id as ammp-edge derives it when it first starts: the
 * MAC address of the first interface of {@linkcode NODE_ID_INTERFACES} that
 * has one, as 12 lowercase hex digits. ammp-edge keeps what it derived; an
 * id it could not derive (a random one, or a Moxa's) it makes up, and
 * that one the agent cannot know.
 *
 * @module
 */

/** The interfaces whose address names the gateway, in ammp-edge's order. */
export const NODE_ID_INTERFACES = [
  "eth0",
  "en0",
  "eth1",
  "en1",
  "em0",
  "em1",
  "wlan0",
  "wlan1",
] as const;

/**
 * The address every Moxa gateway has: ammp-edge gives such a gateway a
 * made-up id instead.
 */
export const MOXA_SHARED_ADDRESS = "d43639139e08";

/** What {@linkcode deriveNodeId} found. */
export type DerivedNodeId =
  /** The node id, and the interface whose address it is. */
  | { kind: "found"; nodeId: string; interface: string }
  /** The first interface with an address has the Moxa's shared one. */
  | { kind: "shared"; interface: string }
  /** None of the interfaces has a readable address. */
  | { kind: "none" };

/** Options for {@linkcode deriveNodeId}. */
export interface DeriveNodeIdOptions {
  /** Where sysfs is mounted; the addresses are in `<root>/class/net/<name>/address`. */
  sysfsRoot?: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * The node id ammp-edge derives on this machine, from
 * `/sys/class/net/<name>/address`. An interface that does not exist is
 * passed over; an address the process may not read throws
 * (`Deno.errors.NotCapable` or `PermissionDenied`).
 *
 * @example
 * ```ts
 * const derived = deriveNodeId();
 * if (derived.kind === "found") derived.nodeId; // "b827eb2bb2a9"
 * ```
 */
export function deriveNodeId(options: DeriveNodeIdOptions = {}): DerivedNodeId {
  const root = options.sysfsRoot ?? "/sys";
  for (const name of NODE_ID_INTERFACES) {
    const address = _readAddress(`${root}/class/net/${name}/address`);
    if (address === undefined) continue;
    const nodeId = address.replaceAll(":", "");
    return nodeId === MOXA_SHARED_ADDRESS
      ? { kind: "shared", interface: name }
      : { kind: "found", nodeId, interface: name };
  }
  return { kind: "none" };
}

// The interface's MAC address in lowercase; undefined where there is none
// (no such interface, or one without a 6-byte hardware address).
function _readAddress(path: string): string | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    // Not being let read is not the same as there being nothing to read.
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw error;
    }
    return undefined;
  }
  const address = text.trim().toLowerCase();
  return MAC.test(address) ? address : undefined;
}
