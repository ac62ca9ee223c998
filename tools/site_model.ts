/**
 * Simulated AMMP sites: what dataloggers publish, generated without I/O.
 *
 * Each site has a logger, PV inverters, meters and, depending on the site,
 * a battery and a genset. Their readings move plausibly: PV follows the
 * sun at the site's longitude and passing clouds, the battery charges from
 * surplus PV and carries the load otherwise, the genset starts when the
 * battery runs low, and energy counters only grow. Like real traffic, some
 * readings are null, a device now and then returns nothing but `_d` and
 * `_vid`, status entries (`_s`) appear with alarms, and a calculated device
 * may lack a `_vid`. Everything follows from the seed.
 *
 * @module
 */

import { type Random, seededRandom } from "./seeded_random.ts";

export { type Random, seededRandom } from "./seeded_random.ts";

/** A reading value as a logger publishes it; `null` is a failed read. */
export type PayloadValue = number | string | boolean | null;

/** One device reading of a payload. */
export interface DeviceReading {
  _d: string;
  _vid?: string;
  _s?: { c: string; l: number }[];
  [field: string]: PayloadValue | string | { c: string; l: number }[] | undefined;
}

/** A data payload as ammp-edge publishes it on `a/<node_id>/u/data`. */
export interface Payload {
  t: number;
  r: DeviceReading[];
  m: { snap_rev: number; config_id: string; reading_duration: number; data_provider: string };
}

/** One MQTT message of the simulation. */
export interface SimulatedMessage {
  topic: string;
  payload: string;
  /** `data`, a deliberately `malformed` payload, or a `non_data` topic. */
  kind: "data" | "malformed" | "non_data";
}

/** Options for {@linkcode Fleet}. */
export interface FleetOptions {
  /** Number of sites (nodes). */
  nodes: number;
  /** The seed everything follows from. */
  seed: number;
  /** Share of data payloads, 0 to 1, replaced by a malformed one. */
  malformed?: number;
  /** Share of data payloads, 0 to 1, followed by a message on a topic without data. */
  nonData?: number;
  /** The first site's node id, instead of one drawn from the seed. */
  nodeId?: string;
}

const NULL_SHARE = 0.01;
const SILENT_DEVICE_SHARE = 0.02;
const GRID_FAULT_SHARE = 0.002;

interface Inverter {
  vid: string;
  driver: string;
  ratedW: number;
  energyWh: number;
  fault: number;
}

