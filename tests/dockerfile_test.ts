// No container engine runs these tests: they check what the Dockerfile
// says against the repository it builds from.
import assert from "node:assert/strict";
import { ROOT } from "./_support/agent_process.ts";
import { DEFAULT_METRICS_PORT } from "../src/settings/load_config.ts";
import denoJson from "../deno.json" with { type: "json" };

interface Instruction {
  keyword: string;
  args: string;
  /** Whether a comment stands right above it. */
  commented: boolean;
}

/** The Dockerfile's instructions, with continuation lines joined. */
function instructions(): Instruction[] {
  const result: Instruction[] = [];
  let pending = "";
  let commented = false;
  for (const line of Deno.readTextFileSync(`${ROOT}Dockerfile`).split("\n")) {
    if (pending === "" && line.trim() === "") {
      commented = false;
      continue;
    }
    if (pending === "" && line.startsWith("#")) {
      commented = true;
      continue;
    }
    pending += line.trimEnd().endsWith("\\") ? line.trimEnd().slice(0, -1) + " " : line;
    if (line.trimEnd().endsWith("\\")) continue;
    const [, keyword, args] = /^\s*(\S+)\s+(.*)$/s.exec(pending)!;
    result.push({
      keyword: keyword.toUpperCase(),
      args: args.replace(/\s+/g, " ").trim(),
      commented,
    });
    pending = "";
    commented = false;
  }
  return result;
}

function stages(): Instruction[][] {
  const all: Instruction[][] = [];
  for (const instruction of instructions()) {
    if (instruction.keyword === "FROM") all.push([]);
    assert.ok(all.length > 0, `${instruction.keyword} before the first FROM`);
    all.at(-1)!.push(instruction);
  }
  return all;
}

