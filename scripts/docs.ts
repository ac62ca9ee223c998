/**
 * `deno task docs`: writes what the table of settings documents, the
 * README's configuration table (between its `settings:begin` and
 * `settings:end` markers) and `deploy/agent.env`. A test fails when
 * either differs from what this writes.
 *
 * @module
 */

import { type Setting, SETTINGS } from "../src/settings/settings.ts";

/** The files this writes, from the repository's root. */
export const README = "README.md";
/** The commented template of the service's settings. */
export const AGENT_ENV = "deploy/agent.env";

const BEGIN = "<!-- settings:begin -->";
const END = "<!-- settings:end -->";

const AGENT_ENV_HEADER = `# Settings of the ammp-agent service, one VARIABLE=value a line; see
# \`ammp-agent --help\` for all of them. After a change:
#   systemctl restart ammp-agent
# Secrets do not belong here: the password goes in /etc/ammp-agent/mqtt-password,
# a TLS client key in /etc/ammp-agent/mqtt-key and a metrics token in
# /etc/ammp-agent/metrics-token (each mode 0600), which systemd hands to the
# agent as credentials.`;

/** The README's configuration table, one row per setting, aligned as `deno fmt` aligns it. */
export function settingsTable(): string {
  const rows = [["variable", "default", "meaning"]];
  SETTINGS.forEach((entry, index) => {
    if (entry.joined) return;
    const next: Setting | undefined = SETTINGS[index + 1];
    const name = next?.joined ? `\`${entry.name}\`, \`${next.name}\`` : `\`${entry.name}\``;
    const shown = entry.shown ?? (entry.default === undefined ? "none" : `\`${entry.default}\``);
    rows.push([name, shown, entry.description]);
  });
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(" | ")} |`;
  return [
    line(rows[0]),
    line(widths.map((width) => "-".repeat(width))),
    ...rows.slice(1).map(line),
  ].join("\n");
}

/** `readme` with the text between the settings markers replaced by the table. */
export function withSettingsTable(readme: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin === -1 || end < begin) {
    throw new Error(`Cannot find ${BEGIN} and then ${END} in the README`);
  }
  return `${readme.slice(0, begin)}${BEGIN}\n\n${settingsTable()}\n\n${readme.slice(end)}`;
}

/** `deploy/agent.env`: the settings a gateway sets or may set, each with why. */
export function agentEnv(): string {
  const lines = [AGENT_ENV_HEADER];
  for (const entry of SETTINGS) {
    if (entry.envFile === undefined) continue;
    if (entry.secret) throw new Error(`The secret ${entry.name} cannot be in ${AGENT_ENV}`);
    const { comment, example, set } = entry.envFile;
    if (comment !== undefined) {
      lines.push("", ...comment.split("\n").map((text) => `# ${text}`));
    }
    lines.push(`${set ? "" : "#"}${entry.name}=${example ?? entry.default ?? ""}`);
  }
  return lines.join("\n") + "\n";
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  const readme = new URL(README, root);
  Deno.writeTextFileSync(readme, withSettingsTable(Deno.readTextFileSync(readme)));
  Deno.writeTextFileSync(new URL(AGENT_ENV, root), agentEnv());
}
