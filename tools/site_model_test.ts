import assert from "node:assert/strict";
import { transform } from "../src/transform/transform.ts";
import { Fleet, type Payload, seededRandom } from "./site_model.ts";

const encoder = new TextEncoder();
// 2024-03-01T00:00:00Z
const MIDNIGHT = 1709251200;

// A day of readings every 5 minutes for each site of a fleet.
function day(fleet: Fleet, from = MIDNIGHT): { site: number; t: number; payload: Payload }[] {
  const out = [];
  for (let t = from; t < from + 86400; t += 300) {
    for (const [site, s] of fleet.sites.entries()) {
      const [message] = fleet.messages(s, t);
      out.push({ site, t, payload: JSON.parse(message.payload) as Payload });
    }
  }
  return out;
}

Deno.test("seededRandom() repeats its sequence for a seed and differs between seeds", () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const c = seededRandom(43);
  const first = Array.from({ length: 5 }, a);
  assert.deepEqual(Array.from({ length: 5 }, b), first);
  assert.notDeepEqual(Array.from({ length: 5 }, c), first);
  for (const value of first) assert.ok(value >= 0 && value < 1);
});

Deno.test("a fleet is the same for the same seed and different for another", () => {
  const payloads = (seed: number) => {
    const fleet = new Fleet({ nodes: 4, seed, malformed: 0.2, nonData: 0.2 });
    return fleet.sites.flatMap((site) => fleet.messages(site, MIDNIGHT + 43200));
  };
  assert.deepEqual(payloads(7), payloads(7));
  assert.notDeepEqual(payloads(7), payloads(8));
});

Deno.test("node ids are distinct lowercase hex, MAC-like or starting with ff", () => {
  const fleet = new Fleet({ nodes: 200, seed: 1 });
  const ids = fleet.sites.map((site) => site.nodeId);
  assert.equal(new Set(ids).size, 200);
  for (const id of ids) assert.match(id, /^(b827eb[0-9a-f]{6}|ff[0-9a-f]{10})$/);
  assert.ok(ids.some((id) => id.startsWith("ff")) && ids.some((id) => id.startsWith("b827eb")));
});

Deno.test("every site has a logger, PV inverters and a load meter; batteries, gensets and grid meters vary", () => {
  const fleet = new Fleet({ nodes: 40, seed: 3 });
  const kinds = fleet.sites.map((site) =>
    new Set(fleet.messages(site, MIDNIGHT)[0].payload.match(/"_d":"[a-z_0-9]+"/g))
  );
  for (const set of kinds) {
    assert.ok(set.has('"_d":"logger"'));
    assert.ok([...set].some((d) => d.startsWith('"_d":"sma_s')), "a PV inverter");
    assert.ok(set.has('"_d":"eastron_sdm630"'));
  }
  const count = (d: string) => kinds.filter((set) => set.has(`"_d":"${d}"`)).length;
  for (const d of ["sma_si", "dse855", "eastron_sdm530"]) {
    assert.ok(count(d) > 0 && count(d) < 40, `${d} on some sites only: ${count(d)}`);
  }
});

Deno.test("PV follows the sun: dark for part of the day, about 12 hours from its peak", () => {
  const fleet = new Fleet({ nodes: 10, seed: 5 });
  const readings = day(fleet);
  for (const [index] of fleet.sites.entries()) {
    const pv = readings.filter((r) => r.site === index).map((r) => ({
      t: r.t,
      w: r.payload.r.filter((d) => d._vid?.startsWith("inv-"))
        .reduce((sum, d) => sum + (typeof d.P_total === "number" ? d.P_total : 0), 0),
    }));
    const dark = pv.filter((p) => p.w === 0).length;
    assert.ok(dark > pv.length / 3, `site ${index}: dark a good part of the day (${dark})`);
    const peak = pv.reduce((best, p) => p.w > best.w ? p : best);
    assert.ok(peak.w > 0);
    // The peak and the dark hours are 12 h apart, whatever the site's time zone.
    const darkest = pv.filter((p) => p.w === 0).map((p) => p.t);
    const midDark = darkest.some((t) =>
      Math.abs(((t - peak.t + 86400) % 86400) - 43200) < 3 * 3600
    );
    assert.ok(midDark, `site ${index}: dark about 12 h from its peak`);
  }
});

