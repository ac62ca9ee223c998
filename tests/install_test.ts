// deploy/install.sh against a hostile machine, under --root: planted links,
// folders others can write to, a careless umask, CDPATH, odd file names,
// and a run that is stopped half-way. Every case checks that no copy of the
// password became readable by others and that nothing outside the root
// changed.
import assert from "node:assert/strict";
import { ROOT } from "./_support/agent_process.ts";
import { which } from "./_support/broker.ts";

const INSTALL = `${ROOT}deploy/install.sh`;
const CI = Deno.env.get("CI") === "true";
const SECRET = `pw-${crypto.randomUUID()}`;
const AGENT = '#!/bin/sh\necho "ammp-agent 0.1.0 (test)"\n';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A scratch machine: inputs, a root to install into, and an outside that must not change. */
interface Machine {
  dir: string;
  root: string;
  outside: string;
  /** The install.sh arguments that install every input. */
  args: string[];
}

async function machine(): Promise<Machine> {
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-hostile-" });
  const inputs = `${dir}/inputs`;
  await Deno.mkdir(inputs);
  await Deno.writeTextFile(`${inputs}/ammp-agent`, AGENT, { mode: 0o755 });
  await Deno.writeTextFile(`${inputs}/agent.env`, "MQTT_USERNAME=gateway-1\n", { mode: 0o600 });
  await Deno.writeTextFile(`${inputs}/password`, `${SECRET}\n`, { mode: 0o600 });
  await Deno.writeTextFile(`${inputs}/ca.crt`, "CA\n");
  await Deno.mkdir(`${dir}/outside`);
  await Deno.writeTextFile(`${dir}/outside/keep`, "outside\n");
  // Files of another user, which a planted link may point at.
  for (const name of ["mqtt-password", "agent.env", "ca.crt"]) {
    await Deno.writeTextFile(`${dir}/outside/stolen-${name}`, "", { mode: 0o644 });
  }
  return {
    dir,
    root: `${dir}/root`,
    outside: `${dir}/outside`,
    args: [
      "--binary",
      `${inputs}/ammp-agent`,
      "--env-file",
      `${inputs}/agent.env`,
      "--password-file",
      `${inputs}/password`,
      "--ca-file",
      `${inputs}/ca.crt`,
      "--no-start",
    ],
  };
}

interface InstallOptions {
  /** Shell commands run first, in the process that then becomes install.sh. */
  prelude?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** The script as given to sh (default: its absolute path). */
  script?: string;
}

async function install(args: string[], options: InstallOptions = {}): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command("sh", {
    args: [
      "-c",
      `${options.prelude ?? ":"}\nexec sh "$0" "$@"`,
      options.script ?? INSTALL,
      ...args,
    ],
    cwd: options.cwd,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...options.env },
    clearEnv: true,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Every path under `dir` with its kind and mode (links as their target). */
async function tree(dir: string): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = `${path}/${entry.name}`;
      const info = await Deno.lstat(full);
      const mode = (info.mode! & 0o7777).toString(8);
      if (info.isSymlink) entries[full] = `link ${await Deno.readLink(full)}`;
      else if (info.isDirectory) {
        entries[full] = `dir ${mode}`;
        await walk(full);
      } else entries[full] = `file ${mode} ${await Deno.readTextFile(full)}`;
    }
  };
  await walk(dir);
  return entries;
}

/**
 * The checks of every case: every copy of the password in the root is
 * closed to others, no temporary file is left, and the outside is as it was.
 */
async function assertSealed(m: Machine, outsideBefore: Record<string, string>): Promise<void> {
  let root: Record<string, string> = {};
  try {
    root = await tree(m.root);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const [path, entry] of Object.entries(root)) {
    if (entry.startsWith("file ") && entry.includes(SECRET)) {
      const mode = parseInt(entry.split(" ")[1], 8);
      assert.equal(mode & 0o077, 0, `${path} holds the password with mode ${mode.toString(8)}`);
    }
    assert.doesNotMatch(path, /\.ammp-agent\.|\.new\.\d+$/, `a temporary file is left: ${path}`);
  }
  assert.deepEqual(await tree(m.outside), outsideBefore, "nothing outside the root changed");
}

