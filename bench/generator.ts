/**
 * Seeded generator of AMMP data payloads, in two mixes. The same seed and
 * mix give the same bytes.
 *
 * The **compact** mix: 1 to 60 devices of 5 to 40 readings each, with failed
 * reads (`null`), readings that drivers send as text, the odd boolean,
 * occasional `_s` status entries and `m` metadata, spread over many node
 * ids, written as compact ASCII JSON like `JSON.stringify` writes.
 *
 * The **realistic** mix: the compact mix's payloads (the same nodes, times
 * and readings) with what real sites add, in the shares of
 * {@linkcode REALISTIC_SHARES}: Python's separators, non-ASCII text, 64-bit
 * counters, repeated and missing vendor ids, bare `NaN`, sites of hundreds
 * of devices. Every payload carries the {@linkcode PayloadClass}es it
 * belongs to.
 *
 * @module
 */

import { type Random, seededRandom } from "../tools/seeded_random.ts";

/** The payload mixes: `realistic` (the default) and `compact`. */
export const MIXES = ["realistic", "compact"] as const;
/** A payload mix; see the module's documentation. */
export type Mix = typeof MIXES[number];

/**
 * What sets a payload apart, as tagged in {@linkcode GeneratedMessage}:
 * - `python`: written with `json.dumps`'s defaults: `, ` and `: `
 *   between items, non-ASCII text as `\u` escapes, whole floats as `230.0`;
 * - `non_ascii_raw`, `non_ascii_escaped`: a device with text beyond ASCII
 *   in a vendor id, a key or a value, as raw UTF-8 or as `\u` escapes;
 * - `counter_64bit`: an integer beyond 2^53;
 * - `repeated_vid`: two device readings with the same `_vid`;
 * - `no_vid`: a device reading whose `_vid` is missing or `null`;
 * - `non_finite`: Python's bare `NaN`, `Infinity` or `-Infinity`;
 * - `large_site`: 200 to 400 devices;
 * - `status`: `_s` status entries;
 * - `plain`: none of these.
 */
export const PAYLOAD_CLASSES = [
  "python",
  "non_ascii_raw",
  "non_ascii_escaped",
  "counter_64bit",
  "repeated_vid",
  "no_vid",
  "non_finite",
  "large_site",
  "status",
  "plain",
] as const;
/** One of {@linkcode PAYLOAD_CLASSES}. */
export type PayloadClass = typeof PAYLOAD_CLASSES[number];

/**
 * The shares of the realistic mix: of payloads, or where named, of
 * devices or of nodes. Each says where it comes from.
 */
export const REALISTIC_SHARES = {
  // ammp-edge is written in Python and publishes `json.dumps(payload)`
  // with its default separators and `ensure_ascii`; the other half is as
  // compact as JSON.stringify writes it (backfill tools, other loggers),
  // with UTF-8 kept raw.
  python: 0.5,
  // Of devices: sites in Europe and West Africa name devices, registers and
  // states in German or French (`Zähler`, `Störung`), and units carry °, µ, Ω.
  nonAsciiDevices: 0.3,
  // Energy counters are 64-bit registers: SunSpec writes an unimplemented
  // uint64 as all ones, long-running meters pass 2^53 in Wh, and Python's
  // integers keep every digit.
  counter64bit: 0.1,
  // Gateways that read one device through two drivers (vendor protocol and
  // SunSpec) report it twice under the same vendor id.
  repeatedVid: 0.2,
  // Calculated `_calc` outputs and devices configured without a vendor id.
  noVid: 0.1,
  // Python's json.dumps writes a float NaN or inf (a failed division, a
  // sensor's error value) as a bare token, which strict JSON rejects.
  nonFinite: 0.02,
  // Of nodes: a utility-scale plant or a mini-grid with one meter per
  // customer reports 200 to 400 devices in one payload.
  largeSites: 0.015,
  // Of devices, as in the compact mix: drivers that report alarms.
  statusDevices: 0.03,
} as const;

