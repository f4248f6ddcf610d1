/**
 * TLS to MySQL (MYSQL_SSL, MYSQL_SSL_CA, MYSQL_SSL_CERT, MYSQL_SSL_KEY): the settings are checked at
 * start-up with certificates and keys made by the real `openssl` command, the options handed to
 * mysql2 are the ones asked for, and against the real MariaDB a TLS setting is never quietly
 * dropped: without TLS on the server, the users directory and the sessions table refuse to talk.
 * A second, throw-away MariaDB with TLS on (test/support/tls-mariadb.ts) shows each mode really
 * connecting encrypted, a wrong CA refused, and a client certificate accepted.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createConnection, type RowDataPacket } from "mysql2/promise";
import { MysqlSessionStore } from "../../src/auth/php-session/mysql.js";
import { SessionStoreUnavailableError } from "../../src/auth/php-session/types.js";
import { loadConfig } from "../../src/config/index.js";
import { MysqlDirectory } from "../../src/users/mysql-directory.js";
import { DirectoryUnavailableError } from "../../src/users/types.js";
import { configProblems, requireService } from "../support/harness.js";
import { createTestDatabase, phpUsersTable, type TestDatabase } from "../support/mariadb.js";
import { startTlsMariaDb, type TlsMariaDb } from "../support/tls-mariadb.js";

const SESSION_ID = "s".repeat(40);
const BASE = { NODE_ENV: "test", AUTH_JWT_SECRET: "x".repeat(40), MYSQL_HOST: "db.internal" };

let dir: string;
const file = (name: string) => join(dir, name);

/** A self-signed certificate and its key, by openssl. */
function selfSigned(name: string, cn: string): void {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      file(`${name}.key`),
      "-out",
      file(`${name}.crt`),
      "-subj",
      `/CN=${cn}`,
      "-days",
      "2",
    ],
    { stdio: "ignore" },
  );
}

const problems = (env: Record<string, string>) => configProblems({ ...BASE, ...env });

