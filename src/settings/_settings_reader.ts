/**
 * Reading one environment as the table of settings declares it: trimmed
 * values, choices, whole numbers within range, files.
 *
 * @module
 */

import type { LoadConfigOptions } from "./config.ts";
import { ConfigError } from "./config_error.ts";
import { fileProblem, type SecretFile, secretReader, type SecretSetting } from "./_credentials.ts";
import { setting } from "./settings.ts";

/** The values of one environment, read as the table of settings declares them. */
export class SettingsReader {
  /** The environment as given. */
  readonly env: Record<string, string | undefined>;
  /** The options it is read with. */
  readonly options: LoadConfigOptions;
  /** Reads a file as text. */
  readonly readTextFile: (path: string) => string;

  /** Reads `env` with `options`. */
  constructor(env: Record<string, string | undefined>, options: LoadConfigOptions) {
    this.env = env;
    this.options = options;
    this.readTextFile = options.readTextFile ?? ((path) => Deno.readTextFileSync(path));
  }

  /** The value of `name`, trimmed; blank reads as unset. */
  get = (name: string): string | undefined => {
    const value = this.env[name]?.trim();
    return value === "" ? undefined : value;
  };

  /** The value of `name`, else its default. */
  text(name: string): string {
    return this.get(name) ?? String(setting(name).default);
  }

  /** The value of `name`, one of its choices; else `fallback` or its default. */
  choice(name: string, fallback?: string, value = this.get(name)): string {
    const { choices, default: byDefault } = setting(name);
    if (value === undefined) return fallback ?? String(byDefault);
    if (!choices!.includes(value)) {
      throw new ConfigError(
        name,
        `Invalid ${name} "${value}": expected one of ${choices!.join(", ")}`,
      );
    }
    return value;
  }

  /** The value of `name`, a whole number within its range; else its default. */
  integer(name: string): number {
    const { integer: range, default: byDefault } = setting(name);
    const value = this.get(name);
    if (value === undefined) return byDefault as number;
    const number = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(number) || number < range!.min || number > range!.max) {
      throw new ConfigError(
        name,
        `Invalid ${name} "${value}": expected a whole number from ${range!.min} to ${range!.max}`,
      );
    }
    return number;
  }

  /** The text of the file at `path`, which setting `name` names. */
  readFile = (name: string, path: string): string => {
    try {
      return this.readTextFile(path);
    } catch (error) {
      throw new ConfigError(name, `Cannot read ${name} "${path}": ${fileProblem(error)}`);
    }
  };

  /** The secret's file of setting `name`, or its credential. */
  secretFile = (name: SecretSetting): SecretFile | undefined =>
    secretReader(this.get, this.readTextFile)(name);
}
