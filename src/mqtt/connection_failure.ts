/**
 * Why a connection to the broker failed, in words a field engineer can act
 * on.
 *
 * @module
 */

import type { Config } from "../settings/load_config.ts";
import type { TakeoverSigns } from "./_session_takeover.ts";
import { TLS_ANSWER } from "./_mqtt_socket.ts";

const CONNACK_REASONS: Record<number, string> = {
  4: "bad user name or password",
  5: "not authorized",
  134: "bad user name or password",
  135: "not authorized",
};

// Node's codes for a broker certificate that no trusted CA signed.
const UNTRUSTED = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "INVALID_CA",
]);

// The port IANA registers for MQTT over TLS.
const MQTT_TLS_PORT = 8883;

// Node's message for a TLS connection closed before the handshake ended.
const BEFORE_HANDSHAKE = /before secure TLS connection was established/;

/** Why a connection failed: a plain sentence part, and the code behind it. */
export interface ConnectionFailure {
  /** What failed and what to check, e.g. for the log. */
  reason: string;
  /** The error code (`SELF_SIGNED_CERT_IN_CHAIN`, `ECONNREFUSED`, `134`), if any. */
  code?: string;
}

/** Options for {@linkcode describeError}. */
export interface DescribeErrorOptions {
  /**
   * Whether the broker had accepted the connection (CONNACK) before it
   * failed; if not, a reset or a close names the scheme of `MQTT_URL`.
   */
  connected?: boolean;
}

/**
 * Describes a failed connection in words a field engineer can act on: which
 * check failed, against which host, and the setting to look at. Never
 * includes the password.
 */
export function describeError(
  error: Error | undefined,
  config: Config["mqtt"],
  options: DescribeErrorOptions = {},
): ConnectionFailure {
  const raw = (error as { code?: unknown } | undefined)?.code;
  const code = raw === undefined ? undefined : String(raw);
  const scheme = describeScheme(error, code, config, options.connected ?? false);
  if (scheme !== undefined) return scheme;
  if (error === undefined) return { reason: "the connection closed" };
  if (typeof raw === "number" && CONNACK_REASONS[raw]) {
    return {
      reason: `the broker refused the login of user "${config.username ?? ""}": ${
        CONNACK_REASONS[raw]
      }, check MQTT_USERNAME and the password`,
      code,
    };
  }
  const host = config.host;
  const name = config.servername ?? host;
  const message = error.message;
  if (code !== undefined && UNTRUSTED.has(code)) {
    return {
      reason: config.caFile === undefined
        ? `the TLS certificate of ${host} is not signed by any CA this machine trusts, set MQTT_CA_FILE to the broker's CA certificate`
        : `the TLS certificate of ${host} is not signed by the CA in MQTT_CA_FILE "${config.caFile}", check that this file is the broker's CA certificate`,
      code,
    };
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return {
      reason: `the TLS certificate of ${host} ${
        code === "CERT_HAS_EXPIRED" ? "has expired" : "is not valid yet"
      }, check the broker's certificate and this machine's clock`,
      code,
    };
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    // Node's TLS error carries the certificate it refused.
    const listed = (error as { cert?: { subjectaltname?: unknown } }).cert?.subjectaltname;
    return {
      reason: `the TLS certificate of ${host} is not valid for the name "${name}"${
        typeof listed === "string" && listed !== "" ? ` (it lists ${listed})` : ""
      }, connect by a name it lists or set MQTT_TLS_SERVERNAME to one`,
      code,
    };
  }
  if (/CertificateRequired|CERTIFICATE_REQUIRED/i.test(`${code} ${message}`)) {
    return {
      reason: config.cert === undefined
        ? `the broker ${host} requires a client certificate, set MQTT_CERT_FILE and MQTT_KEY_FILE`
        : `the broker ${host} did not accept the client certificate in MQTT_CERT_FILE "${config.certFile}"`,
      code,
    };
  }
  if (
    config.cert !== undefined &&
    /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|ACCESS_DENIED)/.test(code ?? "")
  ) {
    return {
      reason:
        `the broker ${host} did not accept the client certificate in MQTT_CERT_FILE "${config.certFile}" (${message})`,
      code,
    };
  }
  if (code === "ECONNREFUSED") {
    return { reason: `nothing accepts connections at ${host}:${config.port} (${code})`, code };
  }
  return { reason: message, code };
}

// A plain port given as mqtts://, or a TLS port as mqtt://: each way the
// broker's first answer tells, and its silence may.
function describeScheme(
  error: Error | undefined,
  code: string | undefined,
  config: Config["mqtt"],
  connected: boolean,
): ConnectionFailure | undefined {
  const where = `${config.host}:${config.port}`;
  const plain = "use mqtt:// in MQTT_URL for a plain port";
  const tls = "use mqtts:// in MQTT_URL for a TLS port";
  if (config.protocol === "mqtts") {
    if (code === "ERR_SSL_WRONG_VERSION_NUMBER") {
      return { reason: `${where} answered without TLS, ${plain}`, code };
    }
    if (code === "ECONNRESET" && BEFORE_HANDSHAKE.test(error!.message)) {
      return {
        reason:
          `${where} closed the connection before the TLS handshake: likely a port without TLS, ${plain}`,
        code,
      };
    }
    return undefined;
  }
  if (code === TLS_ANSWER) return { reason: `${where} answered with TLS, ${tls}`, code };
  if (connected || (error !== undefined && code !== "ECONNRESET")) return undefined;
  // A close alone is no evidence of TLS: a broker at its connection limit,
  // a proxy or a firewall close before the CONNACK too. Only the port
  // registered for MQTT over TLS tips it.
  const closed = `${where} closed the connection before accepting it`;
  const reason = config.port === MQTT_TLS_PORT
    ? `${closed}: likely a TLS port (${MQTT_TLS_PORT} is MQTT's TLS port), ${tls}`
    : `${closed}: a TLS port (then use mqtts:// in MQTT_URL), a broker at its connection ` +
      "limit, or a proxy or firewall in between; the broker's log tells which";
  return code === undefined ? { reason } : { reason, code };
}

/**
 * Names a session taken over by another client with the same client id,
 * and what to do about it: certain where the broker said so (reason code
 * 142), likely where it only closed connections right after accepting
 * them, which a broker or proxy that cuts connections does too.
 */
export function describeTakeover(signs: TakeoverSigns, config: Config["mqtt"]): ConnectionFailure {
  const other = `another client with the same MQTT_CLIENT_ID "${config.clientId}"`;
  if (signs.told) {
    return {
      reason: `${other} took the session (reason code 142), give each agent its own MQTT_CLIENT_ID`,
      code: "142",
    };
  }
  return {
    reason: "the broker closed the connection right after accepting it, " +
      `${signs.closesInARow} times in a row: likely ${other} took the session, or a broker or ` +
      "proxy closes connections right after accepting them; the broker's log tells which",
  };
}