before(() => {
  dir = mkdtempSync(join(tmpdir(), "twc-mysql-tls-"));
  selfSigned("ca", "TimeWise test CA");
  selfSigned("client", "chat");
  selfSigned("other", "someone else");
  // a key that needs a passphrase, as openssl writes it
  execFileSync("openssl", [
    "pkey",
    "-in",
    file("other.key"),
    "-aes256",
    "-passout",
    "pass:secret-pass",
    "-out",
    file("locked.key"),
  ]);
  writeFileSync(file("notes.txt"), "not a certificate\n");
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("MYSQL_SSL settings", () => {
  test("off by default: no ssl option", () => {
    assert.equal(loadConfig(BASE).mysql!.ssl, null);
  });

  test("verify with a CA, a client certificate and its key hands mysql2 exactly those", () => {
    const ssl = loadConfig({
      ...BASE,
      MYSQL_SSL: "verify",
      MYSQL_SSL_CA: file("ca.crt"),
      MYSQL_SSL_CERT: file("client.crt"),
      MYSQL_SSL_KEY: file("client.key"),
    }).mysql!.ssl;
    assert.deepEqual(ssl, {
      rejectUnauthorized: true,
      verifyIdentity: true,
      ca: readFileSync(file("ca.crt"), "utf8"),
      cert: readFileSync(file("client.crt"), "utf8"),
      key: readFileSync(file("client.key"), "utf8"),
    });
  });

  test("verify without a CA uses the system's CAs; required encrypts without checking the certificate", () => {
    assert.deepEqual(loadConfig({ ...BASE, MYSQL_SSL: "verify" }).mysql!.ssl, {
      rejectUnauthorized: true,
      verifyIdentity: true,
    });
    assert.deepEqual(loadConfig({ ...BASE, MYSQL_SSL: "required" }).mysql!.ssl, {
      rejectUnauthorized: false,
      verifyIdentity: false,
    });
  });

  const bad: [string, () => Record<string, string>, string][] = [
    ["an unknown mode", () => ({ MYSQL_SSL: "yes" }), "MYSQL_SSL"],
    ["TLS without MYSQL_HOST", () => ({ MYSQL_SSL: "verify", MYSQL_HOST: "" }), "MYSQL_SSL"],
    [
      "verify with an IP address as MYSQL_HOST",
      () => ({ MYSQL_SSL: "verify", MYSQL_HOST: "10.0.0.5" }),
      "MYSQL_HOST",
    ],
    ["a CA file without MYSQL_SSL", () => ({ MYSQL_SSL_CA: file("ca.crt") }), "MYSQL_SSL_CA"],
    [
      "a CA file that does not exist",
      () => ({ MYSQL_SSL: "verify", MYSQL_SSL_CA: file("nope.crt") }),
      "MYSQL_SSL_CA",
    ],
    [
      "a CA file that is not a certificate",
      () => ({ MYSQL_SSL: "verify", MYSQL_SSL_CA: file("notes.txt") }),
      "MYSQL_SSL_CA",
    ],
    [
      "a certificate without its key",
      () => ({ MYSQL_SSL: "verify", MYSQL_SSL_CERT: file("client.crt") }),
      "MYSQL_SSL_KEY",
    ],
    [
      "a key without its certificate",
      () => ({ MYSQL_SSL: "verify", MYSQL_SSL_KEY: file("client.key") }),
      "MYSQL_SSL_CERT",
    ],
    [
      "a key that belongs to another certificate",
      () => ({ MYSQL_SSL: "verify", MYSQL_SSL_CERT: file("client.crt"), MYSQL_SSL_KEY: file("other.key") }),
      "MYSQL_SSL_KEY",
    ],
    [
      "a key locked with a passphrase",
      () => ({ MYSQL_SSL: "verify", MYSQL_SSL_CERT: file("other.crt"), MYSQL_SSL_KEY: file("locked.key") }),
      "MYSQL_SSL_KEY",
    ],
    [
      "a certificate file given as the key",
      () => ({ MYSQL_SSL: "verify", MYSQL_SSL_CERT: file("client.crt"), MYSQL_SSL_KEY: file("client.crt") }),
      "MYSQL_SSL_KEY",
    ],
  ];
  for (const [name, env, variable] of bad) {
    test(`${name}: one line naming ${variable}`, () => {
      const lines = problems(env());
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.ok(lines[0]!.startsWith(`${variable}:`), lines[0]);
      assert.ok(!lines[0]!.includes("PRIVATE KEY"), "a key's content is never printed");
    });
  }
});

const noMariaDb = await requireService("mariadb");

describe("MYSQL_SSL against the real MariaDB", { skip: noMariaDb }, () => {
  let db: TestDatabase;
  let serverTls = false;

  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
    await db.conn.query("INSERT INTO users (username, first_name) VALUES ('ann', 'Ann')");
    await db.conn.query(
      "CREATE TABLE sessions (id VARCHAR(255) PRIMARY KEY, payload LONGTEXT NOT NULL, last_activity INT NOT NULL)",
    );
    const [rows] = await db.conn.query<RowDataPacket[]>("SHOW VARIABLES LIKE 'have_ssl'");
    serverTls = rows[0]?.Value === "YES";
  });
  after(async () => {
    await db?.drop();
  });

  const configFor = (env: Record<string, string>) =>
    loadConfig({ ...db.env, AUTH_JWT_SECRET: "x".repeat(40), USERS_NAME_COLUMN: "first_name", ...env });

  test("without MYSQL_SSL the directory reads users (the control)", async () => {
    const config = configFor({});
    const directory = new MysqlDirectory(config.mysql!, config.users);
    try {
      assert.equal((await directory.findByLogin("ann"))?.name, "Ann");
    } finally {
      await directory.close();
    }
  });

  test("MYSQL_SSL=required never falls back to a plain connection, for users and for sessions", async (t) => {
    if (serverTls) return t.skip("the test MariaDB offers TLS");
    const config = configFor({ MYSQL_SSL: "required", PHP_SESSION_STORE: "mysql" });
    const directory = new MysqlDirectory(config.mysql!, config.users);
    const sessions = new MysqlSessionStore(config.mysql!, config.phpSession!);
    try {
      await assert.rejects(directory.findByLogin("ann"), (error: Error) => {
        assert.ok(error instanceof DirectoryUnavailableError);
        // the explanation /ready and the logs give
        assert.match(String((error.cause as Error).message), /does not offer TLS, which MYSQL_SSL asks for/);
        return true;
      });
      await assert.rejects(sessions.load("a".repeat(40)), SessionStoreUnavailableError);
    } finally {
      await Promise.all([directory.close(), sessions.close()]);
    }
  });
});

