/**
 * Process groups for tests of Ctrl-C: a command spawned with
 * `detached: true` leads a process group of its own, as a command started
 * in a terminal does, and SIGINT sent to the group reaches every process
 * in it, as Ctrl-C does.
 *
 * @module
 */

/** The ids of the processes in process group `group` (read with ps). */
export async function processesInGroup(group: number): Promise<number[]> {
  const { stdout } = await new Deno.Command("ps", { args: ["-e", "-o", "pid=", "-o", "pgid="] })
    .output();
  return new TextDecoder().decode(stdout).trim().split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([, pgid]) => pgid === group)
    .map(([pid]) => pid);
}

/**
 * Ctrl-C for a `deno task` started as `group`: SIGINT to the whole group,
 * then, a moment later, SIGINT once more to the program the task runs, as
 * the task runner does when it passes the signal on. The second one comes
 * late on purpose, while the program is shutting down.
 */
export async function ctrlC(group: number): Promise<void> {
  const programs = (await processesInGroup(group)).filter((pid) => pid !== group);
  Deno.kill(-group, "SIGINT");
  await new Promise((resolve) => setTimeout(resolve, 5));
  for (const pid of programs) {
    try {
      Deno.kill(pid, "SIGINT");
    } catch {
      // already gone
    }
  }
}
