/**
 * The error of a setting that cannot be used.
 *
 * @module
 */

/** A setting that cannot be used; its message names the variable. */
export class ConfigError extends Error {
  /** The environment variable at fault. */
  readonly variable: string;

  /** Creates the error for `variable`. */
  constructor(variable: string, message: string) {
    super(message);
    this.name = "ConfigError";
    this.variable = variable;
  }
}