describe("MYSQL_SSL against a MariaDB with TLS on (a throw-away server of the test's own)", {
  skip: noMariaDb,
}, () => {
  let server: TlsMariaDb;

  before(async () => {
    server = await startTlsMariaDb();
    // a Laravel-style session row: base64 of the serialized session
    const payload = Buffer.from('user_id|s:1:"1";').toString("base64");
    await server.root.query("INSERT INTO twc.sessions VALUES (?, ?, ?)", [
      SESSION_ID,
      payload,
      Math.floor(Date.now() / 1000),
    ]);
  });
  after(async () => {
    await server?.stop();
  });

  const configFor = (env: Record<string, string>) =>
    loadConfig({ AUTH_JWT_SECRET: "x".repeat(40), USERS_NAME_COLUMN: "first_name", ...server.env, ...env });

  /** Reads ann through a real directory built from `config`, and closes it. */
  async function readAnn(config: ReturnType<typeof loadConfig>): Promise<string | undefined> {
    const directory = new MysqlDirectory(config.mysql!, config.users);
    try {
      return (await directory.findByLogin("ann"))?.name;
    } finally {
      await directory.close();
    }
  }

  test("the server refuses its users a plain connection (so a working one is encrypted)", async () => {
    const config = configFor({});
    await assert.rejects(readAnn(config), (error: Error) => {
      assert.ok(error instanceof DirectoryUnavailableError);
      assert.match(String((error.cause as Error).message), /refused the login/);
      return true;
    });
  });

  test("MYSQL_SSL=required connects over TLS and reads a user", async () => {
    assert.equal(await readAnn(configFor({ MYSQL_SSL: "required" })), "Ann");
  });

  test("the same settings give a connection the server reports as encrypted", async () => {
    // mysql2 with the options the chat hands it, asking the server about this very connection
    const config = configFor({ MYSQL_SSL: "verify", MYSQL_SSL_CA: server.caPath });
    const mysql = config.mysql!;
    const conn = await createConnection({
      host: mysql.host,
      port: mysql.port,
      user: mysql.user,
      password: mysql.password,
      ssl: { ...mysql.ssl! },
    });
    try {
      const [rows] = await conn.query<RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
      assert.match(String(rows[0]?.Value), /^TLS_|^ECDHE-/);
    } finally {
      await conn.end();
    }
  });

  test("MYSQL_SSL=verify with the CA that signed the server's certificate connects", async () => {
    assert.equal(await readAnn(configFor({ MYSQL_SSL: "verify", MYSQL_SSL_CA: server.caPath })), "Ann");
  });

  test("MYSQL_SSL=required still takes an IP address as MYSQL_HOST", async () => {
    assert.equal(await readAnn(configFor({ MYSQL_SSL: "required", MYSQL_HOST: "127.0.0.1" })), "Ann");
  });

  test("MYSQL_SSL=verify with another CA is refused, saying to check MYSQL_SSL_CA", async () => {
    const config = configFor({ MYSQL_SSL: "verify", MYSQL_SSL_CA: server.otherCaPath });
    await assert.rejects(readAnn(config), (error: Error) => {
      assert.ok(error instanceof DirectoryUnavailableError);
      assert.match(String((error.cause as Error).message), /not from a trusted CA\. Check MYSQL_SSL_CA/);
      return true;
    });
  });

  test("MYSQL_SSL=verify without MYSQL_SSL_CA (the system's CAs) refuses the test CA's server", async () => {
    await assert.rejects(readAnn(configFor({ MYSQL_SSL: "verify" })), (error: Error) => {
      assert.ok(error instanceof DirectoryUnavailableError);
      assert.match(String((error.cause as Error).message), /not from a trusted CA\. Check MYSQL_SSL_CA/);
      return true;
    });
  });

  test("the PHP sessions table is read over TLS too", async () => {
    const config = configFor({
      MYSQL_SSL: "verify",
      MYSQL_SSL_CA: server.caPath,
      PHP_SESSION_STORE: "mysql",
    });
    const sessions = new MysqlSessionStore(config.mysql!, config.phpSession!);
    try {
      const session = await sessions.load(SESSION_ID);
      assert.ok(session, "the session row is found");
      assert.equal(Buffer.from(session.data).toString("utf8"), 'user_id|s:1:"1";');
      assert.equal(session.expired, false);
    } finally {
      await sessions.close();
    }
  });

  test("a MySQL user that REQUIRE X509 signs in with MYSQL_SSL_CERT and MYSQL_SSL_KEY", async () => {
    const withCert = {
      ...server.x509Env,
      MYSQL_SSL: "verify",
      MYSQL_SSL_CA: server.caPath,
    };
    assert.equal(
      await readAnn(
        configFor({
          ...withCert,
          MYSQL_SSL_CERT: server.clientCertPath,
          MYSQL_SSL_KEY: server.clientKeyPath,
        }),
      ),
      "Ann",
    );
    // the control: without the certificate the same user is refused
    await assert.rejects(readAnn(configFor(withCert)), DirectoryUnavailableError);
  });
});