/** Whether `.dockerignore` keeps `path` in the build context (last matching line wins). */
function inContext(path: string): boolean {
  let kept = true;
  for (const raw of Deno.readTextFileSync(`${ROOT}.dockerignore`).split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negated = line.startsWith("!");
    const pattern = (negated ? line.slice(1) : line).replace(/\/$/, "");
    const regex = new RegExp(
      "^" + pattern.replace(/[.+^${}()|[\]]/g, "\\$&").replace(/\*\*\//g, "(.*/)?")
        .replace(/(?<!\.)\*/g, "[^/]*") +
        "(/.*)?$",
    );
    if (regex.test(path)) kept = negated;
  }
  return kept;
}

/** Every file under `path` (or `path` itself), relative to the project root. */
function files(path: string): string[] {
  const full = `${ROOT}${path}`;
  if (Deno.statSync(full).isFile) return [path];
  return [...Deno.readDirSync(full)].flatMap((entry) =>
    files(`${path.replace(/\/$/, "")}/${entry.name}`)
  );
}

function ciDenoVersion(): string {
  const match = /^DENO_VERSION=(\S+)$/m.exec(Deno.readTextFileSync(`${ROOT}.ci/run`));
  assert.ok(match, ".ci/run pins DENO_VERSION");
  return match[1];
}

Deno.test("the Dockerfile compiles with the official Deno image of the version CI pins", () => {
  const [build] = stages();
  assert.equal(build[0].args, `denoland/deno:${ciDenoVersion()} AS build`);
  const runs = build.filter((instruction) => instruction.keyword === "RUN");
  assert.ok(runs.some((run) => run.args.includes("deno task compile")), "RUN deno task compile");
});

Deno.test("every file the Dockerfile copies exists and is in the build context", () => {
  let copied = 0;
  for (const instruction of instructions().filter((i) => i.keyword === "COPY")) {
    if (instruction.args.startsWith("--from=")) continue;
    const sources = instruction.args.split(" ").slice(0, -1);
    for (const source of sources) {
      for (const file of files(source.replace(/^\.\//, ""))) {
        if (file.endsWith("_test.ts")) continue;
        assert.ok(inContext(file), `${file} is left out by .dockerignore`);
        copied++;
      }
    }
  }
  assert.ok(copied > 0);
  // The build compiles main.ts: everything it imports is in the context.
  for (const file of ["main.ts", "deno.json", "deno.lock", "scripts/compile.ts"]) {
    assert.ok(inContext(file), file);
  }
  assert.ok(!inContext("src/settings/config_test.ts"), "tests stay out of the context");
  assert.ok(!inContext("README.md"));
});

Deno.test("the runtime image is distroless cc, non-root, exposes the metrics port and checks its health with the agent itself", () => {
  const runtime = stages().at(-1)!;
  const get = (keyword: string) =>
    runtime.filter((instruction) => instruction.keyword === keyword).map((i) => i.args);
  assert.match(runtime[0].args, /^gcr\.io\/distroless\/cc(-debian\d+)?:nonroot$/);
  // A number, not a name: Kubernetes' runAsNonRoot cannot check a name.
  assert.deepEqual(get("USER"), ["65532:65532"]);

  const env = get("ENV").join(" ");
  const listen = /METRICS_LISTEN=0\.0\.0\.0:(\d+)/.exec(env);
  assert.ok(listen, "METRICS_LISTEN=0.0.0.0:<port> in the image");
  assert.equal(Number(listen[1]), DEFAULT_METRICS_PORT);
  assert.deepEqual(get("EXPOSE"), [String(DEFAULT_METRICS_PORT)]);

  const [entrypoint] = get("ENTRYPOINT").map((args) => JSON.parse(args));
  assert.equal(entrypoint.length, 1);
  const [copy] = get("COPY");
  assert.ok(copy.endsWith(` ${entrypoint[0]}`), "the entrypoint is the copied executable");
  const [healthcheck] = get("HEALTHCHECK");
  const command = /CMD (\[.*\])$/.exec(healthcheck);
  assert.ok(command, "HEALTHCHECK CMD in exec form: the image has no shell");
  assert.deepEqual(JSON.parse(command[1]), [entrypoint[0], "healthcheck"]);
});

Deno.test("each Dockerfile stage says what it does in a comment", () => {
  for (const stage of stages()) assert.ok(stage[0].commented, `FROM ${stage[0].args}`);
});

Deno.test("the runtime image carries OCI labels of its source, revision and deno.json's version", () => {
  const runtime = stages().at(-1)!;
  const args = Object.fromEntries(
    runtime.filter((i) => i.keyword === "ARG").map((i) => i.args.split("=")),
  );
  assert.equal(args.VERSION, denoJson.version, "the default VERSION is deno.json's");
  assert.ok("REVISION" in args && "SOURCE" in args);
  const labels = runtime.filter((i) => i.keyword === "LABEL").map((i) => i.args).join(" ");
  for (
    const [label, value] of [["version", "$VERSION"], ["revision", "$REVISION"], [
      "source",
      "$SOURCE",
    ]]
  ) {
    assert.ok(labels.includes(`org.opencontainers.image.${label}="${value}"`), label);
  }
});

Deno.test("the runtime image's volume for files is owned by the agent's user", () => {
  const runtime = stages().at(-1)!;
  const volumes = runtime.filter((i) => i.keyword === "VOLUME").map((i) => JSON.parse(i.args));
  assert.deepEqual(volumes, [["/var/lib/ammp-agent"]]);
  const copy = runtime.find((i) => i.keyword === "COPY" && i.args.endsWith(" /var/lib/ammp-agent"));
  assert.ok(copy, "the volume's folder is copied into the image");
  assert.match(copy.args, /--chown=65532:65532/);
});

Deno.test("the README's container example keeps /metrics off other hosts' reach", () => {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const section = readme.slice(
    readme.indexOf("## In a container"),
    readme.indexOf("## Installing Deno"),
  );
  const runs = section.split("\n").filter((line) => line.includes("docker run"));
  assert.ok(runs.length > 0);
  for (const line of runs) {
    for (const publish of line.matchAll(/-p (\S+)/g)) {
      assert.match(publish[1], /^127\.0\.0\.1:/, `${line}: publish on loopback or give a token`);
    }
  }
  assert.match(section, /16 KiB/, "it says how Docker's json-file log splits long lines");
});
