/**
 * MYSQL_SSL, MYSQL_SSL_CA, MYSQL_SSL_CERT and MYSQL_SSL_KEY: TLS to the PHP app's MySQL/MariaDB.
 * The files are read and checked at start-up, so a wrong path or a key that does not fit its
 * certificate stops the server with one line instead of failing at the first sign-in.
 * The key file's content is a secret: only its path is ever printed.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";

/** What mysql2's `ssl` option gets for every pool (users and PHP sessions). */
export interface MysqlTlsConfig {
  /** false for MYSQL_SSL=required: encrypted, but any certificate is taken */
  rejectUnauthorized: boolean;
  /** the certificate must name MYSQL_HOST (MYSQL_SSL=verify) */
  verifyIdentity: boolean;
  /** PEM texts; an unset CA means the system's trusted CAs */
  ca?: string;
  cert?: string;
  key?: string;
}

/** MYSQL_SSL: no TLS, TLS without checking the certificate, or TLS with a checked certificate. */
export type MysqlSslMode = "off" | "required" | "verify";

/** The MYSQL_SSL* settings as read, and MYSQL_HOST (TLS needs a MySQL to talk to). */
export interface MysqlTlsSettings {
  mode: MysqlSslMode;
  host: string | undefined;
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
}

/** The TLS options, or null without TLS. Pushes one line per bad variable onto `problems`. */
export function parseMysqlTls(s: MysqlTlsSettings, problems: string[]): MysqlTlsConfig | null {
  const files = { MYSQL_SSL_CA: s.ca, MYSQL_SSL_CERT: s.cert, MYSQL_SSL_KEY: s.key };
  if (s.mode === "off") {
    for (const [name, path] of Object.entries(files)) {
      if (path !== undefined) problems.push(`${name}: needs MYSQL_SSL=verify (or required)`);
    }
    return null;
  }
  if (!s.host) {
    problems.push("MYSQL_SSL: needs MYSQL_HOST (TLS is for the PHP app's MySQL)");
    return null;
  }
  const before = problems.length;
  if (s.mode === "verify" && isIP(s.host) !== 0) {
    // mysql2 sends no server name for an address, and Node then checks the certificate against
    // "localhost": a certificate naming the address is refused, one naming localhost is taken.
    problems.push("MYSQL_HOST: MYSQL_SSL=verify needs a host name the certificate lists, not an IP address");
  }
  if ((s.cert === undefined) !== (s.key === undefined)) {
    const missing = s.cert === undefined ? "MYSQL_SSL_CERT" : "MYSQL_SSL_KEY";
    problems.push(
      `${missing}: MYSQL_SSL_CERT and MYSQL_SSL_KEY go together (a client certificate and its key)`,
    );
  }
  const ca = s.ca === undefined ? undefined : readPem("MYSQL_SSL_CA", s.ca, problems, asCertificate);
  const cert = s.cert === undefined ? undefined : readPem("MYSQL_SSL_CERT", s.cert, problems, asCertificate);
  const key = s.key === undefined ? undefined : readPem("MYSQL_SSL_KEY", s.key, problems, asPrivateKey);
  if (cert?.parsed && key?.parsed && !cert.parsed.checkPrivateKey(key.parsed)) {
    problems.push("MYSQL_SSL_KEY: is not the key of the certificate in MYSQL_SSL_CERT");
  }
  if (problems.length > before) return null;
  const verify = s.mode === "verify";
  return {
    rejectUnauthorized: verify,
    verifyIdentity: verify,
    ...(ca ? { ca: ca.text } : {}),
    ...(cert ? { cert: cert.text } : {}),
    ...(key ? { key: key.text } : {}),
  };
}

/** A PEM file's text and what it parses to, or null after pushing a problem. */
function readPem<T>(
  name: string,
  path: string,
  problems: string[],
  parse: (text: string) => T | null,
): { text: string; parsed: T } | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code ?? "error";
    problems.push(`${name}: cannot read ${JSON.stringify(path)} (${code})`);
    return null;
  }
  const parsed = parse(text);
  if (parsed === null) {
    const what = name === "MYSQL_SSL_KEY" ? "a PEM private key without a passphrase" : "a PEM certificate";
    problems.push(`${name}: ${JSON.stringify(path)} is not ${what}`);
    return null;
  }
  return { text, parsed };
}

function asCertificate(text: string): X509Certificate | null {
  try {
    return new X509Certificate(text);
  } catch {
    return null;
  }
}

function asPrivateKey(text: string): KeyObject | null {
  try {
    return createPrivateKey(text);
  } catch {
    return null;
  }
}
