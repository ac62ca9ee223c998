/**
 * A live systemd for tests: systemd booted as PID 1 of new pid, mount, uts
 * and cgroup namespaces, on an overlay of `/` whose upper layer is a tmpfs,
 * so that what the test installs and runs there never reaches the host.
 * Loopback is the host's (no new network namespace): a broker the test
 * starts on 127.0.0.1 is reachable from the booted system's services.
 * `tests/fixtures/systemd_pid1.sh` builds the system and hands over to
 * systemd.
 *
 * @module
 */

import { ROOT } from "./agent_process.ts";
import { which } from "./broker.ts";
import { waitFor } from "./wait_for.ts";

const PID1 = `${ROOT}tests/fixtures/systemd_pid1.sh`;
const SYSTEMD = "/lib/systemd/systemd";

/** What a command run in the booted system did. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode SystemdNamespace.run}. */
export interface RunOptions {
  /** Variables for the command, on top of a PATH. */
  env?: Record<string, string>;
}

/** A booted systemd; see {@linkcode bootSystemd}. */
export class SystemdNamespace {
  #unshare: Deno.ChildProcess;
  #dir: string;
  /** The host's id of the namespace's PID 1 (systemd). */
  readonly pid: number;

  /** Wraps a booted system; use {@linkcode bootSystemd}. */
  constructor(unshare: Deno.ChildProcess, dir: string, pid: number) {
    this.#unshare = unshare;
    this.#dir = dir;
    this.pid = pid;
  }

  /** The host's path of `path` inside the booted system. */
  path(path: string): string {
    return `/proc/${this.pid}/root${path}`;
  }

  /** Runs `command` inside the booted system, as root, with no standard input. */
  async run(command: string[], options: RunOptions = {}): Promise<RunResult> {
    const { code, stdout, stderr } = await new Deno.Command("nsenter", {
      args: [
        `--target=${this.pid}`,
        "--all",
        "env",
        "-i",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG=C.UTF-8",
        "SYSTEMD_COLORS=0",
        "SYSTEMD_PAGER=",
        ...Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
        ...command,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  }

  /** `systemctl show -p NAME --value UNIT`. */
  async property(unit: string, name: string): Promise<string> {
    return (await this.run(["systemctl", "show", "-p", name, "--value", unit])).stdout.trim();
  }

  /** What systemd printed on its console, for failure messages. */
  console(): string {
    try {
      return Deno.readTextFileSync(`${this.#dir}/console`);
    } catch {
      return "";
    }
  }

  /**
   * Ends the booted system: its PID 1 is killed, which ends every process
   * in the namespace, and the tmpfs with all it wrote goes with it.
   */
  async stop(): Promise<void> {
    try {
      Deno.kill(this.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await this.#unshare.status;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Why no systemd can be booted here, or undefined when it can: it takes
 * root, unshare and nsenter (util-linux) and systemd itself.
 */
export function systemdMissing(): string | undefined {
  if (Deno.uid() !== 0) return "not root";
  for (const tool of ["unshare", "nsenter", "mount"]) {
    if (!which(tool)) return `${tool} not installed`;
  }
  try {
    Deno.statSync(SYSTEMD);
  } catch {
    return "systemd not installed";
  }
  return undefined;
}

/** Options for {@linkcode bootSystemd}. */
export interface BootOptions {
  /** How long to wait for `systemctl is-system-running` (default 30 s). */
  timeoutMs?: number;
}

/** Boots systemd in new namespaces and resolves once it is running. */
export async function bootSystemd(options: BootOptions = {}): Promise<SystemdNamespace> {
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-systemd-" });
  await Deno.mkdir(`${dir}/layers`);
  const unshare = new Deno.Command("unshare", {
    args: ["--pid", "--mount", "--uts", "--cgroup", "--fork", PID1, dir],
    cwd: "/",
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const remaining = () => Math.max(0, deadline - Date.now());
  let pid = 0;
  await waitFor(() => {
    try {
      const children = Deno.readTextFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`);
      pid = Number(children.trim().split(" ")[0]) || 0;
    } catch {
      // unshare has not forked yet, or it ended
    }
    return pid !== 0;
  }, { what: "unshare to start PID 1", timeoutMs: remaining(), intervalMs: 50 });
  const system = new SystemdNamespace(unshare, dir, pid);
  try {
    // PID 1 runs the shell script first; it becomes systemd by exec.
    await waitFor(() => Deno.readLinkSync(`/proc/${pid}/exe`).endsWith("/systemd"), {
      what: "PID 1 to become systemd",
      timeoutMs: remaining(),
      intervalMs: 50,
    });
    let state = "";
    await waitFor(async () => {
      state = (await system.run(["systemctl", "is-system-running"])).stdout.trim();
      return ["running", "degraded"].includes(state);
    }, {
      what: () => `systemd to finish booting (state "${state}")`,
      timeoutMs: remaining(),
      intervalMs: 50,
    });
    return system;
  } catch (error) {
    await system.stop();
    throw error;
  }
}
