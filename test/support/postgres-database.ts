/**
 * A fresh PostgreSQL database for one test file, on the local test server (user root, trust):
 * created empty, and dropped (connections and all) when the file's tests are done.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { TEST_POSTGRES } from "./services.js";

/** The test server's URL for a database. */
export const postgresUrl = (database: string) =>
  `postgres://root@${TEST_POSTGRES.host}:${TEST_POSTGRES.port}/${database}`;

export interface TestDatabase {
  name: string;
  url: string;
  /** Runs SQL as the test's own superuser (terminating connections, holding locks). */
  admin: pg.Client;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `twc_${prefix}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresUrl("postgres") });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  return {
    name,
    url: postgresUrl(name),
    admin,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
