/**
 * Reading the secrets: the password, the TLS client key and the metrics
 * token, from the file a setting names or, with the setting unset, from the
 * systemd credential of the same purpose under `$CREDENTIALS_DIRECTORY`.
 *
 * @module
 */

import { ConfigError } from "./config_error.ts";
import { SETTINGS } from "./settings.ts";

/**
 * The systemd credentials the agent reads under `$CREDENTIALS_DIRECTORY`,
 * by the setting each stands in for: with the setting unset, a credential
 * of that name that is there and not blank is used instead. The unit loads
 * them with `LoadCredential=`, and a `SetCredential=` of a line break
 * stands for one that is not given. So the files can stay root's own.
 */
export const CREDENTIALS: Readonly<Record<SecretSetting, string>> = Object.fromEntries(
  SETTINGS.filter((entry) => entry.credential !== undefined).map((
    entry,
  ) => [entry.name, entry.credential]),
) as Record<SecretSetting, string>;

/** A setting whose file may come as a systemd credential. */
export type SecretSetting = "MQTT_PASSWORD_FILE" | "MQTT_KEY_FILE" | "METRICS_TOKEN_FILE";

/** A secret's file as read: the setting it stands for, its path and text. */
export interface SecretFile {
  name: SecretSetting;
  path: string;
  text: string;
}

/** The password: `MQTT_PASSWORD`, else the file of `MQTT_PASSWORD_FILE` or its credential. */
export function readPassword(
  env: Record<string, string | undefined>,
  get: (name: string) => string | undefined,
  secretFile: (name: SecretSetting) => SecretFile | undefined,
): string | undefined {
  // Not trimmed: a password may legitimately start or end with spaces.
  const inline = env.MQTT_PASSWORD === "" ? undefined : env.MQTT_PASSWORD;
  if (inline !== undefined && get("MQTT_PASSWORD_FILE") !== undefined) {
    throw new ConfigError(
      "MQTT_PASSWORD_FILE",
      "Conflicting MQTT_PASSWORD_FILE and MQTT_PASSWORD: expected only one of them",
    );
  }
  if (inline !== undefined) return inline;
  const file = secretFile("MQTT_PASSWORD_FILE");
  if (file === undefined) return undefined;
  // Files written by editors and `echo` end in a newline that is not part of the secret.
  const password = file.text.replace(/\r?\n$/, "");
  if (password === "") {
    throw new ConfigError(file.name, `Invalid ${file.name} "${file.path}": the file is empty`);
  }
  return password;
}

// RFC 6750 b64token: what an Authorization: Bearer header can carry.
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MIN_TOKEN_LENGTH = 16;

/** Reads a secret's file: the setting's path, else the systemd credential. */
export function secretReader(
  get: (name: string) => string | undefined,
  readTextFile: (path: string) => string,
): (name: SecretSetting) => SecretFile | undefined {
  return (name) => {
    const path = get(name);
    if (path !== undefined) {
      try {
        return { name, path, text: readTextFile(path) };
      } catch (error) {
        throw new ConfigError(name, `Cannot read ${name} "${path}": ${fileProblem(error)}`);
      }
    }
    const credentials = get("CREDENTIALS_DIRECTORY");
    if (credentials === undefined) return undefined;
    const credential = `${credentials}/${CREDENTIALS[name]}`;
    let text: string;
    try {
      text = readTextFile(credential);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new ConfigError(
        name,
        `Cannot read the credential ${CREDENTIALS[name]} "${credential}" (for ${name}): ${
          fileProblem(error)
        }`,
      );
    }
    // Blank stands for not given: the unit's SetCredential= default.
    return text.trim() === "" ? undefined : { name, path: credential, text };
  };
}

/** The bearer token of `METRICS_TOKEN_FILE`, checked. */
export function readToken(file: SecretFile): string {
  // Prometheus trims the credentials file as well, so a trailing newline is not part of it.
  const token = file.text.trim();
  if (token.length < MIN_TOKEN_LENGTH || !TOKEN.test(token)) {
    throw new ConfigError(
      "METRICS_TOKEN_FILE",
      `Invalid METRICS_TOKEN_FILE "${file.path}": expected one token of at least ${MIN_TOKEN_LENGTH} letters, digits or -._~+/ (e.g. from openssl rand -hex 32)`,
    );
  }
  return token;
}

/** Reads a PEM file a setting names. */
export function readPem(
  name: string,
  path: string,
  readFile: (name: string, path: string) => string,
): string {
  return checkPem({ name, path, text: readFile(name, path) });
}

/** The text of a PEM file, or a {@linkcode ConfigError} when it is not one. */
export function checkPem(file: { name: string; path: string; text: string }): string {
  if (!file.text.includes("-----BEGIN ")) {
    throw new ConfigError(
      file.name,
      `Invalid ${file.name} "${file.path}": expected a PEM file (-----BEGIN ...)`,
    );
  }
  return file.text;
}

/** Throws a {@linkcode ConfigError} unless the file a setting names can be appended to. */
export function checkWritable(name: string, path: string): void {
  try {
    Deno.openSync(path, { append: true, create: true }).close();
  } catch (error) {
    // Deno opens devices only with every permission, which the agent never
    // holds; stdout and stderr are the defaults already.
    const device = error instanceof Deno.errors.NotCapable && path.startsWith("/dev/")
      ? `, as every device; leave ${name} unset to write to ${
        name === "OUTPUT_FILE" ? "stdout" : "stderr"
      }`
      : "";
    throw new ConfigError(name, `Cannot write ${name} "${path}": ${fileProblem(error)}${device}`);
  }
}

/** Why a file cannot be used, in a few words. */
export function fileProblem(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "file not found";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) return "not allowed by the agent's permissions";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  return (error as Error).message;
}
