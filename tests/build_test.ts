import assert from "node:assert/strict";
import { startAgent } from "./_support/agent_process.ts";
import { assertEndToEnd } from "./_support/scenario.ts";
import {
  AGENT_FLAGS,
  bundleArgs,
  compileArgs,
  DIST,
  ROOT,
  writeEntry,
} from "../scripts/compile.ts";
import denoJson from "../deno.json" with { type: "json" };

const REVISION = "0123456789ab";

/** A scratch folder under `dist/`, so that built entries import `main.ts` as a build does. */
async function scratch(): Promise<string> {
  await Deno.mkdir(DIST, { recursive: true });
  return await Deno.makeTempDir({ dir: DIST, prefix: ".test-" });
}

async function deno(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.ok(success, `deno ${args.join(" ")} failed:\n${err}`);
  return new TextDecoder().decode(stdout);
}

Deno.test("the bundled agent, run with the compile task's permission flags, passes the end-to-end scenario", async () => {
  const dir = await scratch();
  try {
    const entry = await writeEntry({ dir, revision: REVISION });
    const bundle = `${dir}/ammp-agent.js`;
    await deno(bundleArgs(entry, bundle));
    const command = [
      Deno.execPath(),
      "run",
      "--quiet",
      `--config=${ROOT}deno.json`,
      ...AGENT_FLAGS,
      bundle,
    ];

    const version = await deno([...command.slice(1), "--version"]);
    assert.equal(
      version.trim(),
      `ammp-agent ${denoJson.version} (revision ${REVISION}, deno ${Deno.version.deno})`,
    );
    await assertEndToEnd((env) => startAgent(env, { command }), { revision: REVISION });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Reads the metadata `deno compile` embeds in an executable. */
function embeddedMetadata(binary: Uint8Array): Record<string, unknown> {
  const marker = new TextEncoder().encode('{"argv":');
  for (let i = binary.indexOf(marker[0], 8); i !== -1; i = binary.indexOf(marker[0], i + 1)) {
    if (!marker.every((byte, k) => binary[i + k] === byte)) continue;
    const length = Number(new DataView(binary.buffer, i - 8, 8).getBigUint64(0, true));
    return JSON.parse(new TextDecoder().decode(binary.subarray(i, i + length)));
  }
  throw new Error("No deno compile metadata in the executable");
}

type PermissionValue = boolean | string[];

/** What `deno compile` records for each kind of the `agent` permission set. */
function expectedPermissions(): Record<string, string[] | null> {
  const set: Record<
    string,
    PermissionValue | { allow?: PermissionValue; ignore?: PermissionValue }
  > = denoJson.permissions.agent;
  const flag = (value: PermissionValue) => value === true ? [] : value === false ? null : value;
  const expected: Record<string, string[] | null> = {};
  for (const kind of ["env", "net", "read", "write", "sys", "run", "ffi"]) {
    const value = set[kind] ?? false;
    if (typeof value === "object" && !Array.isArray(value)) {
      // The object form: { "allow": ..., "ignore": ... }.
      expected[`allow_${kind}`] = flag(value.allow ?? false);
      if (value.ignore !== undefined) expected[`ignore_${kind}`] = flag(value.ignore);
    } else {
      expected[`allow_${kind}`] = flag(value);
    }
  }
  return expected;
}

Deno.test("deno compile with the compile task's flags embeds the agent permission set and never prompts", async () => {
  // The runtime is only a carrier here: deno itself stands in for denort,
  // which cannot be downloaded everywhere. The result is inspected, not run.
  const dir = await scratch();
  try {
    const entry = await writeEntry({ dir, revision: REVISION });
    const output = `${dir}/ammp-agent`;
    await deno(compileArgs(entry, { output }), { DENORT_BIN: Deno.execPath() });
    const metadata = embeddedMetadata(await Deno.readFile(output));
    const permissions = metadata.permissions as Record<string, unknown>;
    for (const [kind, value] of Object.entries(expectedPermissions())) {
      assert.deepEqual(permissions[kind], value, kind);
    }
    assert.equal(permissions.prompt, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Why no real `denort` can be had here, or undefined when one can. */
async function denortMissing(): Promise<string | undefined> {
  if (Deno.env.get("DENORT_BIN")) return undefined;
  const url = `https://dl.deno.land/release/v${Deno.version.deno}/denort-${Deno.build.target}.zip`;
  try {
    const response = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    return response.ok ? undefined : `${url} answered ${response.status}`;
  } catch {
    return "no denort runtime: DENORT_BIN is unset and dl.deno.land cannot be reached";
  }
}

const missing = await denortMissing();

Deno.test({
  name: "the compiled agent passes the end-to-end scenario" +
    (missing ? ` (ignored: ${missing})` : ""),
  ignore: missing !== undefined,
  async fn() {
    const dir = await scratch();
    try {
      const entry = await writeEntry({ dir, revision: REVISION });
      const binary = `${dir}/ammp-agent`;
      await deno(compileArgs(entry, { output: binary }));
      const { stdout } = await new Deno.Command(binary, { args: ["--version"] }).output();
      assert.equal(
        new TextDecoder().decode(stdout).trim(),
        `ammp-agent ${denoJson.version} (revision ${REVISION}, deno ${Deno.version.deno})`,
      );
      await assertEndToEnd((env) => startAgent(env, { command: [binary] }), {
        revision: REVISION,
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
