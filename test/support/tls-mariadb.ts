/**
 * A second, throw-away MariaDB with TLS on, for the MYSQL_SSL tests: the shared test MariaDB has
 * TLS off, and turning it on there would change it for every other test. `startTlsMariaDb` makes a
 * CA and a server certificate for localhost with the real `openssl`, a fresh data folder with
 * `mariadb-install-db`, starts `mariadbd` on a free port and fills in a users and a sessions table.
 * Its users must use TLS (REQUIRE SSL / REQUIRE X509), so the server itself refuses a plain login:
 * a connection that works is encrypted, whatever the client thinks it did.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Connection, createConnection } from "mysql2/promise";
import { until } from "./wait.js";

const run = promisify(execFile);

/** Where mariadbd listens, and how its users are matched (--skip-name-resolve). */
const ADDRESS = "127.0.0.1";
/**
 * What the certificate names, and so MYSQL_HOST for MYSQL_SSL=verify. A name, not the address:
 * for an IP address mysql2 sends no server name and Node checks the certificate against "localhost".
 */
const HOST = "localhost";
const DATABASE = "twc";
/** A password user that must use TLS, and a user that must show a certificate from the CA. */
const TLS_USER = { user: "chat_tls", password: "tls-pass" };
const X509_USER = { user: "chat_x509", password: "x509-pass" };

/** The running server, its files, and how to reach it. */
export interface TlsMariaDb {
  host: string;
  port: number;
  /** PEM files: the CA that signed the server (and client) certificate, a client certificate and its key */
  caPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** a CA that signed nothing here, for the "wrong CA" case */
  otherCaPath: string;
  /** MYSQL_* settings for the REQUIRE SSL user and the REQUIRE X509 user (without MYSQL_SSL*) */
  env: Record<string, string>;
  x509Env: Record<string, string>;
  /** root over the Unix socket, for setting up rows */
  root: Connection;
  /** the server's log, for failure messages */
  log(): string;
  /** SIGTERM, wait for the exit, remove every file. */
  stop(): Promise<void>;
}

