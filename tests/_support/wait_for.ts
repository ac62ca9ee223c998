/**
 * Waiting for a condition with a deadline, the one way tests wait: never a
 * fixed sleep that counts what happened in a time window.
 *
 * @module
 */

/** Options for {@linkcode waitFor}. */
export interface WaitForOptions {
  /** What is waited for, for the timeout message, e.g. `"5 stdout lines"`. */
  what: string | (() => string);
  /** How long to wait before failing (default 15 s). */
  timeoutMs?: number;
  /** How long between two checks (default 20 ms). */
  intervalMs?: number;
  /** Stops waiting, with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Resolves as soon as `predicate` holds, checking it every `intervalMs`;
 * rejects with `Timed out waiting for <what>` once `timeoutMs` has passed.
 * A predicate that throws fails the wait at once.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  options: WaitForOptions,
): Promise<void> {
  const { timeoutMs = 15_000, intervalMs = 20, signal } = options;
  const deadline = Date.now() + timeoutMs;
  while (true) {
    signal?.throwIfAborted();
    if (await predicate()) return;
    if (Date.now() > deadline) {
      const what = typeof options.what === "function" ? options.what() : options.what;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