/** One hostile case: `fn` gets a fresh machine; the checks of every case follow. */
function hostile(name: string, fn: (m: Machine) => Promise<void>, needsRoot = false): void {
  const ignore = needsRoot && Deno.uid() !== 0 && !CI;
  Deno.test({ name: ignore ? `${name} (ignored: needs root)` : name, ignore }, async () => {
    const m = await machine();
    try {
      const before = await tree(m.outside);
      await fn(m);
      await assertSealed(m, before);
    } finally {
      await Deno.remove(m.dir, { recursive: true });
    }
  });
}

function oneLine(run: Run, pattern: RegExp): void {
  assert.equal(run.code, 2, `exit code 2 expected:\n${run.stdout}${run.stderr}`);
  assert.equal(run.stderr.split("\n").filter((line) => line !== "").length, 1, run.stderr);
  assert.match(run.stderr, pattern);
}

hostile(
  "install.sh never writes the password through a link planted at a temporary name",
  async (m) => {
    await Deno.mkdir(`${m.root}/etc/ammp-agent`, { recursive: true });
    // The name the password would take if temporary names were predictable;
    // the planting shell's pid becomes install.sh's own.
    const prelude = `for name in mqtt-password agent.env ca.crt; do
    ln -s "${m.outside}/stolen-$name" "${m.root}/etc/ammp-agent/$name.new.$$"
  done`;
    const run = await install(["--root", m.root, ...m.args], { prelude });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      await Deno.readTextFile(`${m.root}/etc/ammp-agent/mqtt-password`),
      `${SECRET}\n`,
    );
    // The files the planted links point at stay as they were: the common checks see to it.
    // Links are not temporary files of install.sh: remove them before the common checks.
    for await (const entry of Deno.readDir(`${m.root}/etc/ammp-agent`)) {
      if (entry.isSymlink) await Deno.remove(`${m.root}/etc/ammp-agent/${entry.name}`);
    }
  },
);

