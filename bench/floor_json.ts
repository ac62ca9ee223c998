/**
 * How the floor of the benchmark reads a payload: `JSON.parse`, and where
 * that fails on Python's bare `NaN`, `Infinity` or `-Infinity`, the same
 * repair the agent makes: those tokens outside strings become `null`, and
 * the text is parsed again. Without it the floor could not read every
 * payload of the realistic mix; with it, it pays for them what the agent's
 * parse path pays. The agent never uses this file.
 *
 * @module
 */

const TOKENS = ["NaN", "Infinity", "-Infinity"];
const STARTS = TOKENS.map((token) => token.charCodeAt(0));

/**
 * `JSON.parse`, retried once with the non-finite tokens read as `null`.
 *
 * @throws {SyntaxError} where the text is not JSON even so.
 */
export function floorParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const repaired = replaceNonFinite(text);
    if (repaired === text) throw error;
    return JSON.parse(repaired);
  }
}

/** `text` with the bare non-finite tokens outside strings replaced by `null`. */
export function replaceNonFinite(text: string): string {
  let out = "";
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (!STARTS.includes(c)) continue;
    for (const token of TOKENS) {
      if (!text.startsWith(token, i)) continue;
      out += text.slice(from, i) + "null";
      i += token.length - 1;
      from = i + 1;
      break;
    }
  }
  return out + text.slice(from);
}
