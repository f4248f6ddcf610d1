/**
 * A fresh PostgreSQL database for one test server or test file, on the local test server (user
 * root, trust), dropped (connections and all) when the test is done.
 *
 * Running every migration for each of the suite's hundreds of servers would cost more than the
 * tests, so `{ schema: "migrated" }` copies a template instead: one database per migration set
 * (`timewise_template_<hash of the SQL>`), migrated once and then only ever copied with
 * `CREATE DATABASE … TEMPLATE`. Test processes that start together build it under an advisory
 * lock, so it is built once; a changed migration gives a new hash, so a stale template is never
 * used. Databases left by a killed run are dropped by the next run after an hour: their name
 * carries the time they were made.
 */
import { createHash, randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { after } from "node:test";
import pg from "pg";
import { MIGRATIONS, migrate } from "../../src/storage/postgres/migrations.js";
import { openPool } from "../../src/storage/postgres/pool.js";
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

export interface TestDatabaseOptions {
  /** "empty" (the default: for tests of migrations and the store copy) or "migrated" (a copy of the template) */
  schema?: "empty" | "migrated";
}

/** Every test database starts with this, then the second it was made: `timewise_test_<s>_<prefix>_<random>`. */
export const TEST_DATABASE_PREFIX = "timewise_test_";
const TEMPLATE_PREFIX = "timewise_template_";
/** A test database this old belongs to a run that was killed before it could drop it. */
const LEFTOVER_AFTER_S = 60 * 60;
/** A template of other migrations (another branch, an older checkout) this old is no longer in use. */
const OLD_TEMPLATE_AFTER_S = 24 * 60 * 60;
/** pg_advisory_lock key, in the `postgres` database, for building templates and dropping leftovers. */
const SETUP_LOCK = 0x54574354;

/** The template for the migrations of this checkout: a new migration or an edited one gives a new name. */
export const TEMPLATE_NAME = `${TEMPLATE_PREFIX}${createHash("sha256")
  .update(JSON.stringify(MIGRATIONS))
  .digest("hex")
  .slice(0, 16)}`;

const nowS = () => Math.floor(Date.now() / 1000);

const newName = (prefix: string) =>
  `${TEST_DATABASE_PREFIX}${nowS()}_${prefix}_${randomBytes(4).toString("hex")}`;

export function createTestDatabase(prefix: string, options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  return createNamed(newName(prefix), options);
}

/**
 * The migrated database that goes with one SQLite path, for the PostgreSQL pass of tests that
 * restart a server on the same file (in this process or as a child): the same path gives the same
 * database, so a restart finds its data, as it would in the file. Its URL is known at once (for a
 * child's environment); `ready` settles once it exists. Dropped when the test file ends.
 */
export function databaseFor(sqlitePath: string): { url: string; ready: Promise<TestDatabase> } {
  const key = resolve(sqlitePath);
  let entry = byPath.get(key);
  if (!entry) {
    const name = newName("path");
    const ready = createNamed(name, { schema: "migrated" });
    // awaited by whoever starts the server; this only keeps a failure from being unhandled first
    ready.catch(() => {});
    entry = { url: postgresUrl(name), ready };
    byPath.set(key, entry);
  }
  return entry;
}

/** Waits for every database `databaseFor` has begun making. */
export async function pathDatabasesReady(): Promise<void> {
  await Promise.all([...byPath.values()].map((entry) => entry.ready));
}

const byPath = new Map<string, { url: string; ready: Promise<TestDatabase> }>();
after(async () => {
  const entries = [...byPath.values()];
  byPath.clear();
  for (const entry of entries) await (await entry.ready.catch(() => null))?.drop();
});

async function createNamed(name: string, options: TestDatabaseOptions): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: postgresUrl("postgres") });
  await admin.connect();
  try {
    if (options.schema === "migrated") await createFromTemplate(admin, name);
    else await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end();
    throw error;
  }
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

async function createFromTemplate(admin: pg.Client, name: string): Promise<void> {
  templateReady ??= prepareTemplate();
  await templateReady;
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_NAME}`);
  } catch (error) {
    // 3D000: another checkout's clean-up dropped it (it only drops templates a day old, but a
    // clock can jump): build it again, once for this process
    if ((error as { code?: string }).code !== "3D000") throw error;
    templateReady = prepareTemplate();
    await templateReady;
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_NAME}`);
  }
}

let templateReady: Promise<void> | undefined;

/**
 * Once per test process: under the setup lock, drops what killed runs left and builds the
 * template if no other process has. The template is built under another name and renamed
 * when complete, so a half-built one (its builder killed) is never copied.
 */
async function prepareTemplate(): Promise<void> {
  const admin = new pg.Client({ connectionString: postgresUrl("postgres") });
  await admin.connect();
  try {
    await admin.query("SELECT pg_advisory_lock($1)", [SETUP_LOCK]);
    await dropLeftovers(admin);
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [TEMPLATE_NAME]);
    if (rowCount) return;
    const building = `${TEMPLATE_PREFIX}building`;
    await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${building}`);
    const pool = openPool({ url: postgresUrl(building), max: 1 });
    try {
      await migrate(pool);
    } finally {
      await pool.end();
    }
    await admin.query(`ALTER DATABASE ${building} RENAME TO ${TEMPLATE_NAME}`);
    // the time it was made, for the clean-up of templates nobody uses any more
    await admin.query(`COMMENT ON DATABASE ${TEMPLATE_NAME} IS '${nowS()}'`);
  } finally {
    await admin.query("SELECT pg_advisory_unlock($1)", [SETUP_LOCK]).catch(() => {});
    await admin.end();
  }
}

/** Test databases over an hour old, and other checkouts' templates over a day old. */
async function dropLeftovers(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string; made: string | null }>(
    "SELECT datname, shobj_description(oid, 'pg_database') AS made FROM pg_database WHERE datname LIKE 'timewise\\_%'",
  );
  const now = nowS();
  for (const { datname, made } of rows) {
    const test = datname.startsWith(TEST_DATABASE_PREFIX)
      ? Number(datname.slice(TEST_DATABASE_PREFIX.length).split("_")[0])
      : Number.NaN;
    const oldTest = Number.isFinite(test) && now - test > LEFTOVER_AFTER_S;
    const oldTemplate =
      datname.startsWith(TEMPLATE_PREFIX) &&
      datname !== TEMPLATE_NAME &&
      datname !== `${TEMPLATE_PREFIX}building` &&
      now - Number(made ?? 0) > OLD_TEMPLATE_AFTER_S;
    if (!oldTest && !oldTemplate) continue;
    // still in use after all (a run over an hour long): leave it to that run
    await admin.query(`DROP DATABASE IF EXISTS ${datname}`).catch(() => {});
  }
}
