/**
 * Seeded generator of realistic AMMP data payloads: 1 to 60 devices of 5 to
 * 40 readings each, with failed reads (`null`), readings that drivers send
 * as text, the odd boolean, occasional `_s` status entries and `m`
 * metadata, spread over many node ids. The same seed gives the same bytes.
 *
 * @module
 */

import { seededRandom } from "../tools/seeded_random.ts";

/** A payload and the topic it is published on. */
export interface GeneratedMessage {
  topic: string;
  /** The payload as JSON text (one line, no newline). */
  payload: string;
}

/** Options for {@linkcode PayloadGenerator}. */
export interface PayloadGeneratorOptions {
  /** Seed of the random sequence (default 1). */
  seed?: number;
  /** How many distinct node ids the messages spread over (default 500). */
  nodes?: number;
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

/**
 * Produces AMMP payloads one after another. Each node publishes its cycles
 * in order, 60 s apart; nodes take turns at random.
 */
export class PayloadGenerator {
  #random: () => number;
  #nodes: string[];
  #sites: number[][] = [];
  #clock: number[];

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
  }

  /** The next message. */
  next(): GeneratedMessage {
    const index = Math.floor(this.#random() * this.#nodes.length);
    const t = this.#clock[index];
    this.#clock[index] += 60;
    const devices = this.#sites[index].map((kind, i) => this.#device(kind, i));
    const m = `{"snap_rev":912,"config_id":"c${index}","reading_duration":${
      (this.#random() * 10).toFixed(2)
    }}`;
    return {
      topic: `a/${this.#nodes[index]}/u/data`,
      payload: `{"t":${t},"r":[${devices.join(",")}],"m":${m}}`,
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

  #device(code: number, position: number): string {
    const random = this.#random;
    const kind = KINDS[Math.floor(code / 100)];
    const readings = code % 100;
    let out = `{"_d":"${kind.driver}_${position}","_vid":"${kind.vid}-${position}"`;
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
      else value = DECIMALS[pick];
      out += `,"${field}":${value}`;
    }
    if (random() < 0.03) {
      const entries: string[] = [];
      for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
        const text = STATUS_TEXTS[Math.floor(random() * STATUS_TEXTS.length)];
        entries.push(`{"c":"${text}","l":${Math.floor(random() * 5)}}`);
      }
      out += `,"_s":[${entries.join(",")}]`;
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
  const at = payload.indexOf('"r":[') + 5;
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
