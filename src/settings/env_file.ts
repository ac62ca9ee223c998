/**
 * Environment files for `--env-file`, read the way systemd reads an
 * `EnvironmentFile=` (systemd 252, `parse_env_file_internal()` in
 * src/basic/env-file.c), so that one file means the same under both:
 *
 * - `#` or `;` starts a comment only at the start of a line, after any
 *   blanks; elsewhere it is part of the value (`MQTT_TOPICS=a/#`).
 * - Blanks around the name and the value are dropped, not those inside.
 * - `'...'` keeps everything as it is, line breaks too. `"..."` does as
 *   well, except that `\"`, `\\`, `` \` `` and `\$` stand for the character
 *   and `\` before a line break joins the lines; another `\x` stays `\x`.
 * - Unquoted, `\x` stands for `x`, and `\` at the end of a line joins it
 *   with the next one.
 * - Quoted and unquoted parts next to each other make one value; a later
 *   line for the same name wins. No `$VAR` is expanded, no `export`.
 *
 * Where systemd would drop a line with no more than a warning in its
 * journal, or where its versions disagree, the agent stops instead with
 * one line that names the file and the line: a byte order mark (systemd
 * reads it as part of the first name), a name that is not one (`export X`),
 * a line without `=`, a comment that ends in `\` (continued onto the next
 * line before systemd 254, not since), a quote never closed, a NUL byte
 * (where systemd stops reading), and text that is not UTF-8.
 *
 * @module
 */

/**
 * Reads an environment file. Throws an `Error` naming the file, and the
 * line where it can, when it cannot be read or read as systemd would.
 */
export function readEnvFile(path: string): Record<string, string> {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    const problem = error instanceof Deno.errors.NotFound
      ? "file not found"
      : error instanceof Deno.errors.NotCapable
      ? "not allowed by the agent's permissions"
      : (error as Error).message;
    throw new Error(`Cannot read --env-file "${path}": ${problem}`);
  }
  let text: string;
  try {
    // ignoreBOM keeps a byte order mark in the text, for parseEnvFile to refuse.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new Error(`Invalid --env-file "${path}": expected UTF-8 text`);
  }
  try {
    return parseEnvFile(text);
  } catch (error) {
    throw new Error(`Invalid --env-file "${path}" ${(error as Error).message}`);
  }
}

/**
 * Parses the text of an environment file as systemd does (see the module
 * documentation). Throws an `Error` whose message starts with `line N:` for
 * what systemd would drop or read differently across its versions.
 */
export function parseEnvFile(text: string): Record<string, string> {
  if (text.startsWith("\ufeff")) {
    throw new Error(
      "line 1: it starts with a byte order mark, which systemd reads as part of the first name; save the file as UTF-8 without one",
    );
  }
  const nul = text.indexOf("\0");
  if (nul !== -1) {
    // systemd stops reading at the first NUL.
    throw new Error(`line ${text.slice(0, nul).split("\n").length}: expected text, not a NUL byte`);
  }
  const env: Record<string, string> = {};
  let state: State = "preKey";
  let key = "";
  let value = "";
  // Where the blanks at the end of an unquoted value start, or -1.
  let trailing = -1;
  let line = 1;
  let valueLine = 1;
  const fail = (at: number, problem: string): never => {
    throw new Error(`line ${at}: ${problem}`);
  };
  const push = () => {
    const name = key.replace(/[ \t\n\r]+$/, "");
    if (!NAME.test(name)) {
      fail(
        valueLine,
        `"${name}" is not a variable name, expected letters, digits and _ (no "export")`,
      );
    }
    env[name] = state === "value" && trailing !== -1 ? value.slice(0, trailing) : value;
    key = "";
    value = "";
  };

  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const newline = c === "\n" || c === "\r";
    switch (state) {
      case "preKey":
        if (c === "#" || c === ";") state = "comment";
        else if (!BLANK.includes(c)) {
          state = "key";
          key = c;
          valueLine = line;
        }
        break;
      case "key":
        if (newline) fail(line, `expected NAME=value, not "${key.trim()}"`);
        else if (c === "=") {
          state = "preValue";
          trailing = -1;
        } else key += c;
        break;
      case "preValue":
        if (newline) {
          push();
          state = "preKey";
        } else if (c === "'") state = "singleQuoted";
        else if (c === '"') state = "doubleQuoted";
        else if (c === "\\") state = "escaped";
        else if (c !== " " && c !== "\t") {
          state = "value";
          value += c;
        }
        break;
      case "value":
        if (newline) {
          push();
          state = "preKey";
        } else if (c === "\\") {
          state = "escaped";
          trailing = -1;
        } else {
          if (!BLANK.includes(c)) trailing = -1;
          else if (trailing === -1) trailing = value.length;
          value += c;
        }
        break;
      case "escaped":
        state = "value";
        if (!newline) value += c;
        break;
      case "singleQuoted":
        if (c === "'") state = "preValue";
        else value += c;
        break;
      case "doubleQuoted":
        if (c === '"') state = "preValue";
        else if (c === "\\") state = "doubleQuotedEscaped";
        else value += c;
        break;
      case "doubleQuotedEscaped":
        state = "doubleQuoted";
        if ('"\\`$'.includes(c)) value += c;
        else if (c !== "\n") value += `\\${c}`;
        break;
      case "comment":
        // "\" takes the next character along: a line break too before systemd 254.
        if (c === "\\") {
          if (text[i + 1] === "\n" || text[i + 1] === "\r") {
            fail(
              line,
              'a comment ends in "\\", which systemd before 254 reads as going on in the next line; remove the "\\"',
            );
          }
          i++;
        } else if (newline) state = "preKey";
        break;
    }
    if (c === "\n") line++;
  }

  if (state === "key") fail(valueLine, `expected NAME=value, not "${key.trim()}"`);
  if (state === "singleQuoted" || state === "doubleQuoted" || state === "doubleQuotedEscaped") {
    fail(valueLine, `the quote in the value of ${key.trim()} is not closed`);
  }
  if (state !== "preKey" && state !== "comment") push();
  return env;
}

type State =
  | "preKey"
  | "key"
  | "preValue"
  | "value"
  | "escaped"
  | "singleQuoted"
  | "doubleQuoted"
  | "doubleQuotedEscaped"
  | "comment";

// systemd's WHITESPACE: blanks and line breaks.
const BLANK = " \t\n\r";
// env_name_is_valid(): what systemd passes on as a variable.
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
