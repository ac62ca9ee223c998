/**
 * The gateway's node id as ammp-edge derives it when it first starts: the
 * MAC address of the first interface of {@linkcode NODE_ID_INTERFACES} that
 * has one, as 12 lowercase hex digits. ammp-edge keeps what it derived; an
 * id it could not derive (a random one, or a Moxa's) it makes up, and
 * that one the agent cannot know.
 *
 * The addresses are in `/sys/class/net/<name>/address`, which Deno lets a
 * program read only with every permission (denoland/deno#27564). Refused
 * there, the agent asks `Deno.networkInterfaces()` (the `sys` permission
 * `networkInterfaces`), which lists only the interfaces that have an IP
 * address: an interface before the first one listed may exist without
 * one, so only an `eth0` it lists is taken for certain.
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
  | { kind: "none" }
  /**
   * Only the interface list was readable, and it lists `interface` but not
   * `eth0`, which may exist without an IP address and would come first.
   */
  | { kind: "uncertain"; interface: string };

/** One interface as `Deno.networkInterfaces()` lists it. */
export type ListedInterface = Pick<Deno.NetworkInterfaceInfo, "name" | "mac">;

/** Options for {@linkcode deriveNodeId}. */
export interface DeriveNodeIdOptions {
  /** Where sysfs is mounted; the addresses are in `<root>/class/net/<name>/address`. */
  sysfsRoot?: string;
  /** Lists the interfaces that have an IP address; defaults to `Deno.networkInterfaces`. */
  networkInterfaces?: () => readonly ListedInterface[];
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Whether `value` can be a node id: 1 to 64 of `0-9a-z_-`. ammp-edge's are
 * 12 lowercase hex digits; made-up ones are no more than this.
 */
export function isNodeId(value: string): boolean {
  return /^[0-9a-z_-]{1,64}$/.test(value);
}

/**
 * The node id ammp-edge derives on this machine: from
 * `/sys/class/net/<name>/address`, or where the permissions refuse that,
 * from the interfaces' list. Throws `Deno.errors.NotCapable` when neither
 * may be read.
 *
 * @example
 * ```ts
 * const derived = deriveNodeId();
 * if (derived.kind === "found") derived.nodeId; // "b827eb2bb2a9"
 * ```
 */
export function deriveNodeId(options: DeriveNodeIdOptions = {}): DerivedNodeId {
  const root = options.sysfsRoot ?? "/sys";
  try {
    return _firstAddress((name) => _readAddress(`${root}/class/net/${name}/address`));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
  }
  return deriveFromInterfaceList((options.networkInterfaces ?? Deno.networkInterfaces)());
}

/**
 * The node id from the interfaces that have an IP address, as
 * `Deno.networkInterfaces()` lists them: certain only for `eth0`, since an
 * interface before any other may exist without an IP address.
 */
export function deriveFromInterfaceList(interfaces: readonly ListedInterface[]): DerivedNodeId {
  const listed = new Map<string, string>();
  for (const { name, mac } of interfaces) listed.set(name, mac.toLowerCase());
  const derived = _firstAddress((name) => listed.get(name));
  if (derived.kind !== "none" && derived.interface !== NODE_ID_INTERFACES[0]) {
    return { kind: "uncertain", interface: derived.interface };
  }
  return derived;
}

// The first interface of the list with a hardware address.
function _firstAddress(addressOf: (name: string) => string | undefined): DerivedNodeId {
  for (const name of NODE_ID_INTERFACES) {
    const address = addressOf(name);
    // No such interface, or one without a 6-byte hardware address (a tunnel).
    if (address === undefined || !MAC.test(address) || address === "00:00:00:00:00:00") continue;
    const nodeId = address.replaceAll(":", "");
    return nodeId === MOXA_SHARED_ADDRESS
      ? { kind: "shared", interface: name }
      : { kind: "found", nodeId, interface: name };
  }
  return { kind: "none" };
}

// The address file's text in lowercase; undefined where there is none. Not
// being let read is not the same as there being nothing to read: that throws.
function _readAddress(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path).trim().toLowerCase();
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw error;
    }
    return undefined;
  }
}
