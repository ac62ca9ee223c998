/**
 * Loading the sections of the configuration a command uses, the way every
 * command reports a bad setting: one line naming it, then exit code 2.
 *
 * @module
 */

import {
  ConfigError,
  ENV_VARS,
  type LoadConfigOptions,
  loadSections,
  type Sections,
} from "../settings/load_config.ts";
import { readEnvFile } from "../settings/env_file.ts";

/** The environment a command reads its settings from. */
export type Env = Record<string, string | undefined>;

/**
 * The named sections of the configuration, or undefined once the line
 * naming the bad setting is printed on stderr.
 */
export function sectionsFrom<S extends keyof Sections>(
  env: Env,
  names: readonly S[],
  options: LoadConfigOptions = {},
): { [K in S]: Sections[K] } | undefined {
  return configFrom(() => loadSections(env, names, options));
}

/** What `load` returns, or undefined once the line naming the bad setting is printed. */
export function configFrom<T>(load: () => T): T | undefined {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return undefined;
    }
    throw error;
  }
}

/**
 * The settings from `--env-file` (when given) and the environment, which
 * wins over the file; undefined once the line saying why the file cannot be
 * read is printed.
 */
export function readEnvironment(envFile: string | undefined): Env | undefined {
  let env: Env;
  try {
    env = envFile === undefined ? {} : readEnvFile(envFile);
  } catch (error) {
    console.error((error as Error).message);
    return undefined;
  }
  for (const name of ENV_VARS) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}
