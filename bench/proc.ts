/**
 * What Linux tells about another process: CPU time and memory, read from
 * `/proc/<pid>`. Deno opens `/proc` only to programs holding every
 * permission, which is why the benchmark runs with the `bench` set.
 *
 * @module
 */

// /proc reports CPU time in USER_HZ, which is 100 on every Linux.
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name may hold spaces; the fields after it do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident memory now and at its peak, in bytes. */
export interface Memory {
  rss: number;
  peakRss: number;
  /** Of `rss`: anonymous memory (heaps, stacks) and mapped files (the executable's code). */
  rssAnon: number;
  rssFile: number;
}

/** The resident memory of a process (`VmRSS`) and its peak (`VmHWM`). */
export function memory(pid: number): Memory {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (name: string) => {
    const match = status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
    if (match === null) throw new Error(`Cannot read ${name} of process ${pid}`);
    return Number(match[1]) * 1024;
  };
  return {
    rss: kib("VmRSS"),
    peakRss: kib("VmHWM"),
    rssAnon: kib("RssAnon"),
    rssFile: kib("RssFile"),
  };
}

/** The machine: CPU model, cores, memory, kernel, load, for the results. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  /** The 1-minute load average when the benchmark started. */
  loadAverage: number;
  deno: string;
  v8: string;
}

/** Describes the machine the benchmark runs on. */
export function machineInfo(): MachineInfo {
  const cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown";
  return {
    cpu: model,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    kernel: Deno.osRelease(),
    loadAverage: Deno.loadavg()[0],
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}
