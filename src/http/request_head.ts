/**
 * The head of an HTTP/1.x request: the request line and the header fields
 * up to the blank line (RFC 9112), read from bytes. Enough for an endpoint
 * that takes no request bodies; anything it cannot read surely becomes a
 * status to answer with.
 *
 * @module
 */

/** A request head that was read. */
export interface RequestHead {
  method: string;
  /** The request target in origin form: a path starting with `/`, and a query. */
  target: string;
  version: "HTTP/1.0" | "HTTP/1.1";
  headers: Headers;
}

/** A request head that cannot be read, and the status to answer it with. */
export interface BadRequestHead {
  status: 400 | 505;
  /** What is wrong, for the answer's body. */
  problem: string;
}

/**
 * The index just past the blank line that ends the head in `bytes`, or -1
 * while it has not come yet. Lines end in CRLF, or in a bare LF, which RFC
 * 9112 allows a server to take. Searching from `from` lets a caller that
 * reads in chunks look only at the new bytes (and the three before them).
 */
export function findHeadEnd(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(1, from); i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    if (bytes[i - 1] === LF) return i + 1;
    if (bytes[i - 1] === CR && i >= 2 && bytes[i - 2] === LF) return i + 1;
  }
  return -1;
}

/** Reads a complete head, the bytes up to {@linkcode findHeadEnd}. */
export function parseRequestHead(bytes: Uint8Array): RequestHead | BadRequestHead {
  // Field values may hold any octet but controls; latin1 keeps each one as it is.
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  const lines = text.split("\n").map((line) => line.endsWith("\r") ? line.slice(0, -1) : line);
  while (lines.at(-1) === "") lines.pop();

  const parts = (lines[0] ?? "").split(" ");
  if (parts.length !== 3 || !TOKEN.test(parts[0]) || !ORIGIN_FORM.test(parts[1])) {
    return { status: 400, problem: "expected a request line such as GET /metrics HTTP/1.1" };
  }
  const [method, target, version] = parts;
  if (version !== "HTTP/1.0" && version !== "HTTP/1.1") {
    return /^HTTP\/\d(\.\d)?$/.test(version)
      ? { status: 505, problem: `${version} is not supported, expected HTTP/1.1` }
      : { status: 400, problem: `expected HTTP/1.1, not "${version}"` };
  }

  const headers = new Headers();
  for (const line of lines.slice(1)) {
    // No folded lines (obs-fold), no space before the colon: RFC 9112 5.1, 5.2.
    const field = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (field === null) return { status: 400, problem: "expected header fields as Name: value" };
    try {
      headers.append(field[1], field[2]);
    } catch {
      return { status: 400, problem: `header field ${field[1]} holds a character not allowed` };
    }
  }
  if (version === "HTTP/1.1" && !headers.has("host")) {
    return { status: 400, problem: "an HTTP/1.1 request needs a Host header field" };
  }
  return { method, target, version, headers };
}

const CR = 13;
const LF = 10;
// RFC 9110 5.6.2.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// A path and an optional query of visible ASCII; no absolute or authority form.
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;
