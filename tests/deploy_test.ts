import assert from "node:assert/strict";
import { ROOT } from "./_support/agent_process.ts";
import { which } from "./_support/broker.ts";

const UNIT = `${ROOT}deploy/ammp-agent.service`;
const INSTALL = `${ROOT}deploy/install.sh`;
const CI = Deno.env.get("CI") === "true";

/**
 * A test that needs `tool`: ignored with the reason in its name where the
 * tool is missing, except on CI, where the missing tool fails the test.
 */
function testWith(tool: string, name: string, fn: (path: string) => Promise<void>): void {
  const path = which(tool);
  Deno.test({
    name: path || CI ? name : `${name} (ignored: ${tool} not installed)`,
    ignore: !path && !CI,
    async fn() {
      if (!path) throw new Error(`${tool} is not on PATH; it is required with CI=true`);
      await fn(path);
    },
  });
}

async function run(
  command: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    env: { NO_COLOR: "1", SYSTEMD_COLORS: "0", SYSTEMD_PAGER: "" },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** The values of `key` in the unit file, in order. */
function unitValues(key: string): string[] {
  return Deno.readTextFileSync(UNIT).split("\n")
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

/** The host files the unit refers to and install.sh installs: program, settings, password. */
function unitPaths(): string[] {
  return [
    unitValues("ExecStart")[0].split(" ")[0],
    unitValues("EnvironmentFile")[0],
    unitValues("LoadCredential")[0].split(":")[1],
  ];
}

/** A stand-in for the agent's executable: it answers --version as the agent does. */
function fakeAgent(label: string): string {
  return `#!/bin/sh\necho "ammp-agent 0.1.0 (${label})"\n`;
}

Deno.test("the unit runs the agent as Type=exec with restarts, an env file, credentials and W+X memory allowed", () => {
  assert.deepEqual(unitValues("Type"), ["exec"]);
  assert.deepEqual(unitValues("Restart"), ["on-failure"]);
  assert.equal(unitValues("RestartSec").length, 1);
  assert.deepEqual(unitValues("RestartPreventExitStatus"), ["2"]);
  assert.deepEqual(unitValues("DynamicUser"), ["yes"]);
  assert.deepEqual(unitValues("EnvironmentFile"), ["/etc/ammp-agent/agent.env"]);
  // Each secret is a credential; one that is not there comes empty, as not given.
  assert.deepEqual(unitValues("LoadCredential"), [
    "mqtt-password:/etc/ammp-agent/mqtt-password",
    "mqtt-key:/etc/ammp-agent/mqtt-key",
    "metrics-token:/etc/ammp-agent/metrics-token",
  ]);
  assert.deepEqual(unitValues("SetCredential"), [
    "mqtt-password:\\n",
    "mqtt-key:\\n",
    "metrics-token:\\n",
  ]);
  // V8 writes machine code at run time.
  assert.deepEqual(unitValues("MemoryDenyWriteExecute"), []);
});

testWith("systemd-analyze", "systemd-analyze verify accepts the unit", async (analyze) => {
  const root = await Deno.makeTempDir({ prefix: "ammp-agent-verify-" });
  try {
    // verify resolves the unit's dependencies and its ExecStart under --root,
    // so the root gets the host's own units and a stand-in program.
    const hostUnits = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((dir) => {
      try {
        return Deno.statSync(`${dir}/sysinit.target`).isFile;
      } catch {
        return false;
      }
    });
    assert.ok(hostUnits, "the host's systemd units are installed");
    await Deno.mkdir(`${root}/usr/lib/systemd`, { recursive: true });
    assert.equal((await run("cp", ["-a", hostUnits, `${root}/usr/lib/systemd/`])).code, 0);
    await Deno.mkdir(`${root}/etc/systemd/system`, { recursive: true });
    await Deno.copyFile(UNIT, `${root}/etc/systemd/system/ammp-agent.service`);
    const args = ["verify", `--root=${root}`, "/etc/systemd/system/ammp-agent.service"];

    const withoutProgram = await run(analyze, args);
    assert.notEqual(withoutProgram.code, 0, "verify must notice a missing ExecStart program");
    assert.match(withoutProgram.stderr, /is not executable/);

    const program = `${root}${unitValues("ExecStart")[0].split(" ")[0]}`;
    await Deno.mkdir(program.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(program, "#!/bin/sh\n", { mode: 0o755 });
    const verified = await run(analyze, args);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stdout + verified.stderr, "");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testWith(
  "systemd-analyze",
  "systemd-analyze security rates the unit's exposure 2.0 or lower",
  async (analyze) => {
    const { stdout, stderr } = await run(analyze, ["security", "--offline=yes", UNIT]);
    const match = /Overall exposure level for ammp-agent\.service: (\d+(?:\.\d+)?)/.exec(stdout);
    assert.ok(match, `no overall exposure level in:\n${stdout}${stderr}`);
    const exposure = Number(match[1]);
    assert.ok(exposure <= 2.0, `exposure ${exposure} is above 2.0:\n${stdout}`);
  },
);

testWith("shellcheck", "shellcheck finds nothing in the install script", async (shellcheck) => {
  const { code, stdout } = await run(shellcheck, [INSTALL]);
  assert.equal(code, 0, stdout);
});

/** Every file, folder and link under `root`, with its mode and content. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      const name = path.slice(root.length);
      const info = await Deno.lstat(path);
      const mode = (info.mode! & 0o7777).toString(8);
      if (entry.isSymlink) entries[name] = `link -> ${await Deno.readLink(path)}`;
      else if (entry.isDirectory) {
        entries[name] = `dir ${mode}`;
        await walk(path);
      } else entries[name] = `file ${mode} ${await Deno.readTextFile(path)}`;
    }
  };
  await walk(root);
  return entries;
}

Deno.test("the unit keeps records and dead letters in its state folder, closed to other users", () => {
  assert.deepEqual(unitValues("StateDirectory"), ["ammp-agent"]);
  assert.deepEqual(unitValues("UMask"), ["0027"]);
  assert.deepEqual(unitValues("Environment").sort(), [
    "DEAD_LETTER_FILE=%S/ammp-agent/dead-letters.ndjson",
    "OUTPUT_FILE=%S/ammp-agent/records.ndjson",
  ]);
  // The agent appends the records itself; systemd opens no output file for it.
  assert.deepEqual(unitValues("StandardOutput"), []);
});

Deno.test("install.sh installs into a root, changes nothing when run again, keeps edited settings and uninstalls", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-install-" });
  const root = `${dir}/root`;
  const install = (...args: string[]) => run("sh", [INSTALL, "--root", root, ...args]);
  try {
    await Deno.writeTextFile(`${dir}/ammp-agent`, fakeAgent("binary 1"), { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/agent.env`, "MQTT_USERNAME=gateway-1\n");
    await Deno.writeTextFile(`${dir}/password`, "secret\n");
    await Deno.writeTextFile(`${dir}/ca.crt`, "CA\n");
    const args = [
      "--binary",
      `${dir}/ammp-agent`,
      "--env-file",
      `${dir}/agent.env`,
      "--password-file",
      `${dir}/password`,
      "--ca-file",
      `${dir}/ca.crt`,
      "--no-start",
    ];

    const first = await install(...args);
    assert.equal(first.code, 0, first.stderr);
    const installed = await snapshot(root);
    assert.equal(installed["/usr/local/bin/ammp-agent"], `file 755 ${fakeAgent("binary 1")}`);
    assert.equal(installed["/etc/ammp-agent/mqtt-password"], "file 600 secret\n");
    assert.equal(installed["/etc/ammp-agent/agent.env"], "file 640 MQTT_USERNAME=gateway-1\n");
    assert.equal(installed["/etc/ammp-agent/ca.crt"], "file 644 CA\n");
    assert.equal(
      installed["/etc/systemd/system/ammp-agent.service"],
      `file 644 ${await Deno.readTextFile(UNIT)}`,
    );
    for (const path of unitPaths()) assert.ok(installed[path], `the unit's ${path} is installed`);
    if (which("systemctl")) {
      assert.equal(
        installed["/etc/systemd/system/multi-user.target.wants/ammp-agent.service"],
        "link -> /etc/systemd/system/ammp-agent.service",
      );
    }

    const second = await install(...args);
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stdout, /Installed \//);
    assert.deepEqual(await snapshot(root), installed);

    // Settings edited on the gateway survive; a new binary replaces the old one.
    await Deno.writeTextFile(`${root}/etc/ammp-agent/agent.env`, "MQTT_USERNAME=edited\n");
    await Deno.writeTextFile(`${dir}/ammp-agent`, fakeAgent("binary 2"));
    const upgrade = await install(...args);
    assert.equal(upgrade.code, 0, upgrade.stderr);
    assert.match(upgrade.stdout, /Kept the existing .*agent\.env/);
    const upgraded = await snapshot(root);
    assert.equal(upgraded["/etc/ammp-agent/agent.env"], "file 640 MQTT_USERNAME=edited\n");
    assert.equal(upgraded["/usr/local/bin/ammp-agent"], `file 755 ${fakeAgent("binary 2")}`);

    const removed = await install("--uninstall");
    assert.equal(removed.code, 0, removed.stderr);
    const left = await snapshot(root);
    assert.equal(left["/usr/local/bin/ammp-agent"], undefined);
    assert.equal(left["/etc/systemd/system/ammp-agent.service"], undefined);
    assert.equal(left["/etc/systemd/system/multi-user.target.wants/ammp-agent.service"], undefined);
    assert.equal(left["/etc/ammp-agent/mqtt-password"], "file 600 secret\n");

    const purged = await install("--uninstall", "--purge");
    assert.equal(purged.code, 0, purged.stderr);
    const none = await snapshot(root);
    assert.equal(none["/etc/ammp-agent"], undefined);
    assert.equal(none["/var/lib/ammp-agent"], undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install.sh without settings installs the commented template and names a bad option in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-install-" });
  try {
    await Deno.writeTextFile(`${dir}/ammp-agent`, fakeAgent("binary"), { mode: 0o755 });
    const fresh = await run("sh", [
      INSTALL,
      "--root",
      `${dir}/root`,
      "--binary",
      `${dir}/ammp-agent`,
    ]);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.equal(
      await Deno.readTextFile(`${dir}/root/etc/ammp-agent/agent.env`),
      await Deno.readTextFile(`${ROOT}deploy/agent.env`),
    );

    const bad = await run("sh", [INSTALL, "--root", `${dir}/root`, "--frobnicate"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'install.sh: Unknown option "--frobnicate"; see install.sh --help\n');
    const missing = await run("sh", [INSTALL, "--root", `${dir}/root`, "--binary", `${dir}/nope`]);
    assert.equal(missing.code, 2);
    assert.equal(
      missing.stderr,
      `install.sh: Cannot read --binary "${dir}/nope": file not found\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the README's gateway walkthrough keeps the password out of the shell history and says how to correct a setting", () => {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const section = readme.slice(
    readme.indexOf("## On a gateway, as a systemd service"),
    readme.indexOf("### Where the records go"),
  );
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]).join("");
  assert.doesNotMatch(blocks, /printf [^|>]*the-password|echo [^|>]*password/i);
  assert.match(blocks, /systemd-ask-password|read -rs/);
  // The check works where curl is missing: the agent asks its own /readyz.
  assert.doesNotMatch(blocks, /curl /);
  assert.match(blocks, /ammp-agent healthcheck/);
  assert.match(section, /edit `\/etc\/ammp-agent\/agent\.env`/);
  assert.doesNotMatch(section, /enabled and started/);
});