hostile(
  "install.sh refuses a settings folder that others can write to, in one line, and --fix-permissions mends it",
  async (m) => {
    await Deno.mkdir(`${m.root}/etc/ammp-agent`, { recursive: true });
    await Deno.chmod(`${m.root}/etc/ammp-agent`, 0o777);
    const refused = await install(["--root", m.root, ...m.args]);
    oneLine(refused, /^install\.sh: Refusing .*\/etc\/ammp-agent: .*mode 777.*--fix-permissions/);
    assert.deepEqual([...Deno.readDirSync(`${m.root}/etc/ammp-agent`)], []);
    assert.throws(() => Deno.statSync(`${m.root}/usr/local/bin/ammp-agent`), Deno.errors.NotFound);

    const fixed = await install(["--root", m.root, "--fix-permissions", ...m.args]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(Deno.statSync(`${m.root}/etc/ammp-agent`).mode! & 0o777, 0o755);
    assert.equal(Deno.statSync(`${m.root}/etc/ammp-agent/mqtt-password`).mode! & 0o777, 0o600);
  },
);

hostile("install.sh refuses a settings folder owned by another user", async (m) => {
  await Deno.mkdir(`${m.root}/etc/ammp-agent`, { recursive: true, mode: 0o755 });
  await Deno.chown(`${m.root}/etc/ammp-agent`, 4242, 4242);
  oneLine(await install(["--root", m.root, ...m.args]), /owned by uid 4242/);
}, true);

hostile(
  "install.sh refuses kept settings or a kept password that others can read, and --fix-permissions closes them",
  async (m) => {
    assert.equal((await install(["--root", m.root, ...m.args])).code, 0);
    const env = `${m.root}/etc/ammp-agent/agent.env`;
    const password = `${m.root}/etc/ammp-agent/mqtt-password`;
    await Deno.chmod(env, 0o666);
    const keptEnv = await install(["--root", m.root, "--binary", m.args[1], "--no-start"]);
    oneLine(
      keptEnv,
      /^install\.sh: Refusing .*agent\.env: .*mode 666, expected root's with mode 0640/,
    );
    await Deno.chmod(env, 0o640);
    await Deno.chmod(password, 0o644);
    const keptPassword = await install(["--root", m.root, "--binary", m.args[1], "--no-start"]);
    oneLine(
      keptPassword,
      /^install\.sh: Refusing .*mqtt-password: .*mode 644, expected root's with mode 0600/,
    );
    await Deno.chmod(env, 0o666);
    const fixed = await install([
      "--root",
      m.root,
      "--binary",
      m.args[1],
      "--no-start",
      "--fix-permissions",
    ]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(Deno.statSync(env).mode! & 0o777, 0o640);
    assert.equal(Deno.statSync(password).mode! & 0o777, 0o600);
  },
);

hostile("install.sh refuses a kept settings file that is a link", async (m) => {
  await Deno.mkdir(`${m.root}/etc/ammp-agent`, { recursive: true });
  await Deno.symlink(`${m.outside}/keep`, `${m.root}/etc/ammp-agent/agent.env`);
  oneLine(await install(["--root", m.root, ...m.args]), /agent\.env: it is not a regular file/);
  await Deno.remove(`${m.root}/etc/ammp-agent/agent.env`);
});

hostile("install.sh under umask 000 makes folders 0755 and the password 0600", async (m) => {
  const run = await install(["--root", m.root, ...m.args], { prelude: "umask 000" });
  assert.equal(run.code, 0, run.stderr);
  for (const dir of ["etc", "etc/ammp-agent", "usr/local/bin", "etc/systemd/system"]) {
    assert.equal(Deno.statSync(`${m.root}/${dir}`).mode! & 0o777, 0o755, dir);
  }
  assert.equal(Deno.statSync(`${m.root}/etc/ammp-agent/mqtt-password`).mode! & 0o777, 0o600);
  assert.equal(Deno.statSync(`${m.root}/etc/ammp-agent/agent.env`).mode! & 0o777, 0o640);
});

hostile("install.sh works with CDPATH set and a relative script path", async (m) => {
  // cd would print where CDPATH took it, and land in the wrong deploy/.
  await Deno.mkdir(`${m.dir}/cdpath/deploy`, { recursive: true });
  const run = await install(["--root", m.root, ...m.args], {
    env: { CDPATH: `${m.dir}/cdpath` },
    cwd: ROOT,
    script: "deploy/install.sh",
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    await Deno.readTextFile(`${m.root}/etc/systemd/system/ammp-agent.service`),
    await Deno.readTextFile(`${ROOT}deploy/ammp-agent.service`),
  );
});

hostile(
  "install.sh refuses to install into a folder that stands where a file belongs",
  async (m) => {
    await Deno.mkdir(`${m.root}/usr/local/bin/ammp-agent`, { recursive: true });
    oneLine(
      await install(["--root", m.root, ...m.args]),
      /^install\.sh: Refusing .*\/usr\/local\/bin\/ammp-agent: it is a folder/,
    );
    assert.deepEqual([...Deno.readDirSync(`${m.root}/usr/local/bin/ammp-agent`)], []);
  },
);

hostile("install.sh takes file names that start with a dash", async (m) => {
  const inputs = `${m.dir}/inputs`;
  await Deno.copyFile(`${inputs}/password`, `${inputs}/-password`);
  await Deno.copyFile(`${inputs}/ammp-agent`, `${inputs}/-ammp-agent`);
  const run = await install([
    "--root",
    m.root,
    "--binary",
    "-ammp-agent",
    "--password-file",
    "-password",
    "--no-start",
  ], { cwd: inputs });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(await Deno.readTextFile(`${m.root}/etc/ammp-agent/mqtt-password`), `${SECRET}\n`);
  assert.equal(await Deno.readTextFile(`${m.root}/usr/local/bin/ammp-agent`), AGENT);
});

hostile(
  "install.sh refuses a binary that does not run as the agent, before it replaces anything",
  async (m) => {
    assert.equal((await install(["--root", m.root, ...m.args])).code, 0);
    const aarch64 = new Uint8Array(64);
    aarch64.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    new DataView(aarch64.buffer).setUint16(18, 183, true); // EM_AARCH64
    const wrong = `${m.dir}/inputs/ammp-agent-aarch64-unknown-linux-gnu`;
    await Deno.writeFile(wrong, aarch64, { mode: 0o755 });
    oneLine(
      await install(["--root", m.root, "--binary", wrong, "--no-start"]),
      /^install\.sh: Refusing --binary ".*aarch64.*": it does not run here as ammp-agent/,
    );
    assert.equal(await Deno.readTextFile(`${m.root}/usr/local/bin/ammp-agent`), AGENT);
    await Deno.writeTextFile(`${m.dir}/inputs/other`, '#!/bin/sh\necho "something 1.0"\n', {
      mode: 0o755,
    });
    oneLine(
      await install(["--root", m.root, "--binary", `${m.dir}/inputs/other`, "--no-start"]),
      /printed "something 1\.0"/,
    );
    assert.equal(await Deno.readTextFile(`${m.root}/usr/local/bin/ammp-agent`), AGENT);
  },
);

hostile(
  "install.sh resolves a linked settings folder, checks it without changing its mode, and never leaves the root",
  async (m) => {
    await Deno.mkdir(`${m.root}/data/ammp-agent`, { recursive: true, mode: 0o700 });
    await Deno.chmod(`${m.root}/data/ammp-agent`, 0o700);
    await Deno.mkdir(`${m.root}/etc`, { recursive: true });
    await Deno.symlink(`${m.root}/data/ammp-agent`, `${m.root}/etc/ammp-agent`);
    const run = await install(["--root", m.root, ...m.args]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /Using .*\/data\/ammp-agent for .*\/etc\/ammp-agent \(a symbolic link\)/,
    );
    assert.equal(Deno.statSync(`${m.root}/data/ammp-agent`).mode! & 0o777, 0o700);
    assert.equal(await Deno.readTextFile(`${m.root}/data/ammp-agent/mqtt-password`), `${SECRET}\n`);

    // --purge says what the link points to, then removes both.
    const purged = await install(["--root", m.root, "--uninstall", "--purge"]);
    assert.equal(purged.code, 0, purged.stderr);
    assert.match(
      purged.stdout,
      /Removing .*\/data\/ammp-agent, which .*\/etc\/ammp-agent points to/,
    );
    assert.throws(() => Deno.lstatSync(`${m.root}/data/ammp-agent`), Deno.errors.NotFound);
    assert.throws(() => Deno.lstatSync(`${m.root}/etc/ammp-agent`), Deno.errors.NotFound);

    // A folder that leads outside the root is refused.
    await Deno.mkdir(`${m.outside}/conf`);
    await Deno.symlink(`${m.outside}/conf`, `${m.root}/etc/ammp-agent`);
    const before = await tree(m.outside);
    oneLine(await install(["--root", m.root, ...m.args]), /resolves to .*outside --root/);
    assert.deepEqual(await tree(m.outside), before);
    await Deno.remove(`${m.root}/etc/ammp-agent`);
    await Deno.remove(`${m.outside}/conf`);

    // So is a folder above one that install.sh would make.
    await Deno.remove(`${m.root}/usr`, { recursive: true });
    await Deno.mkdir(`${m.outside}/usr`);
    await Deno.symlink(`${m.outside}/usr`, `${m.root}/usr`);
    oneLine(await install(["--root", m.root, ...m.args]), /resolves to .*outside --root/);
    assert.deepEqual([...Deno.readDirSync(`${m.outside}/usr`)], [], "nothing made outside");
    await Deno.remove(`${m.root}/usr`);
    await Deno.remove(`${m.outside}/usr`);
  },
);

hostile(
  "install.sh --purge removes a linked records folder's contents after saying so",
  async (m) => {
    assert.equal((await install(["--root", m.root, ...m.args])).code, 0);
    await Deno.mkdir(`${m.root}/var/lib/private/ammp-agent`, { recursive: true });
    await Deno.writeTextFile(`${m.root}/var/lib/private/ammp-agent/records.ndjson`, "{}\n");
    await Deno.remove(`${m.root}/var/lib/ammp-agent`, { recursive: true }).catch(() => {});
    await Deno.symlink("private/ammp-agent", `${m.root}/var/lib/ammp-agent`);
    const purged = await install(["--root", m.root, "--uninstall", "--purge"]);
    assert.equal(purged.code, 0, purged.stderr);
    assert.match(
      purged.stdout,
      /Removing .*\/var\/lib\/private\/ammp-agent, which .*\/var\/lib\/ammp-agent points to/,
    );
    for (const path of ["var/lib/ammp-agent", "var/lib/private/ammp-agent", "etc/ammp-agent"]) {
      assert.throws(() => Deno.lstatSync(`${m.root}/${path}`), Deno.errors.NotFound, path);
    }
  },
);

hostile(
  "install.sh leaves no copy of the password behind when it is stopped half-way",
  async (m) => {
    // A chmod that stops install.sh (SIGTERM) while it sets the mode of the password's copy.
    await Deno.mkdir(`${m.dir}/bin`);
    await Deno.writeTextFile(
      `${m.dir}/bin/chmod`,
      `#!/bin/sh\nfor file; do\n  if grep -qs '${SECRET}' -- "$file"; then kill -TERM "$PPID"; exit 1; fi\ndone\nexec ${
        which("chmod")
      } "$@"\n`,
      { mode: 0o755 },
    );
    const run = await install(["--root", m.root, ...m.args], {
      env: { PATH: `${m.dir}/bin:${Deno.env.get("PATH")}` },
    });
    assert.notEqual(run.code, 0, "the run was stopped");
    const left = Object.entries(await tree(m.root)).filter(([, entry]) => entry.includes(SECRET));
    assert.deepEqual(left, [], "no copy of the password is left");
  },
);

// `--root //` must not reach the real /: the case runs in a mount namespace
// where /etc, /usr/local and /var/lib are overlays, so that even a broken
// install.sh cannot change the machine.
const unshare = which("unshare");
const namespaces = Deno.uid() === 0 && unshare !== undefined;
Deno.test({
  name: "install.sh refuses --root that is / however it is spelt" +
    (namespaces || CI ? "" : " (ignored: needs root and unshare)"),
  ignore: !namespaces && !CI,
  async fn() {
    const m = await machine();
    try {
      for (const root of ["/", "//", "/./", "///.", `${m.dir}/..${"/..".repeat(20)}`, ""]) {
        const prelude = `set -e
mount --make-rprivate /
mount -t tmpfs scratch "${m.dir}/outside"
for dir in /etc /usr/local /var/lib; do
  key=$(echo "$dir" | tr / _)
  mkdir -p "${m.dir}/outside/u$key" "${m.dir}/outside/w$key"
  mount -t overlay overlay -o "lowerdir=$dir,upperdir=${m.dir}/outside/u$key,workdir=${m.dir}/outside/w$key" "$dir"
done
set +e`;
        const { code, stdout, stderr } = await new Deno.Command(unshare!, {
          args: [
            "--mount",
            "sh",
            "-c",
            `${prelude}\nsh "$0" "$@"\ncode=$?\nfind "${m.dir}"/outside/u_* -mindepth 1 -print >&2\nexit $code`,
            INSTALL,
            "--root",
            root,
            ...m.args,
          ],
          stdin: "null",
        }).output();
        const err = new TextDecoder().decode(stderr);
        assert.equal(code, 2, `--root "${root}": ${new TextDecoder().decode(stdout)}${err}`);
        assert.match(err, /^install\.sh: Invalid --root .*expected an absolute path other than \//);
        assert.equal(err.trim().split("\n").length, 1, `--root "${root}" wrote into /:\n${err}`);
      }
    } finally {
      await Deno.remove(m.dir, { recursive: true });
    }
  },
});

hostile(
  "install.sh refuses a folder above the ones it writes that others own or can write",
  async (m) => {
    const cases: [string, (path: string) => Promise<void>][] = [
      ["usr/local", (path) => Deno.chown(path, 65534, 65534)],
      ["usr/local", (path) => Deno.chmod(path, 0o777)],
      ["etc", (path) => Deno.chown(path, 65534, 65534)],
      ["etc", (path) => Deno.chmod(path, 0o777)],
    ];
    for (const [folder, open] of cases) {
      await Deno.remove(m.root, { recursive: true }).catch(() => {});
      await Deno.mkdir(`${m.root}/${folder}`, { recursive: true, mode: 0o755 });
      await Deno.chmod(`${m.root}/${folder}`, 0o755);
      await open(`${m.root}/${folder}`);
      const run = await install(["--root", m.root, ...m.args]);
      oneLine(
        run,
        new RegExp(`Refusing .*: the folder above it, ${m.root}/${folder}, is owned by uid`),
      );
      await Deno.chmod(`${m.root}/${folder}`, 0o755);
      await Deno.chown(`${m.root}/${folder}`, 0, 0);
    }
  },
  true,
);

hostile("install.sh refused under --root makes no folder, not even the root", async (m) => {
  const inputs = `${m.dir}/inputs`;
  const cases: [string[], RegExp][] = [
    [
      ["--binary", `${m.dir}/nope`],
      /^install\.sh: Cannot read --binary ".*\/nope": file not found/,
    ],
    [
      ["--binary", `${inputs}/ammp-agent`, "--env-file", `${m.dir}/nope.env`],
      /^install\.sh: Cannot read --env-file ".*\/nope\.env": file not found/,
    ],
    [
      ["--binary", `${inputs}/ammp-agent`, "--credential", `mqtt-key=${m.dir}/nope.key`],
      /^install\.sh: Cannot read --credential "mqtt-key=.*\/nope\.key": file not found/,
    ],
  ];
  for (const [args, pattern] of cases) {
    oneLine(await install(["--root", m.root, ...args, "--no-start"]), pattern);
    assert.throws(() => Deno.lstatSync(m.root), Deno.errors.NotFound, args.join(" "));
  }
});

// Root reads any file; without its two capabilities that override file
// modes, it meets the modes as another user would.
const asUser = Deno.uid() === 0
  ? 'exec setpriv --bounding-set=-dac_override,-dac_read_search sh "$0" "$@"'
  : ":";
const noSetpriv = Deno.uid() === 0 && which("setpriv") === undefined;

const unreadable = "install.sh refuses an input file it may not read in one line, exit 2, " +
  "before writing anything";
if (noSetpriv && !CI) {
  Deno.test({ name: `${unreadable} (ignored: setpriv not installed)`, ignore: true, fn() {} });
} else {
  hostile(unreadable, async (m) => {
    const inputs = `${m.dir}/inputs`;
    const cases: [string, string[]][] = [
      ["--password-file", ["--password-file", `${inputs}/password`]],
      ["--credential", ["--credential", `metrics-token=${inputs}/password`]],
      ["--env-file", ["--env-file", `${inputs}/agent.env`]],
      ["--ca-file", ["--ca-file", `${inputs}/ca.crt`]],
      ["--binary", ["--binary", `${inputs}/ammp-agent`]],
    ];
    for (const [option, args] of cases) {
      const file = args[1].replace(/^[a-z-]+=/, "");
      const mode = Deno.statSync(file).mode! & 0o777;
      Deno.chmodSync(file, 0);
      try {
        const run = await install(
          ["--binary", `${inputs}/ammp-agent`, ...args, "--root", m.root, "--no-start"],
          { prelude: asUser },
        );
        oneLine(
          run,
          new RegExp(`^install\\.sh: Cannot read ${option} "[^"]*": permission denied$`, "m"),
        );
        assert.throws(() => Deno.lstatSync(m.root), Deno.errors.NotFound, option);
      } finally {
        Deno.chmodSync(file, mode);
      }
    }
  });
}

hostile(
  "install.sh refused under --root leaves the root as it was: no folder is made before a later check fails",
  async (m) => {
    await Deno.mkdir(`${m.root}/etc/ammp-agent`, { recursive: true });
    await Deno.chmod(`${m.root}/etc/ammp-agent`, 0o777);
    const before = await tree(m.root);
    oneLine(await install(["--root", m.root, ...m.args]), /Refusing .*\/etc\/ammp-agent: /);
    assert.deepEqual(await tree(m.root), before);
  },
);

hostile(
  "install.sh installs --credential mqtt-key and metrics-token as root's own with mode 0600, and changes nothing when run again",
  async (m) => {
    const inputs = `${m.dir}/inputs`;
    await Deno.writeTextFile(`${inputs}/client.key`, `${SECRET}\n`, { mode: 0o644 });
    await Deno.writeTextFile(`${inputs}/token`, `token-${SECRET}\n`, { mode: 0o644 });
    const args = [
      "--root",
      m.root,
      ...m.args,
      "--credential",
      `mqtt-key=${inputs}/client.key`,
      "--credential",
      `metrics-token=${inputs}/token`,
    ];
    const first = await install(args, { prelude: "umask 000" });
    assert.equal(first.code, 0, first.stderr);
    for (const [name, content] of [["mqtt-key", SECRET], ["metrics-token", `token-${SECRET}`]]) {
      const path = `${m.root}/etc/ammp-agent/${name}`;
      assert.equal(await Deno.readTextFile(path), `${content}\n`, name);
      const info = Deno.lstatSync(path);
      assert.ok(info.isFile, name);
      assert.equal(info.mode! & 0o777, 0o600, name);
      assert.equal(info.uid, Deno.uid(), name);
    }
    const installed = await tree(m.root);
    const again = await install(args);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /Installed \//);
    assert.deepEqual(await tree(m.root), installed);
  },
);

hostile(
  "install.sh refuses a credential name that the unit does not load, in one line",
  async (m) => {
    const key = `${m.dir}/inputs/password`;
    const names = "one of mqtt-password, mqtt-key, metrics-token";
    const cases: [string, RegExp][] = [
      [
        `mqtt-cert=${key}`,
        new RegExp(
          `^install\\.sh: Invalid --credential "mqtt-cert=.*": unknown name "mqtt-cert", expected ${names}`,
        ),
      ],
      [
        key,
        new RegExp(`^install\\.sh: Invalid --credential ".*": expected NAME=FILE, NAME ${names}`),
      ],
      [
        `=${key}`,
        new RegExp(`^install\\.sh: Invalid --credential "=.*": unknown name "", expected ${names}`),
      ],
    ];
    for (const [value, pattern] of cases) {
      oneLine(await install(["--root", m.root, ...m.args, "--credential", value]), pattern);
      assert.throws(() => Deno.lstatSync(m.root), Deno.errors.NotFound, value);
    }
    oneLine(
      await install(["--root", m.root, ...m.args, "--credential", `mqtt-password=${key}`]),
      /^install\.sh: Invalid --credential "mqtt-password=.*": mqtt-password is given twice/,
    );
  },
);

/** What install.sh did, run without --root in {@linkcode withoutSystemd}. */
interface LiveRun extends Run {
  /** The paths under /etc, /usr/local and /var/lib the run made, changed or removed. */
  changed: string[];
}

/**
 * Runs install.sh without --root as on a machine where systemd is not
 * PID 1, in a mount namespace: /etc, /usr/local and /var/lib are overlays
 * whose upper layers are on a tmpfs, and /run is an empty tmpfs (no
 * /run/systemd/system, no bus to a systemd of the host), so that even a
 * broken install.sh cannot change the machine. `setup` runs inside first.
 */
async function withoutSystemd(m: Machine, args: string[], setup = ":"): Promise<LiveRun> {
  const layers = `${m.dir}/layers`;
  await Deno.mkdir(layers, { recursive: true });
  const script = `set -e
mount --make-rprivate /
mount -t tmpfs scratch "${layers}"
for dir in /etc /usr/local /var/lib; do
  key=$(echo "$dir" | tr / _)
  mkdir -p "${layers}/u$key" "${layers}/w$key"
  mount -t overlay overlay -o "lowerdir=$dir,upperdir=${layers}/u$key,workdir=${layers}/w$key" "$dir"
done
mount -t tmpfs run /run
${setup}
list() { (cd "${layers}" && find u_* -mindepth 1 -printf '%p %y %m %s %T@\\n' | sort); }
list >"${m.dir}/before"
set +e
sh "$0" "$@"
code=$?
list >"${m.dir}/after"
exit $code`;
  const { code, stdout, stderr } = await new Deno.Command(unshare!, {
    args: ["--mount", "sh", "-c", script, INSTALL, ...args],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  const run = { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  const lines = (file: string) => {
    try {
      return Deno.readTextFileSync(`${m.dir}/${file}`).split("\n").filter((line) => line);
    } catch {
      return [`no ${file}: the namespace was not set up\n${run.stderr}`];
    }
  };
  const before = lines("before");
  const after = lines("after");
  return {
    ...run,
    changed: [
      ...after.filter((line) => !before.includes(line)),
      ...before.filter((line) => !after.includes(line)).map((line) => `gone: ${line}`),
    ],
  };
}

const live = (name: string) =>
  name + (namespaces || CI ? "" : " (ignored: needs root and unshare)");

Deno.test({
  name: live(
    "install.sh without --root where systemd is not running or does not answer refuses in one line and writes nothing",
  ),
  ignore: !namespaces && !CI,
  async fn() {
    const m = await machine();
    try {
      // No systemd at all, and a /run/systemd/system left behind with no systemd to answer.
      const cases: [string, RegExp][] = [
        [":", /systemd is not running here \(no \/run\/systemd\/system\)/],
        ["mkdir -p /run/systemd/system", /systemd does not answer here/],
      ];
      for (const [setup, why] of cases) {
        const run = await withoutSystemd(m, m.args, setup);
        oneLine(run, /^install\.sh: Cannot install into \/: .*; .*pass --root DIR/);
        assert.match(run.stderr, why);
        assert.equal(run.stdout, "");
        assert.deepEqual(
          run.changed,
          [],
          `${setup}: nothing in /etc, /usr/local or /var/lib changed`,
        );
      }
    } finally {
      await Deno.remove(m.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: live(
    "install.sh --uninstall --purge where systemd is not running refuses in one line and keeps every file",
  ),
  ignore: !namespaces && !CI,
  async fn() {
    const m = await machine();
    try {
      const setup = `mkdir -p /etc/ammp-agent /etc/systemd/system /usr/local/bin /var/lib/ammp-agent
cp "${m.dir}/inputs/agent.env" /etc/ammp-agent/agent.env
cp "${m.dir}/inputs/ammp-agent" /usr/local/bin/ammp-agent
cp "${ROOT}deploy/ammp-agent.service" /etc/systemd/system/ammp-agent.service
echo '{}' >/var/lib/ammp-agent/records.ndjson`;
      const run = await withoutSystemd(m, ["--uninstall", "--purge"], setup);
      oneLine(
        run,
        /^install\.sh: Cannot uninstall from \/: systemd is not running here \(no \/run\/systemd\/system\); .*--root DIR/,
      );
      assert.equal(run.stdout, "");
      assert.deepEqual(run.changed, [], "nothing in /etc, /usr/local or /var/lib changed");
    } finally {
      await Deno.remove(m.dir, { recursive: true });
    }
  },
});
