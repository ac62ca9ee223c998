// deploy/install.sh and the unit under a real systemd, booted for the test
// in namespaces of its own (tests/_support/systemd_namespace.ts), against a
// mosquitto that wants a password and a client certificate.
import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { ROOT } from "./_support/agent_process.ts";
import { freePort, hasMosquitto, startBroker, which } from "./_support/broker.ts";
import { hasOpenssl, makeTestPki } from "./_support/certs.ts";
import {
  bootSystemd,
  systemdMissing,
  type SystemdNamespace,
} from "./_support/systemd_namespace.ts";
import { waitFor as waitUntil } from "./_support/wait_for.ts";
import { AGENT_FLAGS, bundleArgs, DIST, writeEntry } from "../scripts/compile.ts";

const CI = Deno.env.get("CI") === "true";
const DEPLOY = `${ROOT}deploy`;
const UNIT = "ammp-agent.service";
/** Where the stand-ins for the compiled agent live inside the booted system. */
const OPT = "/opt/ammp-agent-test";
const USER = "gateway-1";
const PASSWORD = `pw-${crypto.randomUUID()}`;

const missing = systemdMissing() ??
  (!hasMosquitto() ? "mosquitto not installed" : undefined) ??
  (!which("mosquitto_passwd") ? "mosquitto_passwd not installed" : undefined) ??
  (!which("cc") ? "cc not installed" : undefined) ??
  (!hasOpenssl() ? "openssl not installed" : undefined);

/** Waits for `condition` with a deadline; `what` names it in the timeout message. */
async function waitFor(
  condition: () => Promise<boolean> | boolean,
  what: string | (() => Promise<string>),
  timeoutMs = 20_000,
): Promise<void> {
  let described = typeof what === "string" ? what : "";
  await waitUntil(async () => {
    if (await condition()) return true;
    if (typeof what !== "string") described = await what();
    return false;
  }, { what: () => described, timeoutMs, intervalMs: 100 });
}

async function output(command: string, args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, `${command} ${args.join(" ")}:\n${new TextDecoder().decode(stderr)}`);
}

/**
 * Writes, inside the booted system, a stand-in for the compiled agent of
 * `revision`: an ELF launcher (`cc` builds tests/fixtures/agent_launcher.c)
 * that runs the bundled agent with the compile task's flags, so that the
 * service's main process is the installed file, as with a real build.
 * Resolves to its path inside the system.
 */