/** Starts the server; throws with the server's log if it does not come up within `timeoutMs`. */
export async function startTlsMariaDb(timeoutMs = 30_000): Promise<TlsMariaDb> {
  const dir = mkdtempSync(join(tmpdir(), "twc-tls-db-"));
  const file = (name: string) => join(dir, name);
  let child: ChildProcess | undefined;
  const kill = () => child?.kill("SIGKILL");
  // a test run that dies half-way must not leave a MariaDB behind
  process.once("exit", kill);
  const log = () => {
    try {
      return readFileSync(file("server.log"), "utf8").split("\n").slice(-15).join("\n");
    } catch {
      return "(no log)";
    }
  };
  try {
    await makeCertificates(file);
    // --user only means something to a root process (mariadbd refuses to run as root without it)
    const asUser = process.getuid?.() === 0 ? ["--user=root"] : [];
    // a small InnoDB log and buffer keep the start quick; this server holds a few rows
    const small = ["--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M"];
    await run("mariadb-install-db", [
      "--no-defaults",
      `--datadir=${file("data")}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      ...asUser,
      ...small,
    ]);
    const port = await freePort();
    const socketPath = file("s.sock");
    const started = spawn(
      "mariadbd",
      [
        "--no-defaults",
        `--datadir=${file("data")}`,
        `--socket=${socketPath}`,
        `--port=${port}`,
        `--bind-address=${ADDRESS}`,
        `--pid-file=${file("server.pid")}`,
        `--log-error=${file("server.log")}`,
        // clients are matched by address, so the default anonymous ''@'localhost' never shadows them
        "--skip-name-resolve",
        `--ssl-ca=${file("ca.crt")}`,
        `--ssl-cert=${file("server.crt")}`,
        `--ssl-key=${file("server.key")}`,
        ...asUser,
        ...small,
      ],
      { stdio: "ignore" },
    );
    child = started;
    let exited = false;
    started.once("exit", () => {
      exited = true;
    });
    let root: Connection | undefined;
    await until(
      async () => {
        if (exited) throw new Error(`mariadbd exited while starting:\n${log()}`);
        root = await createConnection({ socketPath, user: "root" }).catch(() => undefined);
        return root !== undefined;
      },
      timeoutMs,
      "the TLS MariaDB to answer",
    );
    const conn = root as Connection;
    await setUp(conn);
    const envOf = (who: { user: string; password: string }) => ({
      MYSQL_HOST: HOST,
      MYSQL_PORT: String(port),
      MYSQL_USER: who.user,
      MYSQL_PASSWORD: who.password,
      MYSQL_DATABASE: DATABASE,
    });
    return {
      host: HOST,
      port,
      caPath: file("ca.crt"),
      clientCertPath: file("client.crt"),
      clientKeyPath: file("client.key"),
      otherCaPath: file("other-ca.crt"),
      env: envOf(TLS_USER),
      x509Env: envOf(X509_USER),
      root: conn,
      log,
      async stop() {
        await conn.end().catch(() => {});
        if (!exited) {
          const gone = new Promise((resolve) => started.once("exit", resolve));
          started.kill("SIGTERM");
          const slow = setTimeout(kill, 20_000);
          await gone;
          clearTimeout(slow);
        }
        process.removeListener("exit", kill);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    kill();
    process.removeListener("exit", kill);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The tables the MYSQL_SSL tests read, one user (ann) and one session, and the two TLS-only logins. */
async function setUp(root: Connection): Promise<void> {
  const statements = [
    `CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    `CREATE TABLE ${DATABASE}.users (id INT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(100) NOT NULL UNIQUE,
      first_name VARCHAR(100) NULL, password VARCHAR(255) NULL, active TINYINT NOT NULL DEFAULT 1)`,
    `INSERT INTO ${DATABASE}.users (username, first_name) VALUES ('ann', 'Ann')`,
    `CREATE TABLE ${DATABASE}.sessions (id VARCHAR(255) PRIMARY KEY, payload LONGTEXT NOT NULL, last_activity INT NOT NULL)`,
    `CREATE USER '${TLS_USER.user}'@'${ADDRESS}' IDENTIFIED BY '${TLS_USER.password}' REQUIRE SSL`,
    `CREATE USER '${X509_USER.user}'@'${ADDRESS}' IDENTIFIED BY '${X509_USER.password}' REQUIRE X509`,
    `GRANT SELECT ON ${DATABASE}.* TO '${TLS_USER.user}'@'${ADDRESS}', '${X509_USER.user}'@'${ADDRESS}'`,
  ];
  for (const sql of statements) await root.query(sql);
}

/** A CA, a server certificate it signs for localhost, a client certificate it signs, and an unrelated CA. */
async function makeCertificates(file: (name: string) => string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const selfSigned = (name: string, cn: string) =>
    run("openssl", [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      file(`${name}.key`),
      "-out",
      file(`${name}.crt`),
      "-subj",
      `/CN=${cn}`,
      "-days",
      "2",
    ]);
  await Promise.all([selfSigned("ca", "TimeWise Chat test CA"), selfSigned("other-ca", "Another CA")]);
  writeFileSync(file("server.ext"), `subjectAltName=DNS:${HOST}\n`);
  const signed = async (name: string, cn: string, ext: string[]) => {
    await run("openssl", [
      "req",
      ...ec,
      "-keyout",
      file(`${name}.key`),
      "-out",
      file(`${name}.csr`),
      "-subj",
      `/CN=${cn}`,
    ]);
    await run("openssl", [
      "x509",
      "-req",
      "-in",
      file(`${name}.csr`),
      "-CA",
      file("ca.crt"),
      "-CAkey",
      file("ca.key"),
      "-CAcreateserial",
      "-out",
      file(`${name}.crt`),
      "-days",
      "2",
      ...ext,
    ]);
  };
  // one after the other: both write the CA's serial file
  await signed("server", HOST, ["-extfile", file("server.ext")]);
  await signed("client", "chat", []);
}

/** A TCP port nobody listens on right now (asked of the OS, then released for mariadbd). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, ADDRESS, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
