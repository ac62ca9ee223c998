/**
 * A throwaway PKI for TLS tests, made with openssl: a CA, a second CA that
 * signed nothing the broker uses, server certificates and client
 * certificates.
 *
 * @module
 */

import { which } from "./broker.ts";

/** Paths of the PEM files {@linkcode makeTestPki} wrote. */
export interface TestPki {
  dir: string;
  /** The CA that signs the server and client certificates. */
  caFile: string;
  /** A CA that signed none of them. */
  otherCaFile: string;
  /** Server certificate for IP 127.0.0.1 and DNS localhost, signed by the CA. */
  serverCertFile: string;
  serverKeyFile: string;
  /** Server certificate for DNS localhost only: not valid for 127.0.0.1. */
  nameOnlyCertFile: string;
  nameOnlyKeyFile: string;
  /** Client certificate signed by the CA. */
  clientCertFile: string;
  clientKeyFile: string;
  /** Client certificate signed by the other CA. */
  strangerCertFile: string;
  strangerKeyFile: string;
}

/** Whether openssl is on PATH. */
export function hasOpenssl(): boolean {
  return which("openssl") !== undefined;
}

/** Makes the certificates in a new temporary folder. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-pki-" });
  const path = (name: string) => `${dir}/${name}`;
  const ca = async (name: string, subject: string) => {
    await openssl([
      "req",
      "-x509",
      ...EC_KEY,
      "-keyout",
      path(`${name}.key`),
      "-out",
      path(`${name}.crt`),
      "-days",
      "2",
      "-subj",
      subject,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
  };
  const leaf = async (name: string, issuer: string, subject: string, extensions: string) => {
    await openssl([
      "req",
      ...EC_KEY,
      "-keyout",
      path(`${name}.key`),
      "-out",
      path(`${name}.csr`),
      "-subj",
      subject,
    ]);
    await Deno.writeTextFile(path(`${name}.ext`), extensions);
    await openssl([
      "x509",
      "-req",
      "-in",
      path(`${name}.csr`),
      "-CA",
      path(`${issuer}.crt`),
      "-CAkey",
      path(`${issuer}.key`),
      "-CAcreateserial",
      "-out",
      path(`${name}.crt`),
      "-days",
      "2",
      "-extfile",
      path(`${name}.ext`),
    ]);
  };
  await ca("ca", "/CN=ammp-agent test CA");
  await ca("other-ca", "/CN=ammp-agent other CA");
  const server = "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n";
  const client = "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n";
  await leaf(
    "server",
    "ca",
    "/CN=localhost",
    `${server}subjectAltName=IP:127.0.0.1,DNS:localhost\n`,
  );
  await leaf("name-only", "ca", "/CN=localhost", `${server}subjectAltName=DNS:localhost\n`);
  await leaf("client", "ca", "/CN=ammp-agent", client);
  await leaf("stranger", "other-ca", "/CN=stranger", client);
  return {
    dir,
    caFile: path("ca.crt"),
    otherCaFile: path("other-ca.crt"),
    serverCertFile: path("server.crt"),
    serverKeyFile: path("server.key"),
    nameOnlyCertFile: path("name-only.crt"),
    nameOnlyKeyFile: path("name-only.key"),
    clientCertFile: path("client.crt"),
    clientKeyFile: path("client.key"),
    strangerCertFile: path("stranger.crt"),
    strangerKeyFile: path("stranger.key"),
  };
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

async function openssl(args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
  }
}
