/**
 * A real headless Chromium for tests of the agent's pages, driven over the
 * DevTools protocol with Deno's own WebSocket: nothing to install but
 * Debian's `chromium`.
 *
 * @module
 */

import { which } from "./broker.ts";

/** The Chromium executable, if one is installed. */
export function chromiumPath(): string | undefined {
  return which("chromium") ?? which("chromium-browser") ?? which("google-chrome");
}

/** Whether a test must fail, rather than report itself ignored, without Chromium. */
export function chromiumRequired(): boolean {
  return Deno.env.get("CI") === "true";
}

/** A page opened in the browser. */
export interface Page {
  /** Console errors, uncaught exceptions and failed loads, as they happened. */
  readonly errors: string[];
  /** Evaluates `expression` in the page and returns its value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Saves a PNG of the whole page to `path`. */
  screenshot(path: string): Promise<void>;
}

/** A running headless Chromium; `await using` closes it. */
export interface Browser extends AsyncDisposable {
  /** Opens `url` in a new tab, `width` pixels wide, and waits for it to load. */
  open(url: string, options?: { width?: number }): Promise<Page>;
}

interface Message {
  id?: number;
  method?: string;
  sessionId?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** Starts Chromium with a fresh profile and no network of its own. */
export async function launchChromium(): Promise<Browser> {
  const executable = chromiumPath();
  if (executable === undefined) throw new Error("Cannot start Chromium: it is not installed");
  const profile = await Deno.makeTempDir({ prefix: "chromium-" });
  const child = new Deno.Command(executable, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const close = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  let socket: WebSocket;
  try {
    const endpoint = await devtoolsEndpoint(child.stderr);
    socket = new WebSocket(endpoint);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`Cannot connect to Chromium at ${endpoint}`));
    });
  } catch (error) {
    await close();
    throw error;
  }

  let nextId = 1;
  const pending = new Map<number, PromiseWithResolvers<Record<string, unknown>>>();
  const listeners = new Set<(message: Message) => void>();
  socket.onmessage = (event) => {
    const message: Message = JSON.parse(event.data);
    if (message.id !== undefined) {
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiting?.reject(new Error(`Chromium: ${message.error.message}`));
      else waiting?.resolve(message.result ?? {});
    } else {
      for (const listener of listeners) listener(message);
    }
  };
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) => {
    const id = nextId++;
    const answer = Promise.withResolvers<Record<string, unknown>>();
    pending.set(id, answer);
    socket.send(JSON.stringify({ id, method, params, sessionId }));
    return answer.promise;
  };

  return {
    async open(url, options = {}) {
      const { targetId } = await send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true }) as {
        sessionId: string;
      };
      const errors: string[] = [];
      const loaded = Promise.withResolvers<void>();
      listeners.add((message) => {
        if (message.sessionId !== sessionId) return;
        const params = message.params ?? {};
        if (message.method === "Page.loadEventFired") loaded.resolve();
        if (message.method === "Runtime.exceptionThrown") {
          errors.push(`exception: ${JSON.stringify(params.exceptionDetails)}`);
        }
        if (message.method === "Runtime.consoleAPICalled" && params.type === "error") {
          errors.push(`console.error: ${JSON.stringify(params.args)}`);
        }
        const entry = params.entry as { level?: string; text?: string } | undefined;
        if (message.method === "Log.entryAdded" && entry?.level === "error") {
          errors.push(`log: ${entry.text}`);
        }
      });
      for (const domain of ["Page", "Runtime", "Log"]) {
        await send(`${domain}.enable`, {}, sessionId);
      }
      await send("Emulation.setDeviceMetricsOverride", {
        width: options.width ?? 1000,
        height: 800,
        deviceScaleFactor: 1,
        mobile: false,
      }, sessionId);
      const navigation = await send("Page.navigate", { url }, sessionId);
      if (typeof navigation.errorText === "string") {
        throw new Error(`Cannot open ${url}: ${navigation.errorText}`);
      }
      await withTimeout(loaded.promise, 30_000, `Chromium did not load ${url} within 30 s`);
      return {
        errors,
        async evaluate<T>(expression: string): Promise<T> {
          const { result, exceptionDetails } = await send("Runtime.evaluate", {
            expression,
            returnByValue: true,
          }, sessionId) as { result: { value: T }; exceptionDetails?: unknown };
          if (exceptionDetails) throw new Error(`Cannot evaluate ${expression} in the page`);
          return result.value;
        },
        async screenshot(path: string) {
          // The whole page, not only what the 800 px high viewport shows.
          const { cssContentSize } = await send("Page.getLayoutMetrics", {}, sessionId) as {
            cssContentSize: { width: number; height: number };
          };
          const { data } = await send("Page.captureScreenshot", {
            format: "png",
            captureBeyondViewport: true,
            clip: {
              x: 0,
              y: 0,
              width: cssContentSize.width,
              height: cssContentSize.height,
              scale: 1,
            },
          }, sessionId) as { data: string };
          await Deno.writeFile(path, Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
        },
      };
    },
    async [Symbol.asyncDispose]() {
      socket.close();
      await close();
    },
  };
}

// Reads Chromium's stderr until it names its DevTools endpoint, then keeps
// draining it so that Chromium never blocks on a full pipe.
async function devtoolsEndpoint(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const lines = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const found = (async () => {
    while (true) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`Chromium exited before it listened: ${seen.slice(-500)}`);
      seen += value;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (match) {
        (async () => {
          while (!(await lines.read()).done) { /* drain */ }
        })().catch(() => {});
        return match[1];
      }
    }
  })();
  return await withTimeout(found, 60_000, "Chromium did not open DevTools within 60 s");
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(message)), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
