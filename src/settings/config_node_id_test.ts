import assert from "node:assert/strict";
import { ConfigError, loadConfig, loadSections } from "./load_config.ts";

// A sysfs with these interfaces' addresses, removed once `check` is done.
async function withSysfs(
  addresses: Record<string, string>,
  check: (sysfsRoot: string) => void,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ammp-agent-sysfs-" });
  try {
    for (const [name, address] of Object.entries(addresses)) {
      await Deno.mkdir(`${root}/class/net/${name}`, { recursive: true });
      await Deno.writeTextFile(`${root}/class/net/${name}/address`, `${address}\n`);
    }
    check(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function nodeIdError(env: Record<string, string>, sysfsRoot: string): string {
  try {
    loadConfig(env, { sysfsRoot });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.variable, "NODE_ID");
    assert.ok(!error.message.includes("\n"), "one line");
    return error.message;
  }
  assert.fail(`expected NODE_ID to be asked for with ${JSON.stringify(env)}`);
}

const PI = { eth0: "b8:27:eb:00:be:ef" };

Deno.test("NODE_ID is the node id of records whose topic carries none, in the transform section", async () => {
  await withSysfs(PI, (sysfsRoot) => {
    const config = loadConfig({ MQTT_TOPICS: "u/data", NODE_ID: "ff00aa11bb22" }, { sysfsRoot });
    assert.equal(config.nodeId, "ff00aa11bb22");
    assert.equal(config.nodeIdFrom, "NODE_ID");
    assert.equal(loadSections({ NODE_ID: "site-3_b" }, ["transform"]).transform.nodeId, "site-3_b");
  });
});

Deno.test("a NODE_ID that is not 1 to 64 of 0-9a-z_- is refused in one line naming it", () => {
  for (const value of ["B8/27 EB", "B827EB00BEEF", "a/b", "x".repeat(65), "node id"]) {
    try {
      loadSections({ NODE_ID: value }, ["transform"]);
      assert.fail(`accepted ${value}`);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.variable, "NODE_ID");
      assert.equal(
        error.message,
        `Invalid NODE_ID "${value}": expected 1 to 64 lowercase letters, digits, "-" or "_", such as b827eb2bb2a9`,
      );
    }
  }
  assert.equal(
    loadSections({ NODE_ID: "x".repeat(64) }, ["transform"]).transform.nodeId?.length,
    64,
  );
});

Deno.test("an unset NODE_ID is derived from the hardware address where a filter can match a topic without a node id", async () => {
  await withSysfs(PI, (sysfsRoot) => {
    for (const topics of ["u/data", "u/#", "#", "+/data", "a/+/u/data,u/data", "site/+/data"]) {
      const config = loadConfig({ MQTT_TOPICS: topics }, { sysfsRoot });
      assert.equal(config.nodeId, "b827eb00beef", topics);
      assert.equal(config.nodeIdFrom, "eth0", topics);
    }
  });
});

Deno.test("on the cloud side, where every filter is under a/, nothing is derived and nothing required", async () => {
  await withSysfs(PI, (sysfsRoot) => {
    for (const topics of ["a/+/u/data,a/+/bridge_state", "a/#", "a/+/data"]) {
      const config = loadConfig({ MQTT_TOPICS: topics }, { sysfsRoot });
      assert.equal(config.nodeId, undefined, topics);
      assert.equal(config.nodeIdFrom, undefined, topics);
    }
  });
  await withSysfs({}, (sysfsRoot) => {
    assert.equal(loadConfig({}, { sysfsRoot }).nodeId, undefined);
  });
});

Deno.test("a gateway whose node id cannot be derived is asked for NODE_ID in one line", async () => {
  await withSysfs({ enp0s3: "08:00:27:00:00:01" }, (sysfsRoot) => {
    assert.equal(
      nodeIdError({ MQTT_TOPICS: "a/+/bridge_state,u/data" }, sysfsRoot),
      'Missing NODE_ID: MQTT_TOPICS "u/data" can match topics without a node id and none of ' +
        "eth0, en0, eth1, en1, em0, em1, wlan0, wlan1 has an address, expected NODE_ID set to " +
        `the gateway's node id (ammp-edge logs it as "Node ID: <id>")`,
    );
    // Told, it needs nothing more.
    assert.equal(
      loadConfig({ MQTT_TOPICS: "u/data", NODE_ID: "ff0123456789" }, { sysfsRoot }).nodeId,
      "ff0123456789",
    );
  });
  await withSysfs({ eth0: "d4:36:39:13:9e:08" }, (sysfsRoot) => {
    assert.match(
      nodeIdError({ MQTT_TOPICS: "#" }, sysfsRoot),
      /^Missing NODE_ID: MQTT_TOPICS "#" can match topics without a node id and the address of eth0 is the one every Moxa shares, expected NODE_ID set/,
    );
  });
});
