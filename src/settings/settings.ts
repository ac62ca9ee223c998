/**
 * Every setting the agent reads, declared once: its name, how it is read,
 * its default, its section, and what `--help`, the README and
 * `deploy/agent.env` say about it. The validated configuration, the help
 * text, the permission set and the documents all come from this table.
 *
 * @module
 */

import { OUTPUT_FORMATS } from "../transform/format.ts";
import { DEFAULT_MAX_NODES } from "../fleet/node_table.ts";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../transform/transform.ts";
import { MQTT_SETTINGS } from "./settings_mqtt.ts";
import type { Setting } from "./setting.ts";

export type { Section, Setting } from "./setting.ts";

/** The default metrics port: outside Prometheus's exporter range 9100-9999. */
export const DEFAULT_METRICS_PORT = 2667;

/**
 * The default of `MAX_BUFFERED_BYTES`: 4 MiB. Taking a large payload leaves
 * about four times its size in garbage until V8 next collects, so a stall
 * with 100 KB payloads peaks near 87 MB at this bound, 103 MB at 8 MiB and
 * 118 MB at 16 MiB.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 4194304;

/** Every setting, in the order `--help` and the README show them. */
export const SETTINGS: readonly Setting[] = [
  ...MQTT_SETTINGS,
  {
    name: "NODE_ID",
    section: "transform",
    shown: "derived",
    help:
      "node id of records whose topic carries none, as\non the gateway's own broker (default: from the\nMAC address of eth0, en0, ... as ammp-edge\nderives it, when MQTT_TOPICS can match such a\ntopic)",
    description:
      "node id of records and dead letters whose topic carries none (`u/data` on the gateway); `a/<node_id>/` in a topic wins. Unset: derived as ammp-edge does, see [On the gateway](#on-the-gateway-next-to-the-datalogger).",
    envFile: {
      comment:
        'On the gateway, next to the datalogger (MQTT_TOPICS=u/data,...): the\nnode id of its records, as ammp-edge logs it ("Node ID: <id>"). Set it:\nthis unit keeps out the netlink socket that deriving it from the MAC\naddress of eth0 takes (see docs/gateway.md).',
      example: "b827eb2bb2a9",
    },
  },
  {
    name: "METRICS_LISTEN",
    section: "metrics",
    default: `127.0.0.1:${DEFAULT_METRICS_PORT}`,
    help: "host:port of /metrics (default {default})",
    description:
      `address of the HTTP endpoint. Use \`0.0.0.0:${DEFAULT_METRICS_PORT}\` to let a Prometheus on another host scrape it.`,
    envFile: {
      comment:
        `0.0.0.0:${DEFAULT_METRICS_PORT} lets a Prometheus on another host scrape /metrics; give it a\ntoken then (/etc/ammp-agent/metrics-token).`,
      set: true,
    },
  },
  {
    name: "METRICS_TOKEN_FILE",
    section: "metrics",
    credential: "metrics-token",
    help:
      "file holding a bearer token that /metrics,\n/nodes and / then require (or metrics-token\nunder $CREDENTIALS_DIRECTORY)",
    description:
      "file that holds a bearer token (at least 16 characters). `/metrics`, `/nodes` and `/` then answer only requests that carry it, see [Protecting `/metrics`](#protecting-metrics).",
  },
  {
    name: "LOG_LEVEL",
    section: "log",
    choices: ["info", "debug", "warning", "error"],
    default: "info",
    help: "debug, info, warning or error (default {default})",
    description: "`debug`, `info`, `warning` or `error`",
  },
  {
    name: "LOG_FORMAT",
    section: "log",
    choices: ["json", "text"],
    default: "json",
    help: "json or text (default {default})",
    description: "`json` (one object per line) or `text`",
    envFile: { set: true },
  },
  {
    name: "OUTPUT_FORMAT",
    section: "transform",
    choices: OUTPUT_FORMATS,
    default: "record",
    help:
      "record (one JSON record per payload), device\n(one JSON line per device) or influx (InfluxDB\nline protocol) (default {default})",
    description:
      "how records are written on stdout: `record`, `device` or `influx` (see [Output formats](#output-formats))",
  },
  {
    name: "OUTPUT_FILE",
    section: "output",
    shown: "stdout",
    help:
      "append records to this file instead of stdout;\nSIGHUP reopens it (and DEAD_LETTER_FILE)",
    description:
      "append records to this file (the agent opens it) instead of stdout. At start a torn last line is removed; SIGHUP reopens it, see [Delivery](#delivery-what-is-guaranteed).",
    envFile: {
      comment:
        "Append the records to a file the agent opens itself, instead of stdout: a\ntorn last line is repaired at start, SIGHUP reopens it after logrotate, and\nOUTPUT_SYNC=always (the default with OUTPUT_FILE) fdatasyncs every written\nbatch before acknowledging it; never leaves that to the kernel.",
      example: "/var/lib/ammp-agent/records.ndjson",
    },
  },
  {
    name: "OUTPUT_SYNC",
    section: "output",
    choices: ["always", "never"],
    shown: "`always` / `never`",
    help: "always (fdatasync before acknowledging; the\ndefault with OUTPUT_FILE) or never",
    description:
      "`always` (the default with `OUTPUT_FILE`): fdatasync the files before acknowledging what they hold. `never` (the default otherwise) leaves it to the kernel.",
    envFile: { example: "always" },
  },
  {
    name: "DEAD_LETTER_FILE",
    section: "output",
    shown: "stderr",
    help: "append dead letters to this file instead of stderr",
    description:
      "append dead letters to this file as JSON lines, instead of stderr. Repaired, reopened and synced like `OUTPUT_FILE`.",
    envFile: {
      comment: "Dead letters as JSON lines in their own file instead of stderr.",
      example: "/var/lib/ammp-agent/dead-letters.ndjson",
    },
  },
  {
    name: "MAX_PAYLOAD_BYTES",
    section: "transform",
    integer: { min: 64, max: 256 * 1024 * 1024 },
    default: DEFAULT_MAX_PAYLOAD_BYTES,
    help: "larger payloads become dead letters (default {default})",
    description: "a larger payload becomes a `too_large` dead letter",
  },
  {
    name: "MAX_BUFFERED_BYTES",
    section: "output",
    integer: { min: 65536, max: 4 * 1024 * 1024 * 1024 },
    default: DEFAULT_MAX_BUFFERED_BYTES,
    help:
      "payload bytes taken and not yet written above which\nthe agent stops reading from the broker\n(default {default}, 4 MiB)",
    description:
      "payload bytes taken and not yet written (4 MiB) at which the agent stops reading from the broker until stdout catches up. This bounds memory, at any QoS.",
    envFile: {
      comment:
        "Payload bytes taken and not yet written (stdout slow or stalled) above\nwhich the agent stops reading from the broker. Default: 4 MiB.",
    },
  },
  {
    name: "SHUTDOWN_TIMEOUT_SECONDS",
    section: "output",
    integer: { min: 1, max: 3600 },
    default: 10,
    help: "longest drain on SIGTERM (default {default})",
    description: "longest drain on SIGTERM/SIGINT",
  },
  {
    name: "MAX_NODES",
    section: "fleet",
    integer: { min: 0, max: 10_000_000 },
    default: DEFAULT_MAX_NODES,
    help: "sites the fleet view tracks at most, 0 for none\n(default {default})",
    description:
      "nodes the [fleet view](#sites) tracks at most; messages of others are counted in `ammp_agent_nodes_untracked_total`. `0` turns the fleet view off.",
    envFile: {
      comment:
        "The fleet view: which sites report, are silent, offline or backfilling.\nThe unit's StateDirectory= sets STATE_DIRECTORY, where the node table is kept.",
    },
  },
  {
    name: "NODE_SILENT_AFTER_SECONDS",
    section: "fleet",
    integer: { min: 1, max: 31_536_000 },
    shown: "derived",
    help:
      "a site is silent after this long without data\n(default: 10 of its usual intervals, from 300 s\nto one day)",
    description:
      "a node is silent after this long without data. Unset: ten times its usual interval, at least 300 s, at most one day.",
    envFile: { comment: "Unset: ten of each node's usual intervals, from 300 s to one day." },
  },
  {
    name: "NODE_METRICS",
    section: "fleet",
    choices: ["on", "off"],
    default: "on",
    help: "on (per-site series, up to 10000 sites) or off\n(default {default})",
    description:
      "`on`: per-node series (`ammp_agent_node_*{node_id}`) while at most 10,000 nodes are tracked; `off`: none",
    envFile: {},
  },
  {
    name: "STATE_DIRECTORY",
    section: "fleet",
    shown: "none (systemd sets it)",
    help:
      "keep the fleet view's node table in this folder\nacross restarts (systemd's StateDirectory=)",
    description:
      "folder where the fleet view keeps its node table across restarts (`nodes.1.json`, `nodes.2.json`)",
  },
];

/** Every environment variable the agent reads, for permissions and `--env-file`. */
export const ENV_VARS: readonly string[] = SETTINGS.map((setting) => setting.name);

/** The setting called `name`; throws for a name the table does not hold. */
export function setting(name: string): Setting {
  const found = SETTINGS.find((candidate) => candidate.name === name);
  if (found === undefined) throw new RangeError(`No setting "${name}"`);
  return found;
}

/** The settings part of `--help`: one entry per setting that has help, aligned. */
export function settingsHelp(): string {
  const lines: string[] = [];
  SETTINGS.forEach((entry, index) => {
    if (entry.help === undefined) return;
    const next = SETTINGS[index + 1];
    const name = next?.joined ? `${entry.name}, ${next.name}` : entry.name;
    const text = entry.help.replaceAll("{default}", String(entry.default)).split("\n");
    lines.push(`  ${name.padEnd(27)}  ${text[0]}`);
    for (const line of text.slice(1)) lines.push(`${" ".repeat(31)}${line}`);
  });
  return lines.join("\n");
}