async function standIn(system: SystemdNamespace, revision: string): Promise<string> {
  await Deno.mkdir(DIST, { recursive: true });
  const scratch = await Deno.makeTempDir({ dir: DIST, prefix: ".test-systemd-" });
  try {
    const entry = await writeEntry({ dir: scratch, revision });
    await output(Deno.execPath(), bundleArgs(entry, system.path(`${OPT}/${revision}.js`)));
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
  // The agent's user cannot read /root or /home: everything it runs is in OPT.
  await Deno.writeTextFile(
    system.path(`${OPT}/${revision}.sh`),
    [
      "#!/bin/sh",
      "export DENO_DIR=/tmp/deno",
      `exec ${OPT}/deno run --config=${OPT}/deno.json --no-lock ${
        AGENT_FLAGS.join(" ")
      } ${OPT}/${revision}.js "$@"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const binary = `${OPT}/ammp-agent-${revision}`;
  await output("cc", [
    "-O",
    `-DSCRIPT="${OPT}/${revision}.sh"`,
    "-o",
    system.path(binary),
    `${ROOT}tests/fixtures/agent_launcher.c`,
  ]);
  return binary;
}

/** A file that starts like an aarch64 executable, as a wrong download does. */
function aarch64Header(): Uint8Array {
  const header = new Uint8Array(64);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // ELF, 64-bit, little endian
  const view = new DataView(header.buffer);
  view.setUint16(16, 2, true); // an executable
  view.setUint16(18, 183, true); // EM_AARCH64
  view.setUint32(20, 1, true);
  return header;
}

Deno.test({
  name: "install.sh under a live systemd: starts, records, upgrades, refuses a wrong binary, " +
    "takes the token and dead-letter settings and purges" +
    (missing && !CI ? ` (ignored: ${missing})` : ""),
  ignore: missing !== undefined && !CI,
  async fn() {
    if (missing) throw new Error(`Cannot boot systemd: ${missing}; it is required with CI=true`);
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-systemd-broker-" });
    // mosquitto drops to its own user, which must read the password file.
    await Deno.chmod(dir, 0o755);
    await output("mosquitto_passwd", ["-b", "-c", `${dir}/passwd`, USER, PASSWORD]);
    await Deno.chmod(`${dir}/passwd`, 0o644);
    // Mutual TLS and a password, as on the AMMP brokers: the key comes as a credential too.
    const pki = await makeTestPki();
    const broker = await startBroker({
      require: true,
      config: ["allow_anonymous false", `password_file ${dir}/passwd`],
      tls: {
        caFile: pki.caFile,
        certFile: pki.serverCertFile,
        keyFile: pki.serverKeyFile,
        requireCertificate: true,
      },
    });
    const system = await bootSystemd();
    const journal = async () =>
      (await system.run(["journalctl", "-u", UNIT, "-o", "cat", "--no-pager"])).stdout;
    try {
      await Deno.mkdir(system.path(OPT), { mode: 0o755 });
      await Deno.copyFile(Deno.execPath(), system.path(`${OPT}/deno`));
      await Deno.copyFile(`${ROOT}deno.json`, system.path(`${OPT}/deno.json`));
      const v1 = await standIn(system, "systemd-1");
      const v2 = await standIn(system, "systemd-2");
      const wrong = `${OPT}/ammp-agent-aarch64-unknown-linux-gnu`;
      await Deno.writeFile(system.path(wrong), aarch64Header(), { mode: 0o755 });

      const port = freePort();
      const listen = `127.0.0.1:${port}`;
      await Deno.writeTextFile(
        system.path(`${OPT}/my.env`),
        [
          `MQTT_URL=${broker.url}`,
          `MQTT_USERNAME=${USER}`,
          `MQTT_CLIENT_ID=systemd-${crypto.randomUUID()}`,
          `METRICS_LISTEN=${listen}`,
          "MQTT_CA_FILE=/etc/ammp-agent/ca.crt",
          "MQTT_CERT_FILE=/etc/ammp-agent/client.crt",
          "",
        ].join("\n"),
        { mode: 0o600 },
      );
      await Deno.writeTextFile(system.path(`${OPT}/password`), `${PASSWORD}\n`, { mode: 0o600 });
      await Deno.copyFile(pki.caFile, system.path(`${OPT}/ca.crt`));
      // The client certificate is public; its key is root's and reaches the agent as mqtt-key.
      await Deno.mkdir(system.path("/etc/ammp-agent"), { mode: 0o755 });
      await Deno.copyFile(pki.clientCertFile, system.path("/etc/ammp-agent/client.crt"));
      await Deno.chmod(system.path("/etc/ammp-agent/client.crt"), 0o644);
      await Deno.writeFile(
        system.path("/etc/ammp-agent/mqtt-key"),
        await Deno.readFile(pki.clientKeyFile),
        { mode: 0o600 },
      );
      // deploy/ as it is copied to a gateway; the checkout may lie where the
      // booted system does not see it (a tmpfs /tmp, say).
      await Deno.mkdir(system.path(`${OPT}/deploy`));
      for (const file of ["install.sh", "ammp-agent.service", "agent.env"]) {
        await Deno.copyFile(`${DEPLOY}/${file}`, system.path(`${OPT}/deploy/${file}`));
      }
      const install = (...args: string[]) =>
        system.run(["sh", `${OPT}/deploy/install.sh`, ...args]);
      const mainPid = async () => Number(await system.property(UNIT, "MainPID"));
      const exe = async (pid: number) =>
        (await system.run(["readlink", `/proc/${pid}/exe`])).stdout.trim();
      let lastCheck = "";
      const healthy = async () => {
        const check = await system.run(["/usr/local/bin/ammp-agent", "healthcheck"], {
          // A proxy that is not there: the check must not go through it.
          env: { METRICS_LISTEN: listen, HTTP_PROXY: `http://127.0.0.1:${freePort()}` },
        });
        lastCheck = check.stderr;
        return check.code === 0;
      };
      const running = async () =>
        (await system.property(UNIT, "ActiveState")) === "active" && await healthy();

      // Records an earlier version left in a folder of root's own: the state
      // folder takes them over, and the agent appends to them.
      const old = '{"old":"record"}\n';
      await Deno.mkdir(system.path("/var/lib/ammp-agent"), { recursive: true, mode: 0o755 });
      await Deno.writeTextFile(system.path("/var/lib/ammp-agent/records.ndjson"), old, {
        mode: 0o640,
      });

      // A first install starts the service; /readyz answers through the agent itself.
      const first = await install(
        "--binary",
        v1,
        "--env-file",
        `${OPT}/my.env`,
        "--password-file",
        `${OPT}/password`,
        "--ca-file",
        `${OPT}/ca.crt`,
      );
      assert.equal(first.code, 0, first.stderr + first.stdout);
      // install.sh watched the service stay up before it said so.
      assert.match(first.stdout, /^Started ammp-agent\.service: still active \d+ s later/m);
      await waitFor(
        running,
        async () => `the service to be ready\n${lastCheck}\n${await journal()}`,
      );
      const pid1 = await mainPid();
      assert.equal(await exe(pid1), "/usr/local/bin/ammp-agent");

      // A payload lands in the records file, which others cannot read.
      const publisher = await connectAsync(broker.url, {
        username: USER,
        password: PASSWORD,
        ca: await Deno.readTextFile(pki.caFile),
        cert: await Deno.readTextFile(pki.clientCertFile),
        key: await Deno.readTextFile(pki.clientKeyFile),
      });
      await publisher.publishAsync(
        "a/b827eb000001/u/data",
        '{"t":1700000000,"r":[{"_vid":"m1","P":42}]}',
        { qos: 1 },
      );
      const records = system.path("/var/lib/ammp-agent/records.ndjson");
      const recordLines = () => {
        try {
          return Deno.readTextFileSync(records).trim().split("\n").filter((line) => line !== "");
        } catch {
          return [];
        }
      };
      await waitFor(() => recordLines().length === 2, "the record in records.ndjson");
      assert.equal(`${recordLines()[0]}\n`, old, "the earlier records are kept");
      assert.match(JSON.stringify(JSON.parse(recordLines()[1])), /b827eb000001/);
      assert.ok(
        Deno.lstatSync(system.path("/var/lib/ammp-agent")).isSymlink,
        "systemd moved the folder under /var/lib/private",
      );
      assert.equal(Deno.statSync(records).mode! & 0o007, 0, "records.ndjson is not world-readable");

      // The same run again changes nothing and keeps the process.
      const again = await install("--binary", v1);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /up to date and running/);
      assert.equal(await mainPid(), pid1);

      // An upgrade installed with --no-start, then the same run without it: restarted.
      const staged = await install("--binary", v2, "--no-start");
      assert.equal(staged.code, 0, staged.stderr);
      assert.equal(await mainPid(), pid1, "--no-start leaves the old process running");
      const upgrade = await install("--binary", v2);
      assert.equal(upgrade.code, 0, upgrade.stderr);
      assert.doesNotMatch(upgrade.stdout, /up to date/);
      await waitFor(running, "the upgraded service to be ready");
      const pid2 = await mainPid();
      assert.notEqual(pid2, pid1, "the upgrade restarted the service");
      assert.equal(await exe(pid2), "/usr/local/bin/ammp-agent", "it runs the installed file");
      assert.deepEqual(
        Deno.readFileSync(system.path("/usr/local/bin/ammp-agent")),
        Deno.readFileSync(system.path(v2)),
      );

      // A run stopped right after it renamed a new binary into place: the next run
      // restarts the service, although the installed file is already the one it gets.
      const stopped = system.path("/usr/local/bin/.ammp-agent.stopped");
      await Deno.copyFile(system.path(v1), stopped);
      await Deno.rename(stopped, system.path("/usr/local/bin/ammp-agent"));
      const resumed = await install("--binary", v1);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.doesNotMatch(resumed.stdout, /up to date/);
      await waitFor(running, "the service to run the binary a stopped run installed");
      const pid3 = await mainPid();
      assert.notEqual(pid3, pid2, "the service was restarted");

      // A binary that cannot run here is refused before it replaces anything.
      const refused = await install("--binary", wrong);
      assert.equal(refused.code, 2, refused.stdout);
      assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
      assert.match(refused.stderr, /^install\.sh: .*--binary/);
      assert.equal(await mainPid(), pid3, "the old binary keeps running");
      assert.deepEqual(
        Deno.readFileSync(system.path("/usr/local/bin/ammp-agent")),
        Deno.readFileSync(system.path(v1)),
      );

      // A metrics token put where the unit loads it as a credential protects /metrics;
      // dead letters go to the state folder by default, not to the journal.
      const token = crypto.randomUUID().replaceAll("-", "");
      await Deno.writeTextFile(system.path("/etc/ammp-agent/metrics-token"), `${token}\n`, {
        mode: 0o600,
      });
      const restarted = await system.run(["systemctl", "restart", UNIT]);
      assert.equal(restarted.code, 0, restarted.stderr);
      await waitFor(
        running,
        async () => `the service with a token to be ready\n${await journal()}`,
      );
      const unauthorized = await fetch(`http://${listen}/metrics`);
      await unauthorized.body?.cancel();
      assert.equal(unauthorized.status, 401, "/metrics wants the token");
      const authorized = await fetch(`http://${listen}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await authorized.body?.cancel();
      assert.equal(authorized.status, 200);
      const badPayload = `not json ${crypto.randomUUID()}`;
      await publisher.publishAsync("a/b827eb000001/u/data", badPayload, { qos: 1 });
      await publisher.endAsync();
      const deadLetters = system.path("/var/lib/ammp-agent/dead-letters.ndjson");
      await waitFor(() => {
        try {
          return Deno.readTextFileSync(deadLetters).includes("not json");
        } catch {
          return false;
        }
      }, async () => `the dead letter in dead-letters.ndjson\n${await journal()}`);
      assert.equal(
        Deno.statSync(deadLetters).mode! & 0o007,
        0,
        "dead letters are not world-readable",
      );
      assert.ok(!(await journal()).includes(badPayload), "the payload stays out of the journal");

      // Without the password the agent says which credential is missing and is not restarted;
      // install.sh, upgrading it, sees the service fail, shows its journal and fails too.
      await Deno.remove(system.path("/etc/ammp-agent/mqtt-password"));
      const failed = await install("--binary", v2);
      assert.equal(failed.code, 1, failed.stdout + failed.stderr);
      assert.match(
        failed.stderr,
        /^install\.sh: ammp-agent\.service did not stay active: failed \d+ s after it was started; the last lines of its journal:$/m,
      );
      assert.match(failed.stderr, /mqtt-password/, "the journal's lines name the credential");
      assert.doesNotMatch(failed.stdout, /^Started /m);
      assert.equal(await system.property(UNIT, "ActiveState"), "failed");
      assert.equal(await system.property(UNIT, "ExecMainStatus"), "2");
      assert.match(await journal(), /mqtt-password/);

      // --uninstall --purge leaves nothing of the agent.
      const purged = await install("--uninstall", "--purge");
      assert.equal(purged.code, 0, purged.stderr);
      for (
        const path of [
          "/usr/local/bin/ammp-agent",
          "/etc/ammp-agent",
          "/etc/systemd/system/ammp-agent.service",
          "/etc/systemd/system/multi-user.target.wants/ammp-agent.service",
          "/var/lib/ammp-agent",
          "/var/lib/private/ammp-agent",
        ]
      ) {
        assert.throws(() => Deno.lstatSync(system.path(path)), Deno.errors.NotFound, path);
      }
      assert.equal(await system.property(UNIT, "LoadState"), "not-found");
    } finally {
      await system.stop();
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(pki.dir, { recursive: true });
    }
  },
});