/** A payload and the topic it is published on. */
export interface GeneratedMessage {
  topic: string;
  /** The payload as JSON text (one line, no newline). */
  payload: string;
  /** The classes the payload belongs to: `plain` alone, or some of the others. */
  classes: PayloadClass[];
}

/** Options for {@linkcode PayloadGenerator}. */
export interface PayloadGeneratorOptions {
  /** Seed of the random sequence (default 1). */
  seed?: number;
  /** How many distinct node ids the messages spread over (default 500). */
  nodes?: number;
  /** The mix of payloads (default `realistic`). */
  mix?: Mix;
}

interface DeviceKind {
  driver: string;
  vid: string;
  fields: string[];
  /** Fields whose value is text, e.g. an operating mode. */
  text?: Record<string, string[]>;
}

const PHASES = ["L1", "L2", "L3"];

function phased(names: string[]): string[] {
  return names.flatMap((name) => [name, ...PHASES.map((phase) => `${name}_${phase}`)]);
}

// Field names as ammp-edge drivers write them; each kind has at least 40.
const KINDS: DeviceKind[] = [
  {
    driver: "sma_stp",
    vid: "inv",
    fields: [
      ...phased(["P", "Q", "S", "V", "I", "pf"]),
      "P_total",
      "E_total",
      "E_day",
      "f",
      "temp_heatsink",
      "temp_internal",
      "V_dc1",
      "V_dc2",
      "I_dc1",
      "I_dc2",
      "P_dc1",
      "P_dc2",
      "insulation_resistance",
      "operating_hours",
      "feed_in_hours",
      "grid_ok",
      "derating",
      "status",
    ],
    text: { status: ["Running", "Standby", "Fault", "MPPT"], derating: ["none", "temperature"] },
  },
  {
    driver: "victron_bms",
    vid: "bat",
    fields: [
      "soc",
      "soh",
      "V_dc",
      "I_dc",
      "P_dc",
      "temp_min",
      "temp_max",
      "temp_avg",
      "cycles",
      "mode",
      "cell_V_min",
      "cell_V_max",
      ...Array.from({ length: 32 }, (_, i) => `cell_V_${i + 1}`),
    ],
    text: { mode: ["charging", "discharging", "idle"] },
  },
  {
    driver: "dse855",
    vid: "gen",
    fields: [
      ...phased(["P", "V", "I", "Q"]),
      "P_total",
      "fuel_level",
      "fuel_used",
      "temp_oil",
      "temp_coolant",
      "pressure_oil",
      "rpm",
      "run_hours",
      "starts",
      "battery_V",
      "f",
      "E_total",
      "load_pct",
      "mode",
      "alarm",
      "charge_alt_V",
      "fuel_rate",
      "service_hours",
      "mains_V",
      "mains_f",
      "gen_available",
      "breaker_closed",
      "emergency_stop",
      "remote_start",
    ],
    text: { mode: ["auto", "manual", "stop"], alarm: ["none", "low fuel", "high temp"] },
  },
  {
    driver: "sma_emeter",
    vid: "meter",
    fields: [
      ...phased(["P_imp", "P_exp", "Q_imp", "Q_exp", "V", "I"]),
      "E_imp",
      "E_exp",
      "f",
      "pf",
      "serial",
      "E_imp_T1",
      "E_imp_T2",
      "E_exp_T1",
      "E_exp_T2",
      "P_net",
      "Q_net",
      "S_net",
      "thd_V",
      "thd_I",
      "demand",
      "demand_peak",
    ],
    text: { serial: ["1901234567", "1901234568"] },
  },
  {
    driver: "pyranometer",
    vid: "irr",
    fields: [
      "G",
      "G_poa",
      "G_ghi",
      "T_mod",
      "T_amb",
      "T_body",
      "wind_speed",
      "wind_dir",
      "humidity",
      "rain",
      "pressure",
      ...Array.from({ length: 32 }, (_, i) => `G_string_${i + 1}`),
    ],
  },
  {
    driver: "logger",
    vid: "strato",
    fields: [
      "cpu_load",
      "memory_usage",
      "cpu_temp",
      "disk_usage",
      "uptime",
      "boot_time",
      "reading_offset",
      "signal_strength",
      "rsrp",
      "rsrq",
      "sinr",
      "network_type",
      "operator",
      "data_used",
      ...Array.from({ length: 30 }, (_, i) => `port_${i + 1}_ok`),
    ],
    text: { network_type: ["LTE", "3G", "ethernet"], operator: ["Safaricom", "MTN", "Airtel"] },
  },
];