/** One simulated site and the state of its devices. */
export class Site {
  /** The node id: lowercase hex, MAC-like (`b827eb…`) or random (`ff…`). */
  readonly nodeId: string;
  #random: Random;
  #lastT: number | undefined;
  #bootTime = 0;
  #utcOffsetHours: number;
  #cloud: number;
  #inverters: Inverter[];
  #gridTied: boolean;
  #battery: { capacityWh: number; ratedW: number; soc: number; inWh: number; outWh: number } | null;
  #genset: {
    ratedW: number;
    running: boolean;
    runtimeS: number;
    energyWh: number;
    fuelL: number;
    fuelLevel: number;
  } | null;
  #loadPeakW: number;
  #grid: { importWh: number; exportWh: number };
  #loadWh: number;
  #calc: boolean;
  #configId: string;

  /** Lays out a site from its own generator. */
  constructor(random: Random, nodeId: string) {
    this.#random = random;
    this.nodeId = nodeId;
    const r = random;
    // Sites from West Africa to South-East Asia: UTC-1 to UTC+8.
    this.#utcOffsetHours = Math.round(-1 + r() * 9);
    this.#cloud = r() * 0.5;
    const inverters = 1 + Math.floor(r() * 4);
    const ratedW = [5000, 10000, 25000, 60000][Math.floor(r() * 4)];
    this.#inverters = Array.from({ length: inverters }, (_, i) => ({
      vid: `inv-${i + 1}`,
      driver: ratedW >= 25000 ? `sma_stp_${i + 1}` : `sma_sb_${i + 1}`,
      ratedW,
      energyWh: Math.round(r() * 5e7),
      fault: 0,
    }));
    const pvW = inverters * ratedW;
    this.#gridTied = r() < 0.5;
    this.#battery = !this.#gridTied || r() < 0.4
      ? {
        capacityWh: Math.round(pvW * (2 + r() * 3)),
        ratedW: Math.round(pvW * 0.6),
        soc: 40 + r() * 50,
        inWh: Math.round(r() * 1e7),
        outWh: Math.round(r() * 1e7),
      }
      : null;
    this.#genset = !this.#gridTied
      ? {
        ratedW: Math.round(pvW * 0.5),
        running: false,
        runtimeS: Math.round(r() * 1e7),
        energyWh: Math.round(r() * 1e7),
        fuelL: Math.round(r() * 1e5),
        fuelLevel: 30 + r() * 70,
      }
      : null;
    this.#loadPeakW = pvW * (0.3 + r() * 0.4);
    this.#grid = { importWh: Math.round(r() * 1e7), exportWh: Math.round(r() * 1e6) };
    this.#loadWh = Math.round(r() * 1e7);
    this.#calc = r() < 0.25;
    this.#configId = Math.floor(r() * 0xffffff).toString(16).padStart(6, "0");
  }

  /**
   * The payload for reading time `t` (Unix seconds). State moves on by the
   * time since the previous reading, so calls must come in time order.
   */
  reading(t: number): Payload {
    const r = this.#random;
    const dt = this.#lastT === undefined ? 60 : Math.min(Math.max(t - this.#lastT, 0), 3600);
    this.#lastT = t;
    if (this.#bootTime === 0) this.#bootTime = t - Math.round(3600 + r() * 30 * 86400);
    const hours = dt / 3600;
    const localHour = (((t / 3600 + this.#utcOffsetHours) % 24) + 24) % 24;
    const sun = localHour > 6 && localHour < 18 ? Math.sin(Math.PI * (localHour - 6) / 12) : 0;
    this.#cloud = clamp(this.#cloud + (r() - 0.5) * 0.1 * Math.sqrt(dt / 60), 0, 0.9);
    const irradiance = sun * (1 - 0.75 * this.#cloud);
    const ambient = 22 + 10 * sun;
    const devices: DeviceReading[] = [];

    devices.push({
      _d: "logger",
      _vid: `logger-${this.nodeId}`,
      cpu_load: round(0.2 + r() * 0.6, 2),
      memory_usage: round(35 + r() * 20, 1),
      disk_usage: round(41 + (t % 86400) / 86400, 1),
      cpu_temp: round(ambient + 20 + r() * 5, 1),
      boot_time: this.#bootTime,
    });

    let pvW = 0;
    for (const inverter of this.#inverters) {
      if (inverter.fault > 0) inverter.fault = Math.max(0, inverter.fault - dt);
      else if (r() < GRID_FAULT_SHARE) inverter.fault = 300 + r() * 1200;
      const power = inverter.fault > 0 ? 0 : inverter.ratedW * irradiance * (0.92 + r() * 0.05);
      pvW += power;
      inverter.energyWh += power * hours;
      const reading: DeviceReading = {
        _d: inverter.driver,
        _vid: inverter.vid,
        P_total: round(power, 1),
        E_total: Math.round(inverter.energyWh),
        V_L1: round(230 + (r() - 0.5) * 6, 1),
        freq: round(50 + (r() - 0.5) * 0.1, 2),
        dc_in_V1: power > 0 ? round(560 + r() * 80, 1) : 0,
        temp_internal: round(ambient + 15 * power / inverter.ratedW + r(), 1),
        condition: inverter.fault > 0 ? "Fault" : power > 0 ? "MPP" : "Standby",
      };
      if (inverter.fault > 0) reading._s = [{ c: "Grid fault", l: 3 }];
      devices.push(reading);
    }

    // Load: a base, a morning bump and an evening peak.
    const profile = 0.35 + 0.25 * bump(localHour, 8, 2) + 0.6 * bump(localHour, 20, 2.5);
    const loadW = this.#loadPeakW * profile * (0.9 + r() * 0.2);
    this.#loadWh += loadW * hours;
    let balanceW = pvW - loadW;

    const battery = this.#battery;
    if (battery !== null) {
      const genset = this.#genset;
      // The genset starts when the battery runs low and stops once it has recharged.
      if (genset !== null) {
        if (battery.soc < 20) genset.running = true;
        else if (battery.soc > 60) genset.running = false;
      }
      const genW = genset?.running ? genset.ratedW * (0.7 + r() * 0.1) : 0;
      if (genset !== null) {
        genset.runtimeS += genset.running ? dt : 0;
        genset.energyWh += genW * hours;
        // About 0.3 l per kWh from a 500 l tank, refilled when nearly empty.
        const fuel = genW / 1000 * hours * 0.3;
        genset.fuelL += fuel;
        genset.fuelLevel -= fuel / 5;
        if (genset.fuelLevel < 8) genset.fuelLevel = 100;
      }
      balanceW += genW;
      const full = battery.soc >= 99.5 && balanceW > 0;
      const empty = battery.soc <= 5 && balanceW < 0;
      const batteryW = full || empty ? 0 : clamp(balanceW, -battery.ratedW, battery.ratedW);
      battery.soc = clamp(battery.soc + batteryW * hours / battery.capacityWh * 100, 0, 100);
      if (batteryW > 0) battery.inWh += batteryW * hours;
      else battery.outWh -= batteryW * hours;
      balanceW -= batteryW;
      const voltage = 46 + battery.soc * 0.08;
      const reading: DeviceReading = {
        _d: "sma_si",
        _vid: "bat-1",
        batt_soc: round(battery.soc, 1),
        batt_V: round(voltage, 2),
        batt_I: round(batteryW / voltage, 1),
        batt_temp: round(ambient + 3 + r(), 1),
        P_total: round(-batteryW, 1),
        E_absorbed: Math.round(battery.inWh),
        E_released: Math.round(battery.outWh),
        operating_mode: batteryW > 50 ? "charging" : batteryW < -50 ? "discharging" : "idle",
      };
      if (battery.soc < 20) reading._s = [{ c: "Low SOC", l: 2 }];
      devices.push(reading);

      if (genset !== null) {
        const gen: DeviceReading = {
          _d: "dse855",
          _vid: "gen-1",
          P: round(genW, 0),
          E: Math.round(genset.energyWh / 100) * 100,
          runtime: genset.runtimeS,
          fuel_used: Math.round(genset.fuelL),
          fuel_level: round(genset.fuelLevel, 1),
          freq: genset.running ? round(50 + (r() - 0.5) * 0.4, 1) : 0,
          temp_coolant: genset.running ? round(82 + r() * 6, 0) : round(ambient, 0),
          running: genset.running,
        };
        if (genset.fuelLevel < 15) gen._s = [{ c: "Low fuel level", l: 3 }];
        devices.push(gen);
      }
    }

    if (this.#gridTied) {
      if (balanceW < 0) this.#grid.importWh -= balanceW * hours;
      else this.#grid.exportWh += balanceW * hours;
      devices.push({
        _d: "eastron_sdm530",
        _vid: "meter-grid",
        P_total: round(-balanceW, 1),
        E_import: Math.round(this.#grid.importWh),
        E_export: Math.round(this.#grid.exportWh),
        V_L1: round(231 + (r() - 0.5) * 8, 1),
        V_L2: round(231 + (r() - 0.5) * 8, 1),
        V_L3: round(231 + (r() - 0.5) * 8, 1),
        freq: round(50 + (r() - 0.5) * 0.1, 2),
      });
    }
    devices.push({
      _d: "eastron_sdm630",
      _vid: "meter-load",
      P_total: round(loadW, 1),
      E_total: Math.round(this.#loadWh),
      power_factor: round(0.9 + r() * 0.08, 2),
    });
    if (this.#calc) {
      // Calculated outputs carry no vendor id: real loggers publish them so.
      devices.push({ _d: "_calc", P_pv_total: round(pvW, 1) });
    }

    for (const [i, device] of devices.entries()) {
      if (r() < SILENT_DEVICE_SHARE) {
        // Every read of the device failed: only its keys remain.
        devices[i] = device._vid === undefined
          ? { _d: device._d }
          : { _d: device._d, _vid: device._vid };
        continue;
      }
      for (const key of Object.keys(device)) {
        if (!key.startsWith("_") && r() < NULL_SHARE) device[key] = null;
      }
    }

    return {
      t,
      r: devices,
      m: {
        snap_rev: 512,
        config_id: this.#configId,
        reading_duration: round(0.4 + r() * 2, 2),
        data_provider: "ammp-edge",
      },
    };
  }
}

/** All simulated sites, and the messages they publish. */
export class Fleet {
  /** The sites, in a stable order. */
  readonly sites: Site[];
  #random: Random;
  #malformed: number;
  #nonData: number;

  /** Lays out `options.nodes` sites from `options.seed`. */
  constructor(options: FleetOptions) {
    this.#random = seededRandom(options.seed);
    this.#malformed = options.malformed ?? 0;
    this.#nonData = options.nonData ?? 0;
    const ids = new Set<string>();
    this.sites = [];
    for (let i = 0; i < options.nodes; i++) {
      // Each site draws from its own generator, so a site's readings do not
      // depend on how many other sites there are or in which order they publish.
      const random = seededRandom(options.seed * 7919 + i + 1);
      let id: string;
      do id = nodeId(random); while (ids.has(id));
      if (i === 0 && options.nodeId !== undefined) id = options.nodeId;
      ids.add(id);
      this.sites.push(new Site(random, id));
    }
  }

  /**
   * The messages one site publishes for reading time `t`: its data payload
   * (malformed for a share of them), and sometimes a message on a topic
   * without data.
   */
  messages(site: Site, t: number): SimulatedMessage[] {
    const topic = `a/${site.nodeId}/u/data`;
    const payload = site.reading(t);
    const messages: SimulatedMessage[] = [];
    if (this.#random() < this.#malformed) {
      messages.push({ topic, payload: malformed(payload, this.#random), kind: "malformed" });
    } else {
      messages.push({ topic, payload: JSON.stringify(payload), kind: "data" });
    }
    if (this.#random() < this.#nonData) {
      messages.push(nonData(site.nodeId, t, this.#random));
    }
    return messages;
  }
}

/** The dead-letter reasons the malformed payloads produce, for reference. */
export const MALFORMED_KINDS = ["not_json", "not_object", "invalid_t", "invalid_r"] as const;

function malformed(payload: Payload, random: Random): string {
  const text = JSON.stringify(payload);
  switch (Math.floor(random() * MALFORMED_KINDS.length)) {
    case 0: // cut off in transit
      return text.slice(0, Math.floor(text.length * (0.2 + random() * 0.6)));
    case 1:
      return JSON.stringify(payload.r);
    case 2:
      return JSON.stringify({ ...payload, t: new Date(payload.t * 1000).toISOString() });
    default:
      return JSON.stringify({ ...payload, r: Object.fromEntries(payload.r.map((d, i) => [i, d])) });
  }
}

function nonData(node: string, t: number, random: Random): SimulatedMessage {
  const pick = random();
  if (pick < 0.4) {
    return { topic: `a/${node}/u/meta/boot_time`, payload: String(t - 3600), kind: "non_data" };
  }
  if (pick < 0.7) return { topic: `a/${node}/bridge_state`, payload: "1", kind: "non_data" };
  return {
    topic: `a/${node}/u/log/msg`,
    payload: `Reading cycle finished in ${round(0.4 + random() * 2, 2)} s`,
    kind: "non_data",
  };
}

// A gateway's MAC address (Raspberry Pi prefix b827eb), or a random id starting with ff.
function nodeId(random: Random): string {
  const hex = (digits: number) =>
    Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join("");
  return random() < 0.8 ? `b827eb${hex(6)}` : `ff${hex(10)}`;
}

function bump(hour: number, center: number, width: number): number {
  const distance = Math.min(Math.abs(hour - center), 24 - Math.abs(hour - center));
  return Math.exp(-(distance * distance) / (2 * width * width));
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
