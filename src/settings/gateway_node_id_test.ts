import assert from "node:assert/strict";
import {
  deriveFromInterfaceList,
  deriveNodeId,
  MOXA_SHARED_ADDRESS,
  NODE_ID_INTERFACES,
} from "./gateway_node_id.ts";

// A folder laid out as sysfs is, with the given interfaces' addresses.
async function fakeSysfs(addresses: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ammp-agent-sysfs-" });
  for (const [name, address] of Object.entries(addresses)) {
    await Deno.mkdir(`${root}/class/net/${name}`, { recursive: true });
    await Deno.writeTextFile(`${root}/class/net/${name}/address`, address);
  }
  return root;
}

async function derivedFrom(addresses: Record<string, string>) {
  const root = await fakeSysfs(addresses);
  try {
    return deriveNodeId({ sysfsRoot: root });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("deriveNodeId() takes the first interface of ammp-edge's order that has an address", async () => {
  assert.deepEqual(
    await derivedFrom({
      lo: "00:00:00:00:00:00\n",
      wlan0: "b8:27:eb:00:00:02\n",
      eth1: "B8:27:EB:00:00:01\n",
      docker0: "02:42:ac:11:00:02\n",
    }),
    { kind: "found", nodeId: "b827eb000001", interface: "eth1" },
  );
  // Each interface of the list wins over every one after it.
  for (const [index, name] of NODE_ID_INTERFACES.entries()) {
    const addresses: Record<string, string> = {};
    for (const later of NODE_ID_INTERFACES.slice(index)) {
      addresses[later] = `b8:27:eb:00:00:${
        String(NODE_ID_INTERFACES.indexOf(later)).padStart(2, "0")
      }\n`;
    }
    const derived = await derivedFrom(addresses);
    assert.deepEqual(derived, {
      kind: "found",
      nodeId: `b827eb0000${String(index).padStart(2, "0")}`,
      interface: name,
    });
  }
});

Deno.test("deriveNodeId() passes over an interface without a hardware address", async () => {
  // A tunnel has an empty address; an InfiniBand port a 20-byte one.
  assert.deepEqual(
    await derivedFrom({
      eth0: "\n",
      en0: "80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:00:00:01\n",
      em0: "d4:36:39:00:be:ef\n",
    }),
    { kind: "found", nodeId: "d4363900beef", interface: "em0" },
  );
});

Deno.test("deriveNodeId() names a Moxa's shared address instead of taking it", async () => {
  assert.equal(MOXA_SHARED_ADDRESS, "d43639139e08");
  assert.deepEqual(
    await derivedFrom({ eth0: "d4:36:39:13:9e:08\n", eth1: "b8:27:eb:00:00:01\n" }),
    {
      kind: "shared",
      interface: "eth0",
    },
  );
});

Deno.test("deriveNodeId() finds none where no interface of the list exists", async () => {
  assert.deepEqual(await derivedFrom({}), { kind: "none" });
  assert.deepEqual(
    await derivedFrom({ enp0s3: "08:00:27:00:00:01\n", lo: "00:00:00:00:00:00\n" }),
    {
      kind: "none",
    },
  );
  assert.deepEqual(deriveNodeId({ sysfsRoot: "/nonexistent" }), { kind: "none" });
});

Deno.test("deriveFromInterfaceList() takes eth0 for certain, and no interface that an eth0 without an IP address would come before", () => {
  const listed = (...names: [string, string][]) => names.map(([name, mac]) => ({ name, mac }));
  assert.deepEqual(
    deriveFromInterfaceList(
      listed(["lo", "00:00:00:00:00:00"], ["wlan0", "b8:27:eb:00:00:02"], [
        "eth0",
        "B8:27:EB:00:00:01",
      ]),
    ),
    { kind: "found", nodeId: "b827eb000001", interface: "eth0" },
  );
  // A Raspberry Pi on Wi-Fi with no cable in eth0: ammp-edge took eth0's address.
  assert.deepEqual(deriveFromInterfaceList(listed(["wlan0", "b8:27:eb:00:00:02"])), {
    kind: "uncertain",
    interface: "wlan0",
  });
  assert.deepEqual(deriveFromInterfaceList(listed(["eth0", "d4:36:39:13:9e:08"])), {
    kind: "shared",
    interface: "eth0",
  });
  assert.deepEqual(deriveFromInterfaceList(listed(["enp1s0", "08:00:27:00:00:01"])), {
    kind: "none",
  });
});

Deno.test({
  name:
    "deriveNodeId() reads this machine's eth0 as /sys/class/net/eth0/address has it (ignored without an eth0)",
  ignore: (() => {
    try {
      Deno.statSync("/sys/class/net/eth0/address");
      return false;
    } catch {
      return true;
    }
  })(),
  fn() {
    const address = Deno.readTextFileSync("/sys/class/net/eth0/address").trim();
    assert.deepEqual(deriveNodeId(), {
      kind: "found",
      nodeId: address.replaceAll(":", ""),
      interface: "eth0",
    });
  },
});