const STATUS_TEXTS = ["Low SOC", "High Temperature", "Grid Fault", "Low Level", "Comm Error"];

// Readings are drawn from pools of formatted values: formatting numbers
// afresh for every reading would make generating slower than consuming.
const POOL_SIZE = 4096;
const poolRandom = seededRandom(0x5eed);
// Half the decimals are short, half carry the full double precision that
// scaling a register value in Python gives (229.70000000000002).
const DECIMALS = Array.from(
  { length: POOL_SIZE },
  (_, i) =>
    String(i % 2 === 0 ? Math.round(poolRandom() * 1_000_000) / 100 : poolRandom() * 10_000),
);
const INTEGERS = Array.from(
  { length: POOL_SIZE },
  () => String(Math.floor(poolRandom() * 100_000_000)),
);
const TEXT_NUMBERS = DECIMALS.map((value) => `"${value}"`);
// Python's repr writes a whole float as 230.0.
const PYTHON_DECIMALS = DECIMALS.map(_pythonFloat);

// Text beyond ASCII as sites write it: device names, register names with
// their units, and states, in German and French; € is three bytes in UTF-8.
const NON_ASCII_VIDS = ["Zähler", "Générateur", "WR-Süd", "Compteur-Général"];
const NON_ASCII_KEYS = ["Zählerstand", "T_°C", "I_µA", "R_iso_MΩ", "débit_m³", "Leistung_Süd"];
const NON_ASCII_TEXTS = [
  "Störung",
  "°C",
  "µS/cm",
  "Überlast",
  "Défaut réseau",
  "0,25 €/kWh",
  "Überspannung",
];
// The readings of a calculated `_calc` device.
const CALC_FIELDS = ["P_total_site", "E_day_site", "self_consumption", "pv_share", "fuel_saved"];
// Drivers that read a device a second time, under its vendor id.
const SECOND_DRIVERS = ["sunspec", "modbus_tcp"];
// NaN most often: Python's float("nan") is the usual error value.
const NON_FINITE_TOKENS = ["NaN", "NaN", "Infinity", "-Infinity"];
// SunSpec's "not implemented" for a uint64 register: all ones.
const UINT64_ALL_ONES = "18446744073709551615";
const TWO_TO_53 = 2n ** 53n;

/** How a payload is written: its separators, its floats, its strings. */
interface Style {
  /** Between the items of an object or array. */
  item: string;
  /** Between a key and its value. */
  key: string;
  decimals: string[];
  /** Non-ASCII text as `\u` escapes, as `ensure_ascii` writes it. */
  ascii: boolean;
}

const COMPACT: Style = { item: ",", key: ":", decimals: DECIMALS, ascii: false };
const PYTHON: Style = { item: ", ", key: ": ", decimals: PYTHON_DECIMALS, ascii: true };

function _pythonFloat(text: string): string {
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}

// A JSON string of text that needs no escapes but, in `ascii` style, those
// of its characters beyond ASCII: `\u` and four lowercase hex digits, each
// half of a surrogate pair on its own, as Python writes them.
function _quote(text: string, style: Style): string {
  if (!style.ascii) return `"${text}"`;
  return `"${
    text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
  }"`;
}

/**
 * Produces AMMP payloads one after another. Each node publishes its cycles
 * in order, 60 s apart; nodes take turns at random.
 */
