/**
 * A corpus of data payloads written by hand, one small case for each kind
 * of text that dataloggers send or that the contract names: raw and
 * escaped text beyond ASCII, malformed UTF-8, `\u` escapes, Python's
 * non-finite tokens and separators, vendor ids that are missing or
 * repeated, readings and status entries that are left out, keys that look
 * like integers, integers of any length and spelling, times at the edges,
 * payloads up to the largest the agent takes by default, and the dead
 * letters around them. Each case says what the contract makes of it: a
 * record (its line, where short enough to write out, and the skips it
 * counts), a dead letter and its reason, or an ignored topic.
 *
 * The transform's paths are held to one another on this corpus
 * (`src/transform/record_bytes_corpus_test.ts`).
 *
 * @module
 */

import type { SkipReason } from "../../src/transform/device_walk.ts";
import { type DeadLetterReason, DEFAULT_MAX_PAYLOAD_BYTES } from "../../src/transform/payload.ts";

/** One payload of the corpus and what the contract makes of it. */
export interface CorpusCase {
  /** What sets the case apart, as a noun phrase: `a payload with a 64-bit counter`. */
  name: string;
  topic: string;
  payload: Uint8Array;
  /** The options the transform is called with. */
  options: { nodeId?: string; maxPayloadBytes?: number };
  /** `record`, `dead` or `ignored`. */
  kind: "record" | "dead" | "ignored";
  /** A dead letter's reason. */
  reason?: DeadLetterReason;
  /** A record's line, where it is written out here. */
  line?: string;
  /** The skips a record counts, in order, where the case states them. */
  skips?: SkipReason[];
}

/** The topic of the corpus's payloads, unless a case names its own. */
export const CORPUS_TOPIC = "a/b827eb000001/u/data";

const encoder = new TextEncoder();

interface More {
  topic?: string;
  options?: CorpusCase["options"];
}

// The line of a record of t = 1709288100 on the corpus's topic.
function line(data: string, status?: string): string {
  return `{"node_id":"b827eb000001","time":"2024-03-01T10:15:00+00:00","data":${data}${
    status === undefined ? "" : `,"status":${status}`
  }}`;
}

// A payload of t = 1709288100 with the devices `r`.
function devices(r: string): string {
  return `{"t":1709288100,"r":[${r}]}`;
}