Deno.test("energy counters only grow and the battery stays between 0 and 100 %", () => {
  const fleet = new Fleet({ nodes: 10, seed: 9 });
  const last = new Map<string, number>();
  let batteries = 0;
  for (let t = MIDNIGHT; t < MIDNIGHT + 3 * 86400; t += 600) {
    for (const site of fleet.sites) {
      const payload = JSON.parse(fleet.messages(site, t)[0].payload) as Payload;
      for (const device of payload.r) {
        for (const field of ["E_total", "E_import", "E_export", "E_absorbed", "E_released", "E"]) {
          const value = device[field];
          if (typeof value !== "number") continue;
          const key = `${site.nodeId}/${device._vid}/${field}`;
          assert.ok(value >= (last.get(key) ?? 0), `${key} went down to ${value}`);
          last.set(key, value);
        }
        if (typeof device.batt_soc === "number") {
          batteries++;
          assert.ok(device.batt_soc >= 0 && device.batt_soc <= 100, String(device.batt_soc));
        }
      }
    }
  }
  assert.ok(batteries > 0);
});

Deno.test("payloads carry some nulls, devices with only _d and _vid, status entries and a device without _vid", () => {
  const fleet = new Fleet({ nodes: 20, seed: 11 });
  let nulls = 0;
  let silent = 0;
  let status = 0;
  let missingVid = 0;
  let devices = 0;
  for (let t = MIDNIGHT; t < MIDNIGHT + 2 * 86400; t += 900) {
    for (const site of fleet.sites) {
      const payload = JSON.parse(fleet.messages(site, t)[0].payload) as Payload;
      assert.equal(payload.t, t);
      for (const device of payload.r) {
        devices++;
        const keys = Object.keys(device);
        if (keys.every((key) => key === "_d" || key === "_vid") && device._vid) silent++;
        if (Object.values(device).includes(null)) nulls++;
        if (device._s !== undefined) status++;
        if (device._vid === undefined) missingVid++;
      }
    }
  }
  // Shares of a few percent, not none and not most.
  for (const [name, n] of Object.entries({ nulls, silent, status, missingVid })) {
    assert.ok(n > 0 && n < devices / 5, `${name}: ${n} of ${devices} devices`);
  }
});

Deno.test("the agent's transform takes every data payload as a record and the rest as asked", () => {
  const fleet = new Fleet({ nodes: 10, seed: 13, malformed: 0.1, nonData: 0.1 });
  const kinds = { data: 0, malformed: 0, non_data: 0 };
  for (let t = MIDNIGHT; t < MIDNIGHT + 86400; t += 900) {
    for (const site of fleet.sites) {
      for (const message of fleet.messages(site, t)) {
        kinds[message.kind]++;
        const result = transform(message.topic, encoder.encode(message.payload));
        const expected = { data: "record", malformed: "dead", non_data: "ignored" }[message.kind];
        assert.equal(result.kind, expected, `${message.topic} ${message.payload.slice(0, 80)}`);
        if (result.kind === "record") {
          assert.equal(result.record.node_id, site.nodeId);
          assert.ok(Object.keys(result.record.data).length >= 3);
        }
      }
    }
  }
  const data = kinds.data + kinds.malformed;
  assert.equal(data, 960);
  // About 10 % each; the bounds are wide enough for any seed.
  assert.ok(kinds.malformed > 40 && kinds.malformed < 160, `malformed ${kinds.malformed}`);
  assert.ok(kinds.non_data > 40 && kinds.non_data < 160, `non-data ${kinds.non_data}`);
  const clean = new Fleet({ nodes: 10, seed: 13 });
  const messages = clean.sites.flatMap((site) => clean.messages(site, MIDNIGHT));
  assert.ok(messages.every((message) => message.kind === "data"));
});