export class PayloadGenerator {
  #random: Random;
  // The realistic mix's own draws: the compact mix's draws stay those it
  // has always made, and both mixes share nodes, times and readings.
  #traits: Random | undefined;
  #nodes: string[];
  #sites: number[][] = [];
  #clock: number[];
  // The large sites: their devices beyond the node's own.
  #largeSites = new Map<number, number[]>();
  // Of the payload being written.
  #classes = new Set<PayloadClass>();
  #vids: string[] = [];

  /** Creates a generator; equal options give equal sequences. */
  constructor(options: PayloadGeneratorOptions = {}) {
    this.#random = seededRandom(options.seed ?? 1);
    const count = options.nodes ?? 500;
    this.#nodes = Array.from(
      { length: count },
      (_, i) => `b827eb${(0x100000 + i * 7919).toString(16).slice(-6)}`,
    );
    this.#clock = this.#nodes.map(() => 1709251200 + Math.floor(this.#random() * 3600));
    for (let i = 0; i < count; i++) this.#sites.push(this.#siteDevices());
    if ((options.mix ?? "realistic") === "realistic") this.#realisticSites(options.seed ?? 1);
  }

  /** The next message. */
  next(): GeneratedMessage {
    const random = this.#random;
    const traits = this.#traits;
    const index = Math.floor(random() * this.#nodes.length);
    const t = this.#clock[index];
    this.#clock[index] += 60;
    const classes = this.#classes;
    classes.clear();
    this.#vids.length = 0;

    const site = this.#sites[index];
    const large = this.#largeSites.get(index);
    const codes = large === undefined ? site : site.concat(large);
    // The realistic traits of this payload, and the devices that carry them.
    let style = COMPACT;
    let counterAt = -1;
    let nonFiniteAt = -1;
    let repeated = false;
    let noVid = false;
    if (traits !== undefined) {
      const shares = REALISTIC_SHARES;
      if (traits() < shares.python) style = PYTHON;
      if (traits() < shares.counter64bit) counterAt = Math.floor(traits() * codes.length);
      if (traits() < shares.nonFinite) nonFiniteAt = Math.floor(traits() * codes.length);
      repeated = traits() < shares.repeatedVid;
      noVid = traits() < shares.noVid;
    }
    const { item, key } = style;
    const additions = (position: number) => {
      let out = "";
      if (position === counterAt) {
        const value = traits!() < 0.5
          ? UINT64_ALL_ONES
          : String(TWO_TO_53 + 1n + 2n * BigInt(Math.floor(traits!() * 2 ** 40)));
        out += `${item}"E_total_Wh"${key}${value}`;
      }
      if (position === nonFiniteAt) {
        const token = NON_FINITE_TOKENS[Math.floor(traits!() * NON_FINITE_TOKENS.length)];
        out += `${item}"efficiency"${key}${token}`;
      }
      return out;
    };

    const devices = site.map((code, i) => this.#device(code, i, random, style, additions(i)));
    const duration = random() * 10;
    if (traits !== undefined) {
      for (let i = site.length; i < codes.length; i++) {
        devices.push(this.#device(codes[i], i, traits, style, additions(i)));
      }
      if (repeated) devices.push(this.#secondReading(codes, style));
      if (noVid) devices.push(this.#calculated(style));
      if (style === PYTHON) classes.add("python");
      if (large !== undefined) classes.add("large_site");
      if (counterAt !== -1) classes.add("counter_64bit");
      if (nonFiniteAt !== -1) classes.add("non_finite");
      if (repeated) classes.add("repeated_vid");
      if (noVid) classes.add("no_vid");
    }
    const m = style === COMPACT
      ? `{"snap_rev":912,"config_id":"c${index}","reading_duration":${duration.toFixed(2)}}`
      : `{"snap_rev": 912, "config_id": "c${index}", "reading_duration": ${
        _pythonFloat(String(Math.round(duration * 100) / 100))
      }}`;
    return {
      topic: `a/${this.#nodes[index]}/u/data`,
      payload: `{"t"${key}${t}${item}"r"${key}[${devices.join(item)}]${item}"m"${key}${m}}`,
      classes: classes.size === 0 ? ["plain"] : PAYLOAD_CLASSES.filter((c) => classes.has(c)),
    };
  }

  // A site's fleet: the number of devices is log-normal (median 3 to 4, capped
  // at 60) with 5 to 40 readings each; one node in about 150 is a large
  // plant of 45 to 60 devices with many readings, the tail of the sizes.
  #siteDevices(): number[] {
    const random = this.#random;
    const large = random() < 0.007;
    let count: number;
    if (large) {
      count = 45 + Math.floor(random() * 16);
    } else {
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      count = Math.max(1, Math.min(60, Math.round(Math.exp(Math.log(3.5) + 0.9 * normal))));
    }
    const site: number[] = [];
    for (let i = 0; i < count; i++) {
      const kind = Math.floor(random() * KINDS.length);
      const readings = large ? 36 + Math.floor(random() * 5) : 5 + Math.floor(random() * 36);
      site.push(kind * 100 + readings);
    }
    return site;
  }

  // The realistic mix's large sites: as many nodes as their share says, each
  // with 200 to 400 devices in all, its own devices first; the added ones
  // read 5 to 22 fields, a site's devices within 5 of each other, so that
  // sites come in 45 to 212 KB.
  #realisticSites(seed: number): void {
    const traits = this.#traits = seededRandom((seed ^ 0x7ea15) >>> 0);
    const count = this.#nodes.length;
    const order = this.#nodes.map((_, i) => i);
    const large = Math.round(count * REALISTIC_SHARES.largeSites);
    for (let i = 0; i < large; i++) {
      const j = i + Math.floor(traits() * (count - i));
      [order[i], order[j]] = [order[j], order[i]];
      const node = order[i];
      const devices = 200 + Math.floor(traits() * 201) - this.#sites[node].length;
      const fewest = 5 + Math.floor(traits() * 13);
      this.#largeSites.set(
        node,
        Array.from(
          { length: devices },
          () => Math.floor(traits() * KINDS.length) * 100 + fewest + Math.floor(traits() * 6),
        ),
      );
    }
  }

  #device(code: number, position: number, random: Random, style: Style, additions: string): string {
    const kind = KINDS[Math.floor(code / 100)];
    const readings = code % 100;
    const { item, key, decimals } = style;
    let vid = `"${kind.vid}-${position}"`;
    let nonAscii = "";
    const traits = this.#traits;
    if (traits !== undefined && traits() < REALISTIC_SHARES.nonAsciiDevices) {
      const variant = traits();
      const pick = Math.floor(traits() * POOL_SIZE);
      if (variant < 1 / 3) {
        vid = _quote(`${NON_ASCII_VIDS[pick % NON_ASCII_VIDS.length]}-${position}`, style);
      } else if (variant < 2 / 3) {
        const field = _quote(NON_ASCII_KEYS[pick % NON_ASCII_KEYS.length], style);
        nonAscii = `${item}${field}${key}${decimals[pick]}`;
      } else {
        const text = _quote(NON_ASCII_TEXTS[pick % NON_ASCII_TEXTS.length], style);
        nonAscii = `${item}"status_text"${key}${text}`;
      }
      this.#classes.add(style.ascii ? "non_ascii_escaped" : "non_ascii_raw");
    }
    this.#vids.push(vid);
    let out = `{"_d"${key}"${kind.driver}_${position}"${item}"_vid"${key}${vid}`;
    for (let i = 0; i < readings; i++) {
      const field = kind.fields[i];
      const texts = kind.text?.[field];
      const roll = random();
      const pick = Math.floor(random() * POOL_SIZE);
      let value: string;
      if (roll < 0.08) value = "null"; // a register that failed to read
      else if (texts !== undefined) value = `"${texts[pick % texts.length]}"`;
      else if (roll < 0.1) value = TEXT_NUMBERS[pick]; // some drivers send text
      else if (roll < 0.11) value = pick % 2 === 0 ? "true" : "false";
      else if (roll < 0.3) value = INTEGERS[pick];
      else value = decimals[pick];
      out += `${item}"${field}"${key}${value}`;
    }
    out += nonAscii + additions;
    if (random() < REALISTIC_SHARES.statusDevices) {
      const entries: string[] = [];
      for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
        const text = STATUS_TEXTS[Math.floor(random() * STATUS_TEXTS.length)];
        entries.push(`{"c"${key}"${text}"${item}"l"${key}${Math.floor(random() * 5)}}`);
      }
      out += `${item}"_s"${key}[${entries.join(item)}]`;
      this.#classes.add("status");
    }
    return out + "}";
  }

  // One of the payload's devices read again by a second driver: 3 to 8 of
  // its kind's fields, some of which the first reading has too.
  #secondReading(codes: number[], style: Style): string {
    const traits = this.#traits!;
    const { item, key, decimals } = style;
    const at = Math.floor(traits() * codes.length);
    const kind = KINDS[Math.floor(codes[at] / 100)];
    const driver = SECOND_DRIVERS[Math.floor(traits() * SECOND_DRIVERS.length)];
    let out = `{"_d"${key}"${driver}_${at}"${item}"_vid"${key}${this.#vids[at]}`;
    const count = 3 + Math.floor(traits() * 6);
    const from = Math.floor(traits() * (kind.fields.length - count));
    for (let i = from; i < from + count; i++) {
      out += `${item}"${kind.fields[i]}"${key}${decimals[Math.floor(traits() * POOL_SIZE)]}`;
    }
    return out + "}";
  }

  // A calculated device: `_vid` null or missing, half each.
  #calculated(style: Style): string {
    const traits = this.#traits!;
    const { item, key, decimals } = style;
    let out = `{"_d"${key}"_calc"`;
    if (traits() < 0.5) out += `${item}"_vid"${key}null`;
    for (const field of CALC_FIELDS) {
      out += `${item}"${field}"${key}${decimals[Math.floor(traits() * POOL_SIZE)]}`;
    }
    return out + "}";
  }
}

