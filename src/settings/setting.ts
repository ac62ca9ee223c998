/**
 * One row of the settings table: what a setting is, as `settings.ts`
 * declares every one.
 *
 * @module
 */

/** The part of the configuration a setting belongs to; commands load only what they use. */
export type Section = "mqtt" | "metrics" | "log" | "transform" | "output" | "fleet";

/** One setting, as the table declares it. */
export interface Setting {
  /** The environment variable. */
  name: string;
  section: Section;
  /** A whole number within this range. */
  integer?: { min: number; max: number };
  /** One of these values; the order is that of error messages. */
  choices?: readonly string[];
  /** The value when unset; absent when there is none or it is derived. */
  default?: string | number;
  /** The README's default column, when it is not the default itself. */
  shown?: string;
  /** `--help`'s lines, `{default}` standing for the default; absent to leave it out. */
  help?: string;
  /** The README's meaning column. */
  description: string;
  /** A setting whose value is a secret itself: never in `agent.env`. */
  secret?: boolean;
  /** The systemd credential read under `$CREDENTIALS_DIRECTORY` when the setting is unset. */
  credential?: string;
  /** Shares its `--help` line and README row with the setting before it. */
  joined?: boolean;
  /** Its lines in `deploy/agent.env`: a comment above, an example, set or commented out. */
  envFile?: { comment?: string; example?: string; set?: boolean };
}
