/**
 * `ammp-agent --help`: the commands, and every setting from the table.
 *
 * @module
 */

import { settingsHelp } from "../settings/settings.ts";
import { VERSION } from "../version.ts";
import { DEFAULT_QUIET_SECONDS } from "./leave.ts";

/** The text of `ammp-agent --help`. */
export const HELP = `ammp-agent ${VERSION}
Subscribes to AMMP datalogger payloads on an MQTT broker and writes one
NDJSON record per payload on stdout (or OUTPUT_FILE). Logs and dead letters
go to stderr.

Usage:
  ammp-agent [--env-file PATH]          run the agent
  ammp-agent transform [--topic TOPIC] [FILE...]
                                        transform payloads, one per line, from
                                        the files or stdin, and exit
  ammp-agent check [--wait-message SECONDS]
                                        connect, log in and subscribe with this
                                        configuration, report, and exit
  ammp-agent healthcheck                exit 0 when /readyz of the agent at
                                        METRICS_LISTEN answers 200, else 1
  ammp-agent nodes [--state STATE] [--json]
                                        the sites the agent at METRICS_LISTEN
                                        hears from, and their state
  ammp-agent leave [--quiet-seconds N]  retire this client id: unsubscribe,
                                        write what the broker kept for it,
                                        and once nothing has come for N
                                        seconds (default ${DEFAULT_QUIET_SECONDS}) end its session
  ammp-agent --help | --version

Configuration (environment variables; --env-file reads them from a file,
and variables already set win over the file):
${settingsHelp()}

Exit codes: 0 stopped cleanly (check: passed), 1 failed while running (check:
failed), 2 bad configuration.
`;