/** Generates `count` messages with a fresh generator. */
export function generateMessages(
  count: number,
  options: PayloadGeneratorOptions = {},
): GeneratedMessage[] {
  const generator = new PayloadGenerator(options);
  return Array.from({ length: count }, () => generator.next());
}

/**
 * Puts a probe device first in a payload's `r`: `{"_vid":"bench","seq":…,
 * "sent":…}`. The record keeps it as `"bench":{"seq":…,"sent":…}`, so a
 * reader can match each record to the moment it was published.
 */
export function withProbe(payload: string, seq: number, sentMicros: number): string {
  // `"r":[`, or `"r": [` as Python writes it.
  const at = payload.indexOf("[", payload.indexOf('"r":')) + 1;
  const probe = `{"_d":"bench","_vid":"bench","seq":${seq},"sent":${sentMicros}}`;
  const rest = payload.slice(at);
  return payload.slice(0, at) + probe + (rest.startsWith("]") ? "" : ",") + rest;
}

/** Reads the probe of {@linkcode withProbe} back from a payload or a record line. */
export function readProbe(line: string): { seq: number; sent: number } | undefined {
  const at = line.indexOf('"seq":');
  if (at === -1) return undefined;
  const comma = line.indexOf(",", at);
  const sentAt = line.indexOf('"sent":', comma);
  if (comma === -1 || sentAt === -1) return undefined;
  const seq = Number(line.slice(at + 6, comma));
  const sent = parseInt(line.slice(sentAt + 7, sentAt + 7 + 20), 10);
  return Number.isFinite(seq) && Number.isFinite(sent) ? { seq, sent } : undefined;
}
