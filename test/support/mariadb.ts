/**
 * The local MariaDB the user-directory tests run against (127.0.0.1:3306, root, no password;
 * override with TEST_MYSQL_HOST, TEST_MYSQL_PORT, TEST_MYSQL_USER, TEST_MYSQL_PASSWORD).
 * Every test file makes its own throw-away database, so files can run in parallel.
 */
import { randomBytes } from "node:crypto";
import { type Connection, createConnection } from "mysql2/promise";

/** Where the test MariaDB listens. */
export const TEST_MARIADB = {
  host: process.env.TEST_MYSQL_HOST ?? "127.0.0.1",
  port: Number(process.env.TEST_MYSQL_PORT ?? 3306),
  user: process.env.TEST_MYSQL_USER ?? "root",
  password: process.env.TEST_MYSQL_PASSWORD ?? "",
};

/** Why MariaDB cannot be used for the tests, or null when it answers. */
export async function mariaDbProblem(): Promise<string | null> {
  let conn: Connection | undefined;
  try {
    conn = await createConnection({ ...TEST_MARIADB, connectTimeout: 3000 });
    await conn.query("SELECT 1");
    return null;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `MariaDB at ${TEST_MARIADB.host}:${TEST_MARIADB.port} is not available (${reason})`;
  } finally {
    await conn?.end().catch(() => {});
  }
}

/** A database of its own for one test file; `drop` removes it and closes the connection. */
export interface TestDatabase {
  name: string;
  /** an open connection with this database selected */
  conn: Connection;
  /** MYSQL_* settings for `loadConfig` pointing at this database */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** Creates `twc_test_<random>` and connects to it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `twc_test_${randomBytes(6).toString("hex")}`;
  const conn = await createConnection({ ...TEST_MARIADB, multipleStatements: false });
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await conn.query(`USE \`${name}\``);
  return {
    name,
    conn,
    env: {
      MYSQL_HOST: TEST_MARIADB.host,
      MYSQL_PORT: String(TEST_MARIADB.port),
      MYSQL_USER: TEST_MARIADB.user,
      MYSQL_PASSWORD: TEST_MARIADB.password,
      MYSQL_DATABASE: name,
    },
    async drop() {
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await conn.end();
      }
    },
  };
}

/** DDL of a users table shaped like a typical PHP app's (the columns the tests map with USERS_*). */
export function phpUsersTable(table = "users"): string {
  return `
  CREATE TABLE \`${table}\` (
    id INT AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(100) NOT NULL UNIQUE,
    first_name VARCHAR(100) NULL,
    last_name VARCHAR(100) NULL,
    password VARCHAR(255) NULL,
    active TINYINT NOT NULL DEFAULT 1,
    company_id INT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}