// Bytes from text (as UTF-8) and single bytes, for what text cannot hold.
function bytesOf(...parts: (string | number[])[]): Uint8Array {
  const chunks = parts.map((part) => typeof part === "string" ? encoder.encode(part) : part);
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function payloadOf(payload: string | Uint8Array): Uint8Array {
  return typeof payload === "string" ? encoder.encode(payload) : payload;
}

function record(
  what: string,
  payload: string | Uint8Array,
  expected: string | undefined,
  skips: SkipReason[] = [],
  more: More = {},
): CorpusCase {
  return {
    name: `a payload with ${what}`,
    topic: more.topic ?? CORPUS_TOPIC,
    payload: payloadOf(payload),
    options: more.options ?? {},
    kind: "record",
    line: expected,
    skips,
  };
}

function dead(
  what: string,
  payload: string | Uint8Array,
  reason: DeadLetterReason,
  more: More = {},
): CorpusCase {
  return {
    name: `a payload with ${what}`,
    topic: more.topic ?? CORPUS_TOPIC,
    payload: payloadOf(payload),
    options: more.options ?? {},
    kind: "dead",
    reason,
    skips: [],
  };
}

// ---------------------------------------------------------------------------
// Raw UTF-8: 2-, 3- and 4-byte characters wherever a payload has text.

const RAW_UTF8: CorpusCase[] = [
  record(
    "raw 2-byte UTF-8 in a vendor id",
    devices(`{"_vid":"Zähler-1","P":1}`),
    line(`{"Zähler-1":{"P":1}}`),
  ),
  record(
    "raw 3-byte UTF-8 in a vendor id",
    devices(`{"_vid":"逆变器-1","P":1}`),
    line(`{"逆变器-1":{"P":1}}`),
  ),
  record(
    "raw 4-byte UTF-8 in a vendor id",
    devices(`{"_vid":"🔋-1","soc":71.2}`),
    line(`{"🔋-1":{"soc":71.2}}`),
  ),
  record(
    "raw 2-, 3- and 4-byte UTF-8 in keys",
    devices(`{"_vid":"m","Zählerstand":5,"P_€":1,"𝔼_total":2,"T_°C":21.5}`),
    line(`{"m":{"Zählerstand":5,"P_€":1,"𝔼_total":2,"T_°C":21.5}}`),
  ),
  record(
    "raw 2-, 3- and 4-byte UTF-8 in values",
    devices(`{"_vid":"m","unit":"°C","state":"Störung — ⚠","mood":"😀"}`),
    line(`{"m":{"unit":"°C","state":"Störung — ⚠","mood":"😀"}}`),
  ),
  record(
    "raw UTF-8 in a status entry",
    devices(`{"_vid":"m","_s":[{"c":"Störung ⚡ 🔥","l":3,"Gerät":"WR-Süd"}]}`),
    line(`{"m":{}}`, `{"m":[{"c":"Störung ⚡ 🔥","l":3,"Gerät":"WR-Süd"}]}`),
  ),
  record(
    "raw UTF-8 in _d",
    devices(`{"_d":"zähler_⚡_🔌","_vid":"m","P":1}`),
    line(`{"m":{"P":1}}`),
  ),
  record(
    "raw UTF-8 in m",
    `{"t":1709288100,"r":[{"_vid":"m","P":1}],"m":{"ort":"Zürich","note":"€ 🌍"}}`,
    line(`{"m":{"P":1}}`),
  ),
  record(
    "the first and last character of each UTF-8 length, raw",
    devices(`{"_vid":"m","a":"\u0080\u07ff","b":"\u0800\uffff","c":"\u{10000}\u{10ffff}"}`),
    line(`{"m":{"a":"\u0080\u07ff","b":"\u0800\uffff","c":"\u{10000}\u{10ffff}"}}`),
  ),
  record(
    "a raw DEL, U+2028, U+2029, U+FEFF and U+FFFD in a value",
    devices(`{"_vid":"m","s":"a\u007fb\u2028c\u2029d\ufeffe\ufffd"}`),
    line(`{"m":{"s":"a\u007fb\u2028c\u2029d\ufeffe\ufffd"}}`),
  ),
  record(
    "a byte order mark in front",
    `\ufeff${devices(`{"_vid":"m","P":1}`)}`,
    line(`{"m":{"P":1}}`),
  ),
  record(
    "raw UTF-8 in the topic's node id",
    devices(`{"_vid":"m","P":1}`),
    `{"node_id":"zürich-€","time":"2024-03-01T10:15:00+00:00","data":{"m":{"P":1}}}`,
    [],
    { topic: "a/zürich-€/u/data" },
  ),
  record(
    "a quote, a backslash and a tab in the topic's node id",
    devices(`{"_vid":"m","P":1}`),
    String
      .raw`{"node_id":"we\"ird\\no\tde","time":"2024-03-01T10:15:00+00:00","data":{"m":{"P":1}}}`,
    [],
    { topic: 'a/we"ird\\no\tde/u/data' },
  ),
];

// ---------------------------------------------------------------------------
// Malformed UTF-8: a dead letter wherever it is, even where the record
// would not keep the text.

const MALFORMED: [what: string, bytes: number[], where: string][] = [
  ["an overlong 2-byte sequence in a value", [0xc0, 0xaf], "value"],
  ["an overlong 3-byte sequence in a key", [0xe0, 0x80, 0xaf], "key"],
  ["an overlong 4-byte sequence in _d", [0xf0, 0x80, 0x80, 0xaf], "_d"],
  ["a lone continuation byte in m", [0x80], "m"],
  ["a lone continuation byte in a vendor id", [0xbf], "vid"],
  ["a 2-byte sequence cut short in a value", [0xc3], "value"],
  ["a 3-byte sequence cut short in a value", [0xe2, 0x82], "value"],
  ["a 4-byte sequence cut short in a key", [0xf0, 0x9f, 0x94], "key"],
  ["a high surrogate encoded in UTF-8 in a value", [0xed, 0xa0, 0x80], "value"],
  ["a low surrogate encoded in UTF-8 in a vendor id", [0xed, 0xbf, 0xbf], "vid"],
  ["a surrogate pair encoded in UTF-8 (CESU-8) in a value", [
    0xed,
    0xa0,
    0xbd,
    0xed,
    0xb8,
    0x80,
  ], "value"],
  ["a code point beyond U+10FFFF in a value", [0xf4, 0x90, 0x80, 0x80], "value"],
  ["the bytes F5, FE and FF in a status entry", [0xf5, 0xfe, 0xff], "status"],
  ["a malformed byte between tokens", [0xa0], "space"],
];

const NOT_UTF8: CorpusCase[] = MALFORMED.map(([what, b, where]) => {
  switch (where) {
    case "value":
      return dead(what, bytesOf(`{"t":1709288100,"r":[{"_vid":"m","s":"a`, b, `z"}]}`), "not_utf8");
    case "key":
      return dead(what, bytesOf(`{"t":1709288100,"r":[{"_vid":"m","a`, b, `z":1}]}`), "not_utf8");
    case "vid":
      return dead(what, bytesOf(`{"t":1709288100,"r":[{"_vid":"m`, b, `","P":1}]}`), "not_utf8");
    case "_d":
      return dead(what, bytesOf(`{"t":1709288100,"r":[{"_d":"d`, b, `","_vid":"m"}]}`), "not_utf8");
    case "m":
      return dead(what, bytesOf(`{"t":1709288100,"r":[],"m":{"ort":"Z`, b, `rich"}}`), "not_utf8");
    case "status":
      return dead(
        what,
        bytesOf(`{"t":1709288100,"r":[{"_vid":"m","_s":[{"c":"`, b, `"}]}]}`),
        "not_utf8",
      );
    default:
      return dead(what, bytesOf(`{"t":1709288100,`, b, `"r":[]}`), "not_utf8");
  }
}).concat([
  dead(
    "a 3-byte sequence cut short by the payload's end",
    bytesOf(`{"t":1709288100,"r":[]}`, [0xe2, 0x82]),
    "not_utf8",
  ),
]);

// ---------------------------------------------------------------------------
// `\u` escapes and the other escapes of JSON strings, in keys, vendor ids,
// values and status entries. JSON.stringify writes every character raw but
// `"`, `\`, controls (`\b`, `\f`, `\n`, `\r`, `\t`, else `\u00xx`) and lone
// surrogates (`\udxxx`).

const ESCAPES: CorpusCase[] = [
  record(
    "a \\u-escaped vendor id",
    devices(String.raw`{"_vid":"Z\u00e4hler-1","P":1}`),
    line(`{"Zähler-1":{"P":1}}`),
  ),
  record(
    "a surrogate pair escaped in a vendor id",
    devices(String.raw`{"_vid":"\ud83d\udd0b-1","P":1}`),
    line(`{"🔋-1":{"P":1}}`),
  ),
  record(
    "\\u-escaped keys, as Python writes them",
    devices(
      String.raw`{"_vid":"m","Z\u00e4hlerstand":5,"T_\u00b0C":21.5,"P_\u20AC":1,"\ud835\udd3c":2}`,
    ),
    line(`{"m":{"Zählerstand":5,"T_°C":21.5,"P_€":1,"𝔼":2}}`),
  ),
  record(
    "\\u-escaped values, in lower and upper case",
    devices(String.raw`{"_vid":"m","a":"\u00b0C","b":"\u00B0C","c":"\u20ac","d":"\ud83d\ude00"}`),
    line(`{"m":{"a":"°C","b":"°C","c":"€","d":"😀"}}`),
  ),
  record(
    "lone and reversed surrogates in values",
    devices(
      String
        .raw`{"_vid":"m","hi":"\ud800","lo":"\udfff","rev":"\ude00\ud83d","cut":"\ud83dx","end":"x\udbff"}`,
    ),
    line(
      String
        .raw`{"m":{"hi":"\ud800","lo":"\udfff","rev":"\ude00\ud83d","cut":"\ud83dx","end":"x\udbff"}}`,
    ),
  ),
  record(
    "a lone surrogate in a key and in a vendor id",
    devices(String.raw`{"_vid":"v\udc00","k\ud800":1}`),
    line(String.raw`{"v\udc00":{"k\ud800":1}}`),
  ),
  record(
    "\\u0000 in a value, a key and a vendor id",
    devices(String.raw`{"_vid":"v\u0000","k\u0000":"a\u0000b"}`),
    line(String.raw`{"v\u0000":{"k\u0000":"a\u0000b"}}`),
  ),
  record(
    '\\", \\\\ and \\/ in a value, a key and a vendor id',
    devices(String.raw`{"_vid":"a\"b\\c\/d","k\"\\\/":"x\"y\\z\/w"}`),
    line(String.raw`{"a\"b\\c/d":{"k\"\\/":"x\"y\\z/w"}}`),
  ),
  record(
    "every short escape and control characters as \\u escapes",
    devices(
      String.raw`{"_vid":"m","s":"\b\f\n\r\t","u":"\u0008\u000c\u000A\u001f\u0007\u007f\u2028"}`,
    ),
    line(String.raw`{"m":{"s":"\b\f\n\r\t","u":"\b\f\n\u001f\u0007` + "\u007f\u2028" + `"}}`),
  ),
  record(
    "escapes in a status entry's keys and text",
    devices(
      String.raw`{"_vid":"m","_s":[{"\u0063":"St\u00f6rung\n\/","l":3,"\u00e4":"\ud83d\udd25"}]}`,
    ),
    line(`{"m":{}}`, String.raw`{"m":[{"c":"Störung\n/","l":3,"ä":"🔥"}]}`),
  ),
  record(
    "an escaped _vid, _s and _d key",
    devices(String.raw`{"\u005fd":"drv","\u005fvid":"m","P":1,"\u005fs":[{"c":"x","l":1}]}`),
    line(`{"m":{"P":1}}`, `{"m":[{"c":"x","l":1}]}`),
  ),
  record(
    "escaped t and r keys",
    String.raw`{"\u0074":1709288100,"\u0072":[{"_vid":"m","P":1}]}`,
    line(`{"m":{"P":1}}`),
  ),
  record(
    "an escaped underscore that makes a key no reading",
    devices(String.raw`{"_vid":"m","\u005fhidden":1,"P":2}`),
    line(`{"m":{"P":2}}`),
  ),
];

// ---------------------------------------------------------------------------
// Keys that are the same once their escapes are read: the later value
// wins, in the first one's place.

const SAME_KEYS: CorpusCase[] = [
  record(
    "a key and its escaped spelling",
    devices(String.raw`{"_vid":"m","P":1,"\u0050":2}`),
    line(`{"m":{"P":2}}`),
  ),
  record(
    "an escaped key first and its plain spelling later",
    devices(String.raw`{"_vid":"m","\u0050":1,"Q":0,"P":2}`),
    line(`{"m":{"P":2,"Q":0}}`),
  ),
  record(
    "a raw non-ASCII key and its escaped spelling",
    devices(String.raw`{"_vid":"m","Zähler":1,"Z\u00e4hler":2}`),
    line(`{"m":{"Zähler":2}}`),
  ),
  record(
    "two devices whose vendor ids differ only by escape",
    devices(String.raw`{"_vid":"inv","P":1},{"_vid":"\u0069nv","Q":2}`),
    line(`{"inv":{"P":1,"Q":2}}`),
  ),
  record(
    "a raw non-ASCII vendor id and its escaped spelling, with status",
    devices(
      String.raw`{"_vid":"Zähler","P":1,"_s":[1]},{"_vid":"Z\u00e4hler","Q":2,"_s":[2]},` +
        String.raw`{"_vid":"🔋","a":1},{"_vid":"\ud83d\udd0b","a":2}`,
    ),
    line(`{"Zähler":{"P":1,"Q":2},"🔋":{"a":2}}`, `{"Zähler":[1,2]}`),
  ),
  record(
    "an escaped integer-like vendor id and its plain spelling",
    devices(String.raw`{"_vid":"x","P":0},{"_vid":"\u0031","P":1},{"_vid":"1","Q":2}`),
    line(`{"1":{"P":1,"Q":2},"x":{"P":0}}`),
  ),
  record(
    "_vid and its escaped spelling in one device",
    devices(String.raw`{"_vid":"a","\u005fvid":"b","P":1}`),
    line(`{"b":{"P":1}}`),
  ),
  record(
    "t and its escaped spelling",
    String.raw`{"t":0,"r":[],"\u0074":1709288100}`,
    line(`{}`),
  ),
  record(
    "a status entry's key and its escaped spelling",
    devices(String.raw`{"_vid":"m","_s":[{"c":"x","\u0063":"y","l":1}]}`),
    line(`{"m":{}}`, `{"m":[{"c":"y","l":1}]}`),
  ),
];

// ---------------------------------------------------------------------------
// Python's bare NaN, Infinity and -Infinity: read as null wherever they
// are, untouched inside strings, and no token beyond those three.

const NON_FINITE: CorpusCase[] = [
  record(
    "NaN, Infinity and -Infinity as readings",
    devices(`{"_vid":"m","a":NaN,"b":Infinity,"c":-Infinity,"d":1}`),
    line(`{"m":{"d":1}}`),
  ),
  record(
    "NaN after Python's separators",
    `{"t": 1709288100, "r": [{"_vid": "m", "eff": NaN, "P": 230.0}]}`,
    line(`{"m":{"P":230}}`),
  ),
  record(
    "NaN, Infinity and -Infinity inside status entries",
    devices(`{"_vid":"m","_s":[{"c":"x","v":NaN,"w":[Infinity,-Infinity]},NaN]}`),
    line(`{"m":{}}`, `{"m":[{"c":"x","v":null,"w":[null,null]},null]}`),
  ),
  record(
    "NaN, Infinity and -Infinity inside strings and as a key",
    devices(`{"_vid":"NaN","s":"NaN","u":"-Infinity","k":"Infinity is NaN","NaN":1}`),
    line(`{"NaN":{"s":"NaN","u":"-Infinity","k":"Infinity is NaN","NaN":1}}`),
  ),
  record(
    "NaN as a vendor id",
    devices(`{"_vid":NaN,"P":1},{"_vid":"m","P":2}`),
    line(`{"m":{"P":2}}`),
    ["missing_vid"],
  ),
  record("NaN as _s", devices(`{"_vid":"m","_s":NaN,"P":1}`), line(`{"m":{"P":1}}`)),
  record(
    "NaN, Infinity and -Infinity in m and _d",
    `{"t":1709288100,"r":[{"_d":NaN,"_vid":"m"}],"m":{"a":NaN,"b":[Infinity,-Infinity]}}`,
    line(`{"m":{}}`),
  ),
  dead("NaN as t", `{"t":NaN,"r":[]}`, "invalid_t"),
  dead("Infinity as t", `{"t":Infinity,"r":[]}`, "invalid_t"),
  dead("-Infinity as t", `{"t":-Infinity,"r":[]}`, "invalid_t"),
  dead("NaN as r", `{"t":1709288100,"r":NaN}`, "invalid_r"),
  dead("a lowercase nan", devices(`{"_vid":"m","a":nan}`), "not_json"),
  dead("-NaN", devices(`{"_vid":"m","a":-NaN}`), "not_json"),
  dead("+Infinity", devices(`{"_vid":"m","a":+Infinity}`), "not_json"),
  dead("Infinity cut short", devices(`{"_vid":"m","a":Infinit}`), "not_json"),
  dead("NaN run into a letter", devices(`{"_vid":"m","a":NaNa}`), "not_json"),
  dead("NaN as a key", devices(`{"_vid":"m",NaN:1}`), "not_json"),
];

// ---------------------------------------------------------------------------
// Devices without a usable vendor id, and devices that are no objects.

const NO_VID: CorpusCase[] = [
  record(
    "a device without _vid",
    devices(`{"_d":"_calc","P":1},{"_vid":"m","P":2}`),
    line(`{"m":{"P":2}}`),
    ["missing_vid"],
  ),
  record(
    "null, empty, numeric, boolean, object and array vendor ids",
    devices(
      `{"_vid":null,"a":1},{"_vid":"","b":2},{"_vid":42,"c":3},{"_vid":1.5},{"_vid":true},` +
        `{"_vid":false},{"_vid":{"x":1}},{"_vid":[]},{"_vid":"ok","d":4}`,
    ),
    line(`{"ok":{"d":4}}`),
    Array(8).fill("missing_vid"),
  ),
  record(
    "a 64-bit vendor id",
    devices(`{"_vid":18446744073709551615,"P":1}`),
    line(`{}`),
    ["missing_vid"],
  ),
  record(
    "devices that are no objects",
    `{"t":1709288100,"r":[null,1,"x",true,[],[{"_vid":"a"}],18446744073709551615,{"_vid":"m"}]}`,
    line(`{"m":{}}`),
    Array(7).fill("invalid_device"),
  ),
  record(
    "a vendor id that is a space, and one that is 0",
    devices(`{"_vid":" ","P":1},{"_vid":"0","P":2}`),
    line(`{"0":{"P":2}," ":{"P":1}}`),
  ),
  record(
    "a vendor id made null by a later _vid",
    devices(`{"_vid":"a","x":{},"_vid":null},{"_vid":"m"}`),
    line(`{"m":{}}`),
    ["missing_vid"],
  ),
  record(
    "a null vendor id made usable by a later _vid",
    devices(`{"_vid":null,"x":{},"_vid":"a"}`),
    line(`{"a":{}}`),
    ["invalid_value"],
  ),
  record(
    "only devices without a vendor id",
    devices(`{"_d":"_calc","P":1},{"_vid":null}`),
    line(`{}`),
    ["missing_vid", "missing_vid"],
  ),
];

// ---------------------------------------------------------------------------
// Readings that are objects or arrays, and status entries left out.

const LEFT_OUT: CorpusCase[] = [
  record(
    "object and array readings",
    devices(`{"_vid":"m","a":{},"b":[],"c":{"x":[1,{"y":2}]},"d":[1,2],"e":1}`),
    line(`{"m":{"e":1}}`),
    Array(4).fill("invalid_value"),
  ),
  record(
    "an object reading in a device with only that",
    devices(`{"_vid":"m","cfg":{"a":1}}`),
    line(`{"m":{}}`),
    ["invalid_value"],
  ),
  record(
    "_s as an object, a string, a number and a boolean",
    devices(
      `{"_vid":"a","_s":{"c":"x"}},{"_vid":"b","_s":"x"},{"_vid":"c","_s":1},{"_vid":"d","_s":true}`,
    ),
    line(`{"a":{},"b":{},"c":{},"d":{}}`),
    Array(4).fill("invalid_status"),
  ),
  record(
    "_s as null and as an empty array",
    devices(`{"_vid":"a","_s":null},{"_vid":"b","_s":[]}`),
    line(`{"a":{},"b":{}}`),
  ),
  record(
    "a bad _s before an object reading",
    devices(`{"_vid":"m","_s":5,"x":{},"P":1}`),
    line(`{"m":{"P":1}}`),
    ["invalid_value", "invalid_status"],
  ),
  record(
    "a status entry nested 16 deep",
    devices(`{"_vid":"m","_s":[${"[".repeat(16)}1${"]".repeat(16)}]}`),
    line(`{"m":{}}`, `{"m":[${"[".repeat(16)}1${"]".repeat(16)}]}`),
  ),
  record(
    "a status entry nested 17 deep between two kept ones",
    devices(`{"_vid":"m","_s":[1,${"[".repeat(17)}1${"]".repeat(17)},{"c":"y"}]}`),
    line(`{"m":{}}`, `{"m":[1,{"c":"y"}]}`),
    ["invalid_status"],
  ),
  record(
    "status entries of every JSON type",
    devices(`{"_vid":"m","_s":["text",3.10,true,false,null,[],{},[[1,2],{"x":{"y":true}}]]}`),
    line(`{"m":{}}`, `{"m":["text",3.1,true,false,null,[],{},[[1,2],{"x":{"y":true}}]]}`),
  ),
  record(
    "status entries in the contract's form",
    devices(`{"_vid":"m","P":1,"_s":[{"c":"High Temperature","l":3},{"c":"OK","l":0}]}`),
    line(`{"m":{"P":1}}`, `{"m":[{"c":"High Temperature","l":3},{"c":"OK","l":0}]}`),
  ),
];

// ---------------------------------------------------------------------------
// Vendor ids in several devices, and keys repeated in one.

const REPEATS: CorpusCase[] = [
  record(
    "a repeated vendor id",
    devices(
      `{"_vid":"a","P":1,"Q":2,"_s":[{"c":"x","l":1}]},{"_vid":"b","R":0},` +
        `{"_vid":"a","Q":3,"S":4,"_s":[{"c":"y","l":2}]}`,
    ),
    line(`{"a":{"P":1,"Q":3,"S":4},"b":{"R":0}}`, `{"a":[{"c":"x","l":1},{"c":"y","l":2}]}`),
  ),
  record(
    "a repeated vendor id whose later reading failed",
    devices(`{"_vid":"a","P":1},{"_vid":"a","P":null,"Q":NaN}`),
    line(`{"a":{"P":1}}`),
  ),
  record(
    "a repeated vendor id whose later reading is an object",
    devices(`{"_vid":"a","P":1},{"_vid":"a","P":{}}`),
    line(`{"a":{"P":1}}`),
    ["invalid_value"],
  ),
  record(
    "status of three vendor ids, one repeated",
    devices(`{"_vid":"a","_s":[1]},{"_vid":"b","_s":[2]},{"_vid":"a","_s":[3]},{"_vid":"c"}`),
    line(`{"a":{},"b":{},"c":{}}`, `{"a":[1,3],"b":[2]}`),
  ),
  record(
    "a vendor id repeated three times around skipped devices",
    devices(
      `{"_vid":"a"},{"_vid":null,"X":1},{"_vid":"b","P":1},{"_vid":"a","Q":2},7,` +
        `{"_vid":"a","Q":5,"R":18446744073709551615}`,
    ),
    line(`{"a":{"Q":5,"R":18446744073709551615},"b":{"P":1}}`),
    ["missing_vid", "invalid_device"],
  ),
  record(
    "a repeated vendor id whose first device has the status",
    devices(`{"_vid":"a","_s":[{"c":"x"}]},{"_vid":"a","P":1}`),
    line(`{"a":{"P":1}}`, `{"a":[{"c":"x"}]}`),
  ),
  record(
    "the same key twice in one device",
    devices(`{"_vid":"m","P":1,"Q":2,"P":3}`),
    line(`{"m":{"P":3,"Q":2}}`),
  ),
  record(
    "a key whose later value is null",
    devices(`{"_vid":"m","P":1,"P":null}`),
    line(`{"m":{}}`),
  ),
  record(
    "a key whose object value is replaced by a number",
    devices(`{"_vid":"m","P":{},"P":1}`),
    line(`{"m":{"P":1}}`),
  ),
  record(
    "a key whose number is replaced by an object",
    devices(`{"_vid":"m","P":1,"P":{}}`),
    line(`{"m":{}}`),
    ["invalid_value"],
  ),
  record(
    "_vid twice in one device",
    devices(`{"_vid":"a","P":1,"_vid":"b"}`),
    line(`{"b":{"P":1}}`),
  ),
  record(
    "_s twice in one device",
    devices(`{"_vid":"m","_s":[1],"_s":[2]},{"_vid":"n","_s":[3],"_s":null}`),
    line(`{"m":{},"n":{}}`, `{"m":[2]}`),
  ),
  record(
    "r twice",
    `{"t":1709288100,"r":[{"_vid":"a"}],"r":[{"_vid":"b"}]}`,
    line(`{"b":{}}`),
  ),
  record(
    "readings before the vendor id",
    devices(`{"P":1,"Q":"x","_vid":"m","R":true}`),
    line(`{"m":{"P":1,"Q":"x","R":true}}`),
  ),
  record(
    "__proto__, constructor and toString as vendor ids and keys",
    devices(
      `{"_vid":"__proto__","__proto__":1,"constructor":2},{"_vid":"toString","hasOwnProperty":3}`,
    ),
    // As a field, "__proto__" starts with "_": no reading.
    line(`{"__proto__":{"constructor":2},"toString":{"hasOwnProperty":3}}`),
  ),
  record(
    "an empty key and the key _",
    devices(`{"_vid":"m","":1,"_":2}`),
    line(`{"m":{"":1}}`),
  ),
];

// ---------------------------------------------------------------------------
// Keys and vendor ids that look like integers: JSON.stringify writes array
// indices (0 to 2^32 - 2, without leading zeros) first, in ascending order.

const INTEGER_KEYS: CorpusCase[] = [
  record(
    "integer-like keys",
    devices(
      `{"_vid":"m","b":1,"10":2,"1":3,"0":4,"4294967295":5,"4294967294":6,"01":7,"-1":8,"1.5":9,"a":10}`,
    ),
    line(
      `{"m":{"0":4,"1":3,"10":2,"4294967294":6,"b":1,"4294967295":5,"01":7,"-1":8,"1.5":9,"a":10}}`,
    ),
  ),
  record(
    "integer-like vendor ids",
    devices(
      `{"_vid":"b"},{"_vid":"10"},{"_vid":"1"},{"_vid":"0"},{"_vid":"01"},{"_vid":"-1"},` +
        `{"_vid":"4294967295"},{"_vid":"4294967294"},{"_vid":"1.5"}`,
    ),
    line(
      `{"0":{},"1":{},"10":{},"4294967294":{},"b":{},"01":{},"-1":{},"4294967295":{},"1.5":{}}`,
    ),
  ),
  record(
    "status of integer-like vendor ids",
    devices(`{"_vid":"x","_s":[1]},{"_vid":"2","_s":[2]}`),
    line(`{"2":{},"x":{}}`, `{"2":[2],"x":[1]}`),
  ),
  record(
    "integer-like keys in a status entry",
    devices(`{"_vid":"m","_s":[{"c":"x","1":1,"0":0,"01":2}]}`),
    line(`{"m":{}}`, `{"m":[{"0":0,"1":1,"c":"x","01":2}]}`),
  ),
  record(
    "an escaped integer key and its plain spelling",
    devices(String.raw`{"_vid":"m","a":0,"\u0031":1,"01":2,"1":3}`),
    line(`{"m":{"1":3,"a":0,"01":2}}`),
  ),
  record(
    "an integer key whose value is left out",
    devices(`{"_vid":"m","a":{},"1":[]}`),
    line(`{"m":{}}`),
    ["invalid_value", "invalid_value"],
  ),
];

// ---------------------------------------------------------------------------
// Numbers: every integer keeps its digits in its shortest integer form;
// others are written as JSON writes their double.

const NUMBERS: CorpusCase[] = [
  record(
    "a 64-bit counter",
    devices(`{"_vid":"m","E_total_Wh":18446744073709551615,"P":1}`),
    line(`{"m":{"E_total_Wh":18446744073709551615,"P":1}}`),
  ),
  record(
    "a 64-bit counter after Python's separators, last in its device",
    `{"t": 1709288100, "r": [{"_vid": "m", "P": 1.0, "E_total_Wh": 18446744073709551615}]}`,
    line(`{"m":{"P":1,"E_total_Wh":18446744073709551615}}`),
  ),
  record(
    "a 64-bit counter spelled with a fraction and an exponent",
    devices(`{"_vid":"m","a":18446744073709551615.0,"b":1.8446744073709551615e19}`),
    line(`{"m":{"a":18446744073709551615,"b":18446744073709551615}}`),
  ),
  record(
    "integers just beyond 2^53 and negative 64-bit ones",
    devices(
      `{"_vid":"m","a":9007199254740993,"b":9007199254740992,"c":-9223372036854775808,"d":-18446744073709551615}`,
    ),
    line(
      `{"m":{"a":9007199254740993,"b":9007199254740992,"c":-9223372036854775808,"d":-18446744073709551615}}`,
    ),
  ),
  record(
    "a 30-digit integer",
    devices(`{"_vid":"m","a":123456789012345678901234567890}`),
    line(`{"m":{"a":123456789012345678901234567890}}`),
  ),
  record(
    "1e21, 1e20 and 1E+2",
    devices(`{"_vid":"m","a":1e21,"b":1e20,"c":1E+2,"d":1.5e300}`),
    line(
      `{"m":{"a":1000000000000000000000,"b":100000000000000000000,"c":100,"d":15${
        "0".repeat(299)
      }}}`,
    ),
  ),
  record(
    "-0, -0.0 and 0.0",
    devices(`{"_vid":"m","a":-0,"b":-0.0,"c":0.0,"d":0e5}`),
    line(`{"m":{"a":0,"b":0,"c":0,"d":0}}`),
  ),
  record(
    "1e400 and 1e309, beyond a double",
    devices(`{"_vid":"m","a":1e400,"b":1e309,"c":-1e400,"d":1}`),
    line(`{"m":{"d":1}}`),
  ),
  record(
    "1e308, the largest power of ten a double holds",
    devices(`{"_vid":"m","a":1e308}`),
    line(`{"m":{"a":1${"0".repeat(308)}}}`),
  ),
  record(
    "a 400-digit integer spelled out",
    devices(`{"_vid":"m","a":9${"8".repeat(399)}}`),
    line(`{"m":{"a":9${"8".repeat(399)}}}`),
  ),
  record(
    "the largest double",
    devices(`{"_vid":"m","a":1.7976931348623157e308}`),
    undefined,
  ),
  record(
    "5e-324 and other small numbers",
    devices(`{"_vid":"m","a":5e-324,"b":1e-7,"c":0.000001,"d":2.5e-5,"e":1e-400}`),
    line(`{"m":{"a":5e-324,"b":1e-7,"c":0.000001,"d":0.000025,"e":0}}`),
  ),
  record(
    "fractions in other spellings",
    devices(`{"_vid":"m","a":5120.50,"b":230.0,"c":12.5e-1,"d":100e-2,"e":0.1e1,"f":1.10E1}`),
    line(`{"m":{"a":5120.5,"b":230,"c":1.25,"d":1,"e":1,"f":11}}`),
  ),
  record(
    "numbers of 16 and 17 significant digits",
    devices(
      `{"_vid":"m","a":0.1000000000000000055,"b":1234567.890123456,"c":3.141592653589793238}`,
    ),
    line(`{"m":{"a":0.1,"b":1234567.890123456,"c":3.141592653589793}}`),
  ),
  record(
    "64-bit integers and 1e21 in a status entry",
    devices(`{"_vid":"m","_s":[{"c":"x","v":18446744073709551615,"w":1e21,"z":-0,"f":2.50}]}`),
    line(
      `{"m":{}}`,
      `{"m":[{"c":"x","v":18446744073709551615,"w":1000000000000000000000,"z":0,"f":2.5}]}`,
    ),
  ),
  record(
    "a 64-bit integer in m and in _d",
    `{"t":1709288100,"r":[{"_d":18446744073709551615,"_vid":"m"}],"m":{"n":18446744073709551615}}`,
    line(`{"m":{}}`),
  ),
  dead("a leading zero", devices(`{"_vid":"m","a":01}`), "not_json"),
  dead("a number ending in a point", devices(`{"_vid":"m","a":1.}`), "not_json"),
  dead("a number starting with a point", devices(`{"_vid":"m","a":.5}`), "not_json"),
  dead("a plus sign", devices(`{"_vid":"m","a":+1}`), "not_json"),
  dead("a hexadecimal number", devices(`{"_vid":"m","a":0x10}`), "not_json"),
];

// ---------------------------------------------------------------------------
// Whitespace as other writers put it.

const SEPARATORS: CorpusCase[] = [
  record(
    "Python's separators",
    String
      .raw`{"t": 1709288100, "r": [{"_d": "sma", "_vid": "inv-1", "P": 230.0, "s": "Z\u00e4hler", "_s": [{"c": "x", "l": 1}]}, {"_vid": "inv-2"}], "m": {"snap_rev": 912}}`,
    line(`{"inv-1":{"P":230,"s":"Zähler"},"inv-2":{}}`, `{"inv-1":[{"c":"x","l":1}]}`),
  ),
  record(
    "json.dumps's indentation",
    `{\n  "t": 1709288100,\n  "r": [\n    {\n      "_vid": "m",\n      "P": 1,\n      "_s": [\n        {\n          "c": "x"\n        }\n      ]\n    }\n  ]\n}\n`,
    line(`{"m":{"P":1}}`, `{"m":[{"c":"x"}]}`),
  ),
  record(
    "tabs, carriage returns and spaces before colons",
    `\r\n\t{ "t" :1709288100 ,\t"r"\r\n:\t[ { "_vid" : "m" , "P" : 1 } , { "_vid" :"n" } ] }\r\n `,
    line(`{"m":{"P":1},"n":{}}`),
  ),
];

// ---------------------------------------------------------------------------
// t at the edges: rounded to the millisecond from its digits, half away
// from zero, up to the last millisecond of the year 9999.

function timed(what: string, t: string, time: string): CorpusCase {
  return record(
    `${what} as t`,
    `{"t":${t},"r":[{"_vid":"m","P":1}]}`,
    `{"node_id":"b827eb000001","time":"${time}","data":{"m":{"P":1}}}`,
  );
}

const TIMES: CorpusCase[] = [
  timed("0", "0", "1970-01-01T00:00:00+00:00"),
  timed("-0", "-0", "1970-01-01T00:00:00+00:00"),
  timed("5e-324", "5e-324", "1970-01-01T00:00:00+00:00"),
  timed("0.0005", "0.0005", "1970-01-01T00:00:00.001+00:00"),
  timed("0.0004999", "0.0004999", "1970-01-01T00:00:00+00:00"),
  timed("a whole number with a fraction of zero", "1709288100.0", "2024-03-01T10:15:00+00:00"),
  timed("half a second", "1709288100.5", "2024-03-01T10:15:00.500+00:00"),
  timed("half a millisecond", "1709288100.0005", "2024-03-01T10:15:00.001+00:00"),
  timed("just under half a millisecond", "1709288100.00049999", "2024-03-01T10:15:00+00:00"),
  timed("a fraction that rounds up to a second", "1709288100.9995", "2024-03-01T10:15:01+00:00"),
  timed("nine digits of fraction", "1709288100.123456789", "2024-03-01T10:15:00.123+00:00"),
  timed("an exponent", "1.7092881e9", "2024-03-01T10:15:00+00:00"),
  timed(
    "an exponent with half a millisecond",
    "1.7092881000005E9",
    "2024-03-01T10:15:00.001+00:00",
  ),
  timed("a negative exponent", "17092881000e-1", "2024-03-01T10:15:00+00:00"),
  timed("the last second of the year 9999", "253402300799", "9999-12-31T23:59:59+00:00"),
  timed(
    "the last millisecond of the year 9999",
    "253402300799.9994",
    "9999-12-31T23:59:59.999+00:00",
  ),
  record(
    "t after r",
    `{"r":[{"_vid":"m","P":1}],"t":1709288100}`,
    line(`{"m":{"P":1}}`),
  ),
  record(
    "t twice",
    `{"t":0,"r":[{"_vid":"m","P":1}],"t":1709288100}`,
    line(`{"m":{"P":1}}`),
  ),
  dead("a t that rounds into the year 10000", `{"t":253402300799.9995,"r":[]}`, "invalid_t"),
  dead("the first second of the year 10000 as t", `{"t":253402300800,"r":[]}`, "invalid_t"),
  dead("a 64-bit t", `{"t":18446744073709551615,"r":[]}`, "invalid_t"),
  dead("1e400 as t", `{"t":1e400,"r":[]}`, "invalid_t"),
  dead("a negative t", `{"t":-1,"r":[]}`, "invalid_t"),
  dead("a t just below zero", `{"t":-0.0001,"r":[]}`, "invalid_t"),
  dead("t as a string", `{"t":"1709288100","r":[]}`, "invalid_t"),
  dead("t as null", `{"t":null,"r":[]}`, "invalid_t"),
  dead("t as a boolean", `{"t":true,"r":[]}`, "invalid_t"),
  dead("t as an array", `{"t":[1709288100],"r":[]}`, "invalid_t"),
  dead("t as an object", `{"t":{},"r":[]}`, "invalid_t"),
  dead("no t", `{"r":[{"_vid":"m","P":1}]}`, "invalid_t"),
  dead("t only inside m", `{"r":[],"m":{"t":1709288100}}`, "invalid_t"),
];

// ---------------------------------------------------------------------------
// What cannot become a record, and topics that carry no data.

const DEAD_AND_IGNORED: CorpusCase[] = [
  dead("nothing", "", "not_json"),
  dead("only whitespace", " \n\t", "not_json"),
  dead("an unclosed object", `{"t":1709288100,"r":[{"_vid":"m","P":1}`, "not_json"),
  dead("a trailing comma in r", devices(`{"_vid":"m","P":1},`), "not_json"),
  dead("a trailing comma in a device", devices(`{"_vid":"m","P":1,}`), "not_json"),
  dead("text after the object", `${devices(`{"_vid":"m"}`)} x`, "not_json"),
  dead("two objects", `${devices("")}${devices("")}`, "not_json"),
  dead("single quotes", `{'t':1709288100,'r':[]}`, "not_json"),
  dead("an unquoted key", `{t:1709288100,"r":[]}`, "not_json"),
  dead("a comment", `{"t":1709288100,/* x */"r":[]}`, "not_json"),
  dead("a raw tab in a string", devices(`{"_vid":"m","s":"a\tb"}`), "not_json"),
  dead("a raw control character in a key", devices(`{"_vid":"m","a\u0001":1}`), "not_json"),
  dead("a bad escape", devices(String.raw`{"_vid":"m","s":"\x41"}`), "not_json"),
  dead("a \\u escape cut short", devices(String.raw`{"_vid":"m","s":"\u00e"}`), "not_json"),
  dead("an array", "[1,2,3]", "not_object"),
  dead("a number", "1709288100", "not_object"),
  dead("a 64-bit number", "18446744073709551615", "not_object"),
  dead("a string", `"x"`, "not_object"),
  dead("null", "null", "not_object"),
  dead("no r", `{"t":1709288100}`, "invalid_r"),
  dead("r as an object", `{"t":1709288100,"r":{"_vid":"m","P":1}}`, "invalid_r"),
  dead("r as null", `{"t":1709288100,"r":null}`, "invalid_r"),
  dead("r as a string", `{"t":1709288100,"r":"[]"}`, "invalid_r"),
  dead("a 64-bit r", `{"t":1709288100,"r":18446744073709551615}`, "invalid_r"),
  // This payload is 41 bytes.
  dead("one byte more than a limit of 40 bytes", devices(`{"_vid":"m","P":1}`), "too_large", {
    options: { maxPayloadBytes: 40 },
  }),
  record(
    "exactly a limit of 41 bytes",
    devices(`{"_vid":"m","P":1}`),
    line(`{"m":{"P":1}}`),
    [],
    { options: { maxPayloadBytes: 41 } },
  ),
  {
    ...record("a topic that carries no data", devices(`{"_vid":"m"}`), undefined, [], {
      topic: "a/b827eb000001/u/meta/boot_time",
    }),
    kind: "ignored",
  },
  {
    ...record("the bridge's state topic", "1", undefined, [], {
      topic: "a/b827eb000001/bridge_state",
    }),
    kind: "ignored",
  },
];

// ---------------------------------------------------------------------------
// Topics with and without a node id.

const TOPICS: CorpusCase[] = [
  record(
    "the pre-2022 topic",
    devices(`{"_vid":"m","P":1}`),
    line(`{"m":{"P":1}}`),
    [],
    { topic: "a/b827eb000001/data" },
  ),
  record(
    "the gateway's own topic and NODE_ID",
    devices(`{"_vid":"m","P":1}`),
    `{"node_id":"b827ebffffff","time":"2024-03-01T10:15:00+00:00","data":{"m":{"P":1}}}`,
    [],
    { topic: "u/data", options: { nodeId: "b827ebffffff" } },
  ),
  record(
    "the gateway's own topic and no node id",
    devices(`{"_vid":"m","P":1}`),
    `{"time":"2024-03-01T10:15:00+00:00","data":{"m":{"P":1}}}`,
    [],
    { topic: "u/data" },
  ),
  record(
    "a topic's node id beside NODE_ID",
    devices(`{"_vid":"m","P":1}`),
    line(`{"m":{"P":1}}`),
    [],
    { options: { nodeId: "b827ebffffff" } },
  ),
  record(
    "an empty r",
    devices(""),
    line(`{}`),
  ),
];

// ---------------------------------------------------------------------------
// Payloads beyond 128 KiB, up to the default MAX_PAYLOAD_BYTES, made by
// repetition; padded in `m` to an exact size.

// A payload of `count` devices made by `device(i)`, padded to `size` bytes
// where given.
function repeated(
  count: number,
  device: (i: number) => string,
  size?: number,
): { text: string; data: string; status: string } {
  const r: string[] = [];
  const data: string[] = [];
  const status: string[] = [];
  for (let i = 0; i < count; i++) r.push(device(i));
  // Every device here is `{"_vid":"…",…}` with readings the record keeps
  // as they are, and no escapes: the record is the payload's own text.
  for (const text of r) {
    const vid = /"_vid":("[^"]*")/.exec(text)![1];
    const readings = text.replace(/"_vid":"[^"]*",?/, "").replace(/,?"_s":\[.*\]/, "")
      .replace(/,"_d":"[^"]*"|"_d":"[^"]*",?/, "");
    data.push(`${vid}:${readings}`);
    const entries = /"_s":(\[.*\])/.exec(text);
    if (entries !== null) status.push(`${vid}:${entries[1]}`);
  }
  let text = devices(r.join(","));
  if (size !== undefined) {
    const head = `{"t":1709288100,"r":[${r.join(",")}],"m":{"pad":"`;
    const tail = `"}}`;
    const room = size - encoder.encode(head + tail).byteLength;
    if (room < 0) throw new RangeError(`A payload of ${count} devices exceeds ${size} bytes`);
    text = head + "x".repeat(room) + tail;
  }
  return { text, data: `{${data.join(",")}}`, status: `{${status.join(",")}}` };
}

function large(
  what: string,
  count: number,
  device: (i: number) => string,
  size?: number,
): CorpusCase {
  const { text, data, status } = repeated(count, device, size);
  return record(what, text, line(data, status === "{}" ? undefined : status));
}

const LARGE: CorpusCase[] = [
  large(
    "one byte more than 128 KiB",
    700,
    (i) => `{"_d":"sma","_vid":"inv-${i}","P":${i}.5,"E":${i * 1000},"s":"Running"}`,
    128 * 1024 + 1,
  ),
  large(
    "a large site of 400 devices with raw non-ASCII text and status",
    400,
    (i) =>
      `{"_vid":"Zähler-${i}","Zählerstand":${i}.25,"T_°C":21.5,"E_Wh":18446744073709551615,"f":50.01,` +
      `"state":"Störung ⚡","_s":[{"c":"Low SOC","l":${i % 5}}]}`,
  ),
  large(
    "half a MiB of devices",
    2500,
    (i) =>
      `{"_vid":"dev-${i}","P":${i},"Q":-${i}.125,"V_L1":229.7,"V_L2":230.1,"V_L3":231.4,` +
      `"I":12.5,"ok":true,"mode":"auto"}`,
    512 * 1024,
  ),
  large(
    "exactly the default MAX_PAYLOAD_BYTES",
    5000,
    (i) => `{"_vid":"dev-${i}","P":${i}.5,"E_total":88211900,"soc":71.2,"mode":"charging"}`,
    DEFAULT_MAX_PAYLOAD_BYTES,
  ),
  large(
    "3,000 readings in one device",
    1,
    () => `{"_vid":"m",${Array.from({ length: 3000 }, (_, k) => `"r${k}":${k}`).join(",")}}`,
  ),
  dead(
    "one byte more than the default MAX_PAYLOAD_BYTES",
    repeated(
      5000,
      (i) => `{"_vid":"dev-${i}","P":${i}.5,"E_total":88211900,"soc":71.2,"mode":"charging"}`,
      DEFAULT_MAX_PAYLOAD_BYTES + 1,
    ).text,
    "too_large",
  ),
];

/** Every case of the corpus. Names are unique. */
export const CORPUS: readonly CorpusCase[] = [
  ...RAW_UTF8,
  ...NOT_UTF8,
  ...ESCAPES,
  ...SAME_KEYS,
  ...NON_FINITE,
  ...NO_VID,
  ...LEFT_OUT,
  ...REPEATS,
  ...INTEGER_KEYS,
  ...NUMBERS,
  ...SEPARATORS,
  ...TIMES,
  ...DEAD_AND_IGNORED,
  ...TOPICS,
  ...LARGE,
];
